"""The one way out: every message sent or edited goes through `OutgoingSender`, which paces calls
to Telegram's flood limits and retries them on 429 and on network errors."""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

T = TypeVar("T")

Clock = Callable[[], float]
"""Monotonic seconds; `time.monotonic` in production, virtual time in tests."""
Sleep = Callable[[float], Awaitable[None]]

log = logging.getLogger(__name__)

# A bucket this close to a whole token counts as having it; otherwise float rounding after an
# exact `sleep(wait)` could leave 0.9999999 tokens and a string of ever tinier sleeps.
_TOKEN_EPSILON = 1e-6


class SendError(Exception):
    """Base of every error an adapter raises for a call that Telegram did not accept."""


class RetryAfter(SendError):
    """Telegram answered 429: flood control, try again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds} s")
        self.seconds = seconds


class TransientSendError(SendError):
    """A network error or a 5xx: the same call may well succeed later."""


class PermanentSendError(SendError):
    """A 400, 403 and the like: retrying the same call will not help."""


# TimeoutError (asyncio's included, since 3.11) is an OSError; it is named for the reader.
_TRANSIENT_ERRORS = (TransientSendError, TimeoutError, OSError)


@dataclass(frozen=True)
class Limits:
    per_bot_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

    def __post_init__(self) -> None:
        if self.per_bot_per_second <= 0 or self.per_chat_per_second <= 0:
            raise ValueError("rates must be positive")
        if self.per_chat_burst < 1 or self.max_attempts < 1:
            raise ValueError("per_chat_burst and max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("backoff must not be negative")

    def backoff(self, retry: int) -> float:
        """The pause before transient retry number `retry` (counting from 0)."""
        return min(self.backoff_cap, self.backoff_base * 2.0**retry)


DEFAULT_LIMITS = Limits()


class Priority(IntEnum):
    """Who goes first when calls to different chats wait for the bot-wide limit.

    Order within one chat is always the order of submission, whatever the priority: a reply must
    not overtake the message it follows.
    """

    DELIVERY = 0
    REPLY = 1
    NOTICE = 2
    MARKETING = 3


@dataclass(frozen=True)
class SenderStats:
    sent: int = 0
    retried_after_429: int = 0
    transient_retries: int = 0
    failed: int = 0
    total_wait_seconds: float = 0.0
    """Summed over calls (pacing and retry pauses), so concurrent waits add up."""


class _TokenBucket:
    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now

    def ready_at(self, now: float) -> float:
        """When the next token is there; `now` if it already is."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return now if missing <= _TOKEN_EPSILON else now + missing / self._rate

    def full_at(self, now: float) -> float:
        self._refill(now)
        missing = self._capacity - self._tokens
        return now if missing <= _TOKEN_EPSILON else now + missing / self._rate

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0


@dataclass(eq=False)
class _Chat:
    chat_id: int
    bucket: _TokenBucket
    queue: deque[_Request] = field(default_factory=deque)
    paused_until: float = -math.inf


@dataclass(eq=False)
class _Request:
    chat: _Chat
    priority: Priority
    seq: int
    grant: asyncio.Future[None] | None = None
    asked_at: float = 0.0


