"""Support's rules: agents' capacity and response targets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_USER_ID = 2**52
"""Telegram's user ids have at most 52 significant bits (and the columns hold 64)."""


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
