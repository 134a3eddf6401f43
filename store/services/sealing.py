"""What people type to support, at rest: sealed with the card-key cipher, opened to show."""

from __future__ import annotations

from dataclasses import replace

from store.domain.errors import UnreadableToken
from store.domain.model import (
    Case,
    Ticket,
)
from store.services.ports import KeyCipher

SUBJECT_ROOM = 200
"""tickets.subject is String(200): a subject is the sealed first words that fit in it."""


SEALED = "gAAAAA"
"""How every Fernet token starts (version byte and the first timestamp bytes)."""


def sealed_start(cipher: KeyCipher, text: str, room: int) -> tuple[str, str]:
    """The longest start of `text` whose sealed token fits a column of `room` characters:
    (that start, its token). Empty text stays empty."""
    if not text:
        return "", ""
    raw = text.encode()
    while True:
        words = raw.decode(errors="ignore")  # a cut inside a character drops that character
        token = cipher.seal(words)
        if len(token) <= room:
            return words, token
        # a token is about 4/3 of the bytes it seals: cut at least that much, then check again
        raw = raw[: len(raw) - max(1, (len(token) - room) * 3 // 4)]


def seal_text(cipher: KeyCipher, text: str, room: int | None = None) -> str:
    """What a person typed, as stored: sealed (the start that fits `room`, if given)."""
    if room is not None:
        return sealed_start(cipher, text, room)[1]
    return cipher.seal(text) if text else ""


def open_text(cipher: KeyCipher, stored: str) -> str:
    """What `seal_text` stored; a row written before sealing holds the plain text itself."""
    if not stored.startswith(SEALED):
        return stored
    try:
        return cipher.open(stored)
    except UnreadableToken:
        return stored  # plain text that happens to start like a token


def opened_case(case: Case, cipher: KeyCipher) -> Case:
    """The case as stored, its decision note opened (what the agent told the buyer)."""
    if not case.decision_note:
        return case
    return replace(case, decision_note=open_text(cipher, case.decision_note))


def opened_ticket(ticket: Ticket, cipher: KeyCipher) -> Ticket:
    return replace(ticket, subject=open_text(cipher, ticket.subject))
