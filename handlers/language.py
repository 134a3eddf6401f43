"""Which language each user reads, remembered in memory so an update needs no extra read.

Only one process long-polls a bot's updates, and language changes go through it
(`on_language_chosen`), so this memory cannot go stale.
"""

from __future__ import annotations

from collections import OrderedDict

from store.domain.model import Language


class LanguageMemory:
    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._known: OrderedDict[int, Language] = OrderedDict()

    def get(self, user_id: int) -> Language | None:
        language = self._known.get(user_id)
        if language is not None:
            self._known.move_to_end(user_id)
        return language

    def remember(self, user_id: int, language: Language) -> None:
        self._known[user_id] = language
        self._known.move_to_end(user_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
