"""Callback data is parsed against a fixed grammar and never over 64 bytes."""

from __future__ import annotations

import pytest

from handlers.callback import ForgedCallback, decode, encode


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
