"""Order references: random, easy to read out, and read back however a person types them."""

from __future__ import annotations

import re

from store.domain.reference import ALPHABET, new_reference, parse_reference

WRITTEN = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}$")


def test_a_new_reference_is_two_groups_of_four_from_the_alphabet() -> None:
    for _ in range(200):
        assert WRITTEN.match(new_reference())


def test_the_alphabet_has_no_look_alikes() -> None:
    assert not set(ALPHABET) & set("0O1ILU")
    assert len(set(ALPHABET)) == len(ALPHABET) == 30


def test_new_references_do_not_repeat_in_practice() -> None:
    assert len({new_reference() for _ in range(2000)}) == 2000


def test_a_reference_reads_back_as_itself() -> None:
    ref = new_reference()
    assert parse_reference(ref) == ref


def test_case_spaces_and_dashes_do_not_matter() -> None:
    for typed in ("k7f3-2qx9", "K7F32QX9", " k7f3 2qx9 ", "K7-F3-2Q-X9", "K7F3--2QX9", "k7f3–2qx9"):
        assert parse_reference(typed) == "K7F3-2QX9"


def test_look_alikes_are_read_as_crockford_reads_them_and_then_refused() -> None:
    # O reads as 0 and I, L as 1; no reference holds either digit, so none can be meant
    for typed in ("K7F3-2QXO", "K7F3-2QX0", "K7F3-2QXI", "K7F3-2QXl", "K7F3-2QX1"):
        assert parse_reference(typed) is None


def test_anything_else_is_not_a_reference() -> None:
    nots = ("", "3", "#3", "K7F3-2QX", "K7F3-2QX9A", "K7F3-2QXU", "订单K7F3-2QX9", "K7F3/2QX9")
    for typed in nots:
        assert parse_reference(typed) is None
