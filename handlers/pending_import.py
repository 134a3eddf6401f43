"""Key files an admin may still import in part: a refused file's "import the good lines" offer.

Held in memory, like the languages: only one process long-polls the bot, and the offer is for
the admin who sent the file, soon after. After a restart the button asks for the file again.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PendingImport:
    admin_id: int
    sku: str
    file_name: str
    download: Callable[[], Awaitable[bytes]]
    """The same file again: Telegram keeps it, so nothing of it is held here."""


class PendingImports:
    def __init__(self, capacity: int = 100) -> None:
        self._capacity = capacity
        self._offers: OrderedDict[int, PendingImport] = OrderedDict()
        self._numbers = itertools.count(1)

    def offer(self, pending: PendingImport) -> int:
        """The number the button carries."""
        number = next(self._numbers)
        self._offers[number] = pending
        while len(self._offers) > self._capacity:
            self._offers.popitem(last=False)
        return number

    def take(self, number: int, admin_id: int) -> PendingImport | None:
        """The offer, once, and only to the admin it was made to."""
        pending = self._offers.get(number)
        if pending is None or pending.admin_id != admin_id:
            return None
        del self._offers[number]
        return pending
