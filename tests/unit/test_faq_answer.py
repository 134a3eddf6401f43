"""Answers rendered in the buyer's language with the shop's settings."""

from __future__ import annotations

import pytest

from faq.answer import render_answer
from faq.knowledge import Entry

ENTRY = Entry(
    "business_hours",
    {"zh": ("几点上班",), "en": ("opening hours",)},
    {
        "zh": "{shop_name} 的值班时间：{support_hours}。",
        "en": "{shop_name} is staffed {support_hours}.",
    },
)


def test_an_answer_is_rendered_with_the_shops_settings() -> None:
    entry = ENTRY
    values = {"shop_name": "Kamibot", "support_hours": "09:00-23:00"}
    assert render_answer(entry, "en", values) == "Kamibot is staffed 09:00-23:00."
    assert render_answer(entry, "zh", values) == "Kamibot 的值班时间：09:00-23:00。"


def test_rendering_without_a_needed_setting_names_the_placeholder() -> None:
    entry = Entry("x", {"zh": (), "en": ()}, {"zh": "{shop_name}", "en": "{shop_name}"})
    with pytest.raises(KeyError, match="shop_name"):
        render_answer(entry, "en", {})


def test_braces_in_values_are_not_expanded_again() -> None:
    entry = Entry("x", {"zh": (), "en": ()}, {"zh": "{shop_name}", "en": "{shop_name}"})
    assert render_answer(entry, "en", {"shop_name": "{support_hours}"}) == "{support_hours}"
