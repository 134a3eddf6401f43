"""Order references: what a buyer and an agent call an order, e.g. ``K7F3-2QX9``.

Random (from `secrets`), so they say nothing about how many orders the shop takes; written in
Crockford's alphabet without U, so no two characters look or sound alike when read out.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Digits and capitals without 0 O 1 I L U: nothing that reads as something else."""

LENGTH = 8
"""Characters, written as two groups of four: 30^8, some 6.6e11, references."""

WIDTH = LENGTH + 1
"""As stored and shown, with its dash."""

# What a person may type for a character: Crockford's reading of look-alikes.
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_IGNORED = " -_\t\u00a0\u2010\u2011\u2012\u2013\u2014\u2212"


def new_reference() -> str:
    """A fresh random reference, ``XXXX-XXXX``; the caller makes sure it is unused."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return _written(raw)


def parse_reference(text: str) -> str | None:
    """The reference a person typed, written canonically; None if it cannot be one.

    Case, spaces and dashes do not matter. O reads as 0 and I, L as 1; since neither digit is
    ever issued, a reference that still holds one after that reading is refused, as is a U.
    """
    raw = "".join(ch for ch in text.strip().upper() if ch not in _IGNORED)
    raw = "".join(_READ_AS.get(ch, ch) for ch in raw)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return _written(raw)


def _written(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:]}"
