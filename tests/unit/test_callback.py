"""Callback data is parsed against a fixed grammar and never over 64 bytes."""

from __future__ import annotations

import string

import pytest

from handlers.callback import ForgedCallback, decode, encode
from store.domain.reference import ALPHABET, parse_reference


def test_a_button_round_trips() -> None:
    assert decode(encode("buy", "STEAM-50", 2)).args == ("STEAM-50", "2")


@pytest.mark.parametrize(
    "data",
    ["", "buy", "buy:STEAM 50:1", "keys:-1", "keys:1:2", "lang:fr", "é" * 40, "order:" + "9" * 12],
)
def test_anything_outside_the_grammar_is_forged(data: str) -> None:
    with pytest.raises(ForgedCallback):
        decode(data)


def test_encoding_refuses_data_no_button_could_carry() -> None:
    with pytest.raises(ValueError):
        encode("buy", "A" * 40, 1)


@pytest.mark.parametrize(
    "data",
    ["keys:١", "keys:۱۲", "order:１", "buy:STEAM-50:२", "rate:1:５", "cat:game:٠", "keys:1\n"],
    ids=["arabic-indic", "persian", "fullwidth", "devanagari", "fullwidth-rating", "page", "eol"],
)
def test_only_ascii_digits_are_numbers_in_a_button(data: str) -> None:
    with pytest.raises(ForgedCallback):
        decode(data)


def test_a_number_in_a_button_is_read_as_the_plain_integer_it_spells() -> None:
    assert decode("badk:0012:7").number() == 12
    assert decode("badk:0012:7").number(1) == 7
    assert decode("order:999999999").number() == 999_999_999


def test_an_order_is_named_by_a_reference_written_in_the_references_alphabet() -> None:
    for ch in ALPHABET:
        reference = f"{ch * 4}-{ch * 4}"
        assert parse_reference(reference) == reference
        assert decode(f"keys:{reference}").references() == {0: reference}
    for ch in sorted(set(string.digits + string.ascii_uppercase) - set(ALPHABET)):
        with pytest.raises(ForgedCallback):
            decode(f"keys:{ch * 4}-{ch * 4}")


def test_an_old_button_naming_an_order_by_id_still_parses_and_names_no_reference() -> None:
    assert decode("keys:3").references() == {}
    assert decode("agrefok:K7F3-2QX9:300").references() == {0: "K7F3-2QX9"}
    assert decode("badr:K7F3-2QX9:12:invalid").references() == {0: "K7F3-2QX9"}
