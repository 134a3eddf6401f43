"""Texts escape every value they are given, and fit Telegram's limits (test_text_catalogs says
that every text exists in every language)."""

from __future__ import annotations

import html

import pytest

from handlers.text import (
    Markup,
    MissingText,
    escape,
    fitted,
    say,
    say_plain,
    shorten,
    visible_length,
)
from store.domain.model import Language


def test_a_text_key_no_catalog_holds_raises_rather_than_showing_the_key_to_a_buyer() -> None:
    with pytest.raises(MissingText):
        say(Language.ZH_HANT, "no.such.text")


def test_values_are_html_escaped_but_markup_is_kept() -> None:
    rendered = say(Language.EN, "admin.alert", body="<b>&")
    assert rendered == "🚨 &lt;b&gt;&amp;"
    assert say(Language.EN, "admin.alert", body=Markup("<b>x</b>")) == "🚨 <b>x</b>"


def test_telegram_language_codes_for_taiwan_hong_kong_and_traditional_mean_traditional() -> None:
    for code in ("zh-hant", "zh-TW", "zh-hk", "zh_Hant_HK", "zh-mo"):
        assert Language.from_telegram(code) is Language.ZH_HANT, code
    for code in ("zh-hans", "zh", "zh-CN", "zh-sg"):
        assert Language.from_telegram(code) is Language.ZH, code
    for other in ("en", "de", None, ""):
        assert Language.from_telegram(other) is Language.EN, other


def test_the_same_text_reads_in_each_language() -> None:
    assert say(Language.ZH, "menu.orders") == "📦 我的订单"
    assert say(Language.ZH_HANT, "menu.orders") == "📦 我的訂單"
    assert say(Language.EN, "menu.orders") == "📦 My orders"


def test_shorten_keeps_text_that_fits_and_marks_a_cut_with_an_ellipsis() -> None:
    assert shorten("short", 5) == "short"
    assert shorten("a longer text", 8) == "a longe…"
    assert len(shorten("x" * 10_000, 4096)) == 4096


def test_shorten_counts_as_telegram_may_so_emoji_never_push_a_text_past_the_limit() -> None:
    cut = shorten("😀" * 3000, 4096)  # each is two UTF-16 code units
    assert len(cut.encode("utf-16-le")) // 2 <= 4096 and cut.endswith("😀…")


def test_text_shortened_before_escaping_never_loses_half_an_entity() -> None:
    for size in range(1, 40):
        rendered = say(Language.EN, "admin.alert", body=shorten("&<>" * 20, size))
        assert escape(html.unescape(rendered)) == rendered
        assert len(html.unescape(rendered)) <= len("🚨 ") + size


def test_markup_is_not_shortened_because_that_could_cut_a_tag_or_an_entity() -> None:
    with pytest.raises(TypeError):
        shorten(Markup("<b>x</b>" * 10), 5)


def test_plain_text_fills_in_values_as_written() -> None:
    assert say_plain(Language.EN, "admin.alert", body="<b>&") == "🚨 <b>&"
    assert not isinstance(say_plain(Language.EN, "menu.shop"), Markup)


def test_plain_text_refuses_a_text_written_as_html_and_a_markup_value() -> None:
    with pytest.raises(ValueError, match="is HTML"):
        say_plain(Language.EN, "shop.categories")  # "<b>Shop</b>" would show its tags
    with pytest.raises(TypeError, match="Markup"):
        say_plain(Language.EN, "admin.alert", body=say(Language.EN, "menu.shop"))


def test_values_are_escaped_once_however_they_are_combined() -> None:
    name = "A&B <X> \"Q\" 'q'"
    once = "A&amp;B &lt;X&gt; &#34;Q&#34; &#39;q&#39;"
    said = say(Language.EN, "admin.alert", body=name)
    assert said == f"🚨 {once}"
    assert say(Language.EN, "admin.alert", body=said) == f"🚨 🚨 {once}"
    assert said + name == f"🚨 {once}{once}" and Markup("\n").join([said, name]).endswith(once)


def test_fitted_counts_html_once_parsed_and_plain_text_as_written() -> None:
    name = "&" * 300

    def html_line(cut: str) -> Markup:
        return say(Language.EN, "admin.alert", body=cut)

    def plain_line(cut: str) -> str:
        return f"{cut} ×1"

    html_fit = fitted(40, html_line, name)
    assert visible_length(html_fit) == 40 and html_fit.endswith("&amp;…")  # 🚨 counts two
    plain_fit = fitted(32, plain_line, name)
    assert len(plain_fit) == 32 and plain_fit.endswith("&… ×1")


def test_shorten_with_whole_words_cuts_between_words_not_inside_one() -> None:
    assert shorten("Genshin Impact: 60 Genesis Crystals", 32, whole_words=True) == (
        "Genshin Impact: 60 Genesis…"
    )
    assert shorten("Supercalifragilistic", 12, whole_words=True) == "Supercalifr…"
    assert shorten("Steam Wallet", 12, whole_words=True) == "Steam Wallet"
