"""Support's rules: agents' capacity, aliases and response targets."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_USER_ID = 2**52
"""Telegram's user ids have at most 52 significant bits (and the columns hold 64)."""


ALIAS_LENGTH = 16
"""An agent's alias, at most, in characters."""


def default_alias(number: int) -> str:
    """An agent's alias until they choose one: their number among agents, two digits ("07")."""
    return f"{number:02d}"


def chosen_alias(words: str) -> str | None:
    """An alias as an agent typed it (`/alias 小美`), its spaces tidied; None if it cannot be
    one: empty, longer than `ALIAS_LENGTH`, or holding control or invisible format characters."""
    alias = " ".join(words.split())
    if not alias or len(alias) > ALIAS_LENGTH:
        return None
    if any(unicodedata.category(c) in {"Cc", "Cf", "Co", "Cs"} for c in alias):
        return None
    return alias


@dataclass(frozen=True)
class SupportRules:
    capacity: int = 3
    first_response_minutes: int = 5
    next_response_minutes: int = 10


class ResponseTarget(StrEnum):
    FIRST = "first"
    """An agent's first reply to a ticket."""
    NEXT = "next"
    """An agent's reply to a buyer who wrote again."""


@dataclass(frozen=True)
class Breach:
    """A response target a ticket missed."""

    ticket_id: int
    target: ResponseTarget
