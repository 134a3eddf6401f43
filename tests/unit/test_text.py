"""Texts exist in both languages and escape every value they are given."""

from __future__ import annotations

import re

from handlers.text import TEXTS, Markup, say
from store.model import Language


def test_every_text_has_the_same_placeholders_in_both_languages() -> None:
    for key, (zh, en) in TEXTS.items():
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_values_are_html_escaped_but_markup_is_kept() -> None:
    rendered = say(Language.EN, "admin.alert", body="<b>&")
    assert rendered == "🚨 &lt;b&gt;&amp;"
    assert say(Language.EN, "admin.alert", body=Markup("<b>x</b>")) == "🚨 <b>x</b>"


def test_telegram_language_codes_starting_with_zh_mean_chinese() -> None:
    assert Language.from_telegram("zh-hans") is Language.ZH
    assert Language.from_telegram("zh-TW") is Language.ZH
    assert Language.from_telegram("en") is Language.EN
    assert Language.from_telegram(None) is Language.EN