class OutgoingSender:
    """Paces and retries outgoing calls; knows chats and calls, not Telegram frameworks.

    Pacing is two token buckets: one for the bot (1 s worth of capacity) and one per chat (a
    short burst, then `per_chat_per_second`). Each chat has a FIFO queue and at most one call in
    flight, so Telegram sees a chat's messages in order even when one of them is retried. A single
    dispatcher task hands out turns: it computes from the buckets when the next turn is due and
    sleeps until then or until something changes, so there is one timer however many calls wait,
    and the chats that wait for their own bucket never hold up the others.

    A 429 pauses only its chat for the seconds Telegram asked; the bot bucket is not touched (the
    refused call has already spent its token). Transient errors back off exponentially, also by
    pausing the chat, which keeps later calls behind the retry.
    """

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._bucket = _TokenBucket(
            limits.per_bot_per_second, max(1.0, limits.per_bot_per_second), clock()
        )
        self._chats: dict[int, _Chat] = {}
        # Chats with nothing queued whose bucket is still refilling, keyed by when they will be
        # indistinguishable from a chat never seen; entries may be stale and are re-checked.
        self._idle: list[tuple[float, int]] = []
        # Heads of chat queues waiting for a turn: `_ready` ones have their chat's token and wait
        # for the bot's; `_timed` ones wait for their chat's token or pause to run out.
        self._ready: list[tuple[int, int, _Request]] = []
        self._timed: list[tuple[float, int, _Request]] = []
        self._seq = 0
        self._dispatcher: asyncio.Task[None] | None = None
        self._nudge: asyncio.Future[None] | None = None
        self._sent = 0
        self._retried_after_429 = 0
        self._transient_retries = 0
        self._failed = 0
        self._total_wait = 0.0

    @property
    def stats(self) -> SenderStats:
        return SenderStats(
            sent=self._sent,
            retried_after_429=self._retried_after_429,
            transient_retries=self._transient_retries,
            failed=self._failed,
            total_wait_seconds=self._total_wait,
        )

    @property
    def tracked_chats(self) -> int:
        """How many chats the sender holds state for: those with calls queued or recently sent."""
        return len(self._chats)

    async def send(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority = Priority.REPLY,
        counts: bool = True,
    ) -> T:
        """Run `call` when the limits allow, retrying 429s and transient errors.

        `counts=False` is for answers Telegram does not count against chat limits (callback and
        pre-checkout queries): they skip pacing, which they cannot afford, but are still retried.
        """
        if not counts:
            return await self._attempt(chat_id, call, None)
        self._forget_idle_chats(self._clock())
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(
                chat_id,
                _TokenBucket(
                    self._limits.per_chat_per_second,
                    float(self._limits.per_chat_burst),
                    self._clock(),
                ),
            )
            self._chats[chat_id] = chat
        self._seq += 1
        request = _Request(chat, priority, self._seq)
        chat.queue.append(request)
        try:
            return await self._attempt(chat_id, call, request)
        finally:
            self._leave(request)

    async def _attempt(
        self, chat_id: int, call: Callable[[], Awaitable[T]], request: _Request | None
    ) -> T:
        attempt = 0
        transient = 0
        while True:
            if request is not None:
                await self._turn(request)
            attempt += 1
            try:
                result = await call()
            except RetryAfter as error:
                delay = max(0.0, error.seconds)
                if request is not None:
                    # Telegram's word holds for the chat even if this call gives up now.
                    request.chat.paused_until = max(
                        request.chat.paused_until, self._clock() + delay
                    )
                if attempt >= self._limits.max_attempts:
                    self._give_up(chat_id, attempt)
                    raise
                self._retried_after_429 += 1
                log.debug("chat %s: 429, retrying in %.1f s (attempt %d)", chat_id, delay, attempt)
            except _TRANSIENT_ERRORS:
                if attempt >= self._limits.max_attempts:
                    self._give_up(chat_id, attempt)
                    raise
                delay = self._limits.backoff(transient)
                transient += 1
                self._transient_retries += 1
                log.debug(
                    "chat %s: transient error, retrying in %.1f s (attempt %d)",
                    chat_id,
                    delay,
                    attempt,
                )
                if request is not None:
                    request.chat.paused_until = max(
                        request.chat.paused_until, self._clock() + delay
                    )
            except Exception:
                self._give_up(chat_id, attempt)
                raise
            else:
                self._sent += 1
                return result
            if request is None:
                self._total_wait += delay
                await self._sleep(delay)

    def _give_up(self, chat_id: int, attempt: int) -> None:
        self._failed += 1
        log.debug("chat %s: call failed after %d attempt(s)", chat_id, attempt)

    async def _turn(self, request: _Request) -> None:
        """Wait until the dispatcher lets `request` run; its tokens are taken by then."""
        request.grant = asyncio.get_running_loop().create_future()
        request.asked_at = self._clock()
        if request.chat.queue[0] is request:
            self._schedule(request)
        await request.grant

    def _leave(self, request: _Request) -> None:
        chat = request.chat
        was_head = chat.queue[0] is request
        chat.queue.remove(request)
        if chat.queue:
            head = chat.queue[0]
            if was_head and head.grant is not None and not head.grant.done():
                self._schedule(head)
            return
        now = self._clock()
        settled_at = max(chat.paused_until, chat.bucket.full_at(now))
        if settled_at <= now:
            del self._chats[chat.chat_id]
        else:
            heapq.heappush(self._idle, (settled_at, chat.chat_id))
        self._forget_idle_chats(now)

    def _forget_idle_chats(self, now: float) -> None:
        # A chat with a full bucket, no pause and nothing queued is the same as one never seen.
        while self._idle and self._idle[0][0] <= now:
            _, chat_id = heapq.heappop(self._idle)
            chat = self._chats.get(chat_id)
            if (
                chat is not None
                and not chat.queue
                and max(chat.paused_until, chat.bucket.full_at(now)) <= now
            ):
                del self._chats[chat_id]

    def _schedule(self, request: _Request) -> None:
        now = self._clock()
        ready_at = max(request.chat.paused_until, request.chat.bucket.ready_at(now))
        if ready_at <= now:
            heapq.heappush(self._ready, (request.priority, request.seq, request))
        else:
            heapq.heappush(self._timed, (ready_at, request.seq, request))
        self._wake()

    def _wake(self) -> None:
        if self._nudge is not None and not self._nudge.done():
            self._nudge.set_result(None)
        if self._dispatcher is None:
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="outgoing-sender"
            )

    @staticmethod
    def _is_waiting(request: _Request) -> bool:
        # Entries go stale when their caller was cancelled; they are skipped, never removed.
        return (
            request.grant is not None
            and not request.grant.done()
            and request.chat.queue[0] is request
        )

    async def _dispatch(self) -> None:
        try:
            while True:
                now = self._clock()
                while self._timed and self._timed[0][0] <= now:
                    _, _, request = heapq.heappop(self._timed)
                    if self._is_waiting(request):
                        heapq.heappush(self._ready, (request.priority, request.seq, request))
                while self._ready and not self._is_waiting(self._ready[0][2]):
                    heapq.heappop(self._ready)
                while self._timed and not self._is_waiting(self._timed[0][2]):
                    heapq.heappop(self._timed)
                until = math.inf
                if self._ready:
                    until = self._bucket.ready_at(now)
                    if until <= now:
                        _, _, request = heapq.heappop(self._ready)
                        self._grant(request, now)
                        continue
                if self._timed:
                    until = min(until, self._timed[0][0])
                if until == math.inf:
                    return
                await self._doze(until - now)
        except Exception as error:
            # Waiters would otherwise hang forever on a dispatcher that is gone.
            log.exception("outgoing sender dispatcher failed")
            self._fail_waiting(error)
        finally:
            self._dispatcher = None

    def _grant(self, request: _Request, now: float) -> None:
        assert request.grant is not None  # _is_waiting checked it
        request.chat.bucket.take(now)
        self._bucket.take(now)
        self._total_wait += now - request.asked_at
        request.grant.set_result(None)

    async def _doze(self, seconds: float) -> None:
        """Sleep `seconds` on the injected clock, or less if a new call becomes due meanwhile."""
        nudge = asyncio.get_running_loop().create_future()
        self._nudge = nudge
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((sleeper, nudge), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._nudge = None
            sleeper.cancel()
            nudge.cancel()
        if sleeper.done() and not sleeper.cancelled():
            sleeper.result()  # a sleep that raised must not pass for one that slept

    def _fail_waiting(self, error: Exception) -> None:
        self._ready.clear()
        self._timed.clear()
        for chat in self._chats.values():
            for request in chat.queue:
                if request.grant is not None and not request.grant.done():
                    request.grant.set_exception(error)
