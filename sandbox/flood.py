"""Flood control like Telegram's: a sliding one-second window per chat and for the whole bot.

The defaults (20 messages per chat and 30 per bot in any one second) are lenient: a bot that
paces itself at about one message per second per chat, with short bursts, is never refused.
Tests pass strict numbers and a fake clock to see a 429 without sleeping.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from sandbox.errors import too_many_requests

Clock = Callable[[], float]
"""Monotonic seconds; `time.monotonic` in production, a fake in tests."""

DEFAULT_PER_CHAT_BURST = 20
DEFAULT_PER_BOT_PER_SECOND = 30
WINDOW_SECONDS = 1.0


class FloodControl:
    def __init__(
        self,
        clock: Clock,
        per_chat_burst: int = DEFAULT_PER_CHAT_BURST,
        per_bot_per_second: int = DEFAULT_PER_BOT_PER_SECOND,
    ) -> None:
        if per_chat_burst < 1 or per_bot_per_second < 1:
            raise ValueError("flood limits must be at least 1")
        self._clock = clock
        self.per_chat_burst = per_chat_burst
        self.per_bot_per_second = per_bot_per_second
        self._per_chat: dict[int, deque[float]] = {}
        self._per_bot: deque[float] = deque()

    def check(self, chat_id: int) -> None:
        """Count one outgoing message or edit to `chat_id`, or raise a 429 and count nothing."""
        now = self._clock()
        chat_window = self._per_chat.setdefault(chat_id, deque())
        for window in (chat_window, self._per_bot):
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
        for window, limit in (
            (chat_window, self.per_chat_burst),
            (self._per_bot, self.per_bot_per_second),
        ):
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
                raise too_many_requests(retry_after)
        chat_window.append(now)
        self._per_bot.append(now)
