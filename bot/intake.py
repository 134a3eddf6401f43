"""The durable intake: no update is confirmed to Telegram before it is recorded in the inbox.

Long polling confirms an update by asking for the next offset. The frameworks do that as soon
as they have fetched it, so a process that dies while a `successful_payment` waits on a busy
database never sees that payment again. Here the offset is ours: a batch is recorded first
(one short transaction), then confirmed by the next getUpdates, and each update is handled
from the inbox and marked done only after its replies went out. After a crash, `resume()`
handles whatever was recorded and not finished. A busy database is not a failure: the update
stays in the inbox and is tried again with back-off (a payment, for as long as it takes).

The same `receive()` serves webhook mode: answer Telegram's POST only after it returns.
Both runtimes use this class; each supplies only an `UpdateSource`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any, Protocol

from bot.sender import SendError
from handlers.event import Event, PaymentReceived
from store.domain.errors import StoreBusy
from store.services.inbox import (
    InboxUpdate,
    finish_update,
    note_attempt,
    record_updates,
    unhandled_updates,
)
from store.services.ports import KeyCipher, NewUnitOfWork

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query", "pre_checkout_query")
POLL_TIMEOUT = 25
GIVE_UP_AFTER = 6
"""Attempts on a busy database before an update other than a payment is given up."""
BACKOFF_CAP = 30.0


class UpdateSource(Protocol):
    """What a runtime supplies: getUpdates through its own client, and its own parsing."""

    async def fetch_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        """Raw updates (Bot API JSON) from getUpdates, long-polling up to `wait` seconds;
        `offset` confirms every update before it."""
        ...

    def event_from_update(self, update: Mapping[str, Any]) -> Event | None:
        """The update as a Kamibot event, through the runtime's types and the shared
        translator (bot/incoming.py); None for updates the shop does not handle."""
        ...


Handle = Callable[[Event], Awaitable[None]]


class Intake:
    def __init__(
        self,
        source: UpdateSource,
        *,
        new_uow: NewUnitOfWork,
        cipher: KeyCipher,
        now: Callable[[], datetime],
        handle: Handle,
        give_up: Handle,
        concurrency: int = 64,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._source = source
        self._new_uow = new_uow
        self._cipher = cipher
        self._now = now
        self._handle = handle
        self._give_up = give_up
        self._slots = asyncio.Semaphore(concurrency)
        self._sleep = sleep
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self.handled = 0

    # --- receiving ---

    async def poll(self) -> None:
        """Long-poll until cancelled; an update is confirmed only once it is in the inbox."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self._source.fetch_updates(offset, POLL_TIMEOUT)
                if updates:
                    await self.receive(updates)
                    offset = max(int(u["update_id"]) for u in updates) + 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Telegram or the database out of reach: not confirmed
                failures += 1
                delay = min(BACKOFF_CAP, 0.5 * 2**failures)
                log.warning("polling paused %.1f s after %s", delay, type(error).__name__)
                await self._sleep(delay)

    async def receive(self, updates: Sequence[Mapping[str, Any]]) -> int:
        """Record updates, then start handling the new ones; returns how many were new.

        Raises if they could not be recorded: the caller must then not confirm them.
        """
        fresh = await record_updates(
            self._new_uow, updates=updates, cipher=self._cipher, now=self._now()
        )
        for update in fresh:
            self._start(update)
        return len(fresh)

    async def resume(self) -> int:
        """Handle what a previous run recorded and did not finish; returns how many."""
        resumed = 0
        after = -1
        while batch := await unhandled_updates(self._new_uow, cipher=self._cipher, after=after):
            for update in batch:
                if update.update_id not in self._in_flight:
                    self._start(update)
                    resumed += 1
            after = batch[-1].update_id
        if resumed:
            log.warning("resuming %d updates a previous run did not finish", resumed)
        return resumed

    # --- handling ---

    def _start(self, update: InboxUpdate) -> None:
        task = asyncio.create_task(self._work(update), name=f"update-{update.update_id}")
        self._in_flight[update.update_id] = task
        task.add_done_callback(lambda _: self._in_flight.pop(update.update_id, None))

    async def _work(self, update: InboxUpdate) -> None:
        attempts = update.attempts
        try:
            event = self._source.event_from_update(update.update)
        except Exception:
            log.exception("update %s could not be read", update.update_id)
            await self._finish(update.update_id, failed=True)
            return
        while True:
            try:
                if event is not None:
                    async with self._slots:
                        await self._handle(event)
            except StoreBusy:
                attempts += 1
                if attempts >= GIVE_UP_AFTER and not isinstance(event, PaymentReceived):
                    log.warning("update %s given up: the database stayed busy", update.update_id)
                    assert event is not None
                    await self._apologise(event)
                    await self._finish(update.update_id, failed=True)
                    return
                await self._note_attempt(update.update_id)
                await self._sleep(min(BACKOFF_CAP, 0.2 * 2**attempts))
                continue
            except asyncio.CancelledError:
                raise
            except SendError as error:  # e.g. a button answered too late, after a restart
                log.warning("a reply to update %s was not sent: %s", update.update_id, error)
            except Exception:  # the conversation handles its own errors; this is the adapter
                log.exception("update %s failed while its replies were sent", update.update_id)
            break
        await self._finish(update.update_id)
        self.handled += 1
        log.debug("update %s handled (%s)", update.update_id, type(event).__name__)

    async def _apologise(self, event: Event) -> None:
        try:
            await self._give_up(event)
        except Exception:
            log.warning("could not tell a user the shop is busy")

    async def _note_attempt(self, update_id: int) -> None:
        try:
            await note_attempt(self._new_uow, update_id=update_id)
        except Exception:  # the count is advisory; the retry is what matters
            log.debug("could not count an attempt of update %s", update_id)

    async def _finish(self, update_id: int, *, failed: bool = False) -> None:
        """Mark the update handled; if even that meets a busy database, keep trying a while
        (left unmarked, it would be handled again after a restart: harmless, not free)."""
        for attempt in range(GIVE_UP_AFTER):
            try:
                await finish_update(
                    self._new_uow, update_id=update_id, now=self._now(), failed=failed
                )
                return
            except StoreBusy:
                await self._sleep(min(BACKOFF_CAP, 0.2 * 2**attempt))
        log.warning("update %s stays unmarked: it will be handled again on restart", update_id)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def settled(self, timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait
        """Wait (at most `timeout` seconds) for the updates being handled to finish."""
        if tasks := list(self._in_flight.values()):
            await asyncio.wait(tasks, timeout=timeout)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait on stop
        """Let updates being handled finish (on stop), then cancel what is left."""
        tasks = list(self._in_flight.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with suppress(asyncio.CancelledError):
                await task
