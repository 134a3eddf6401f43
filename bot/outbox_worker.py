"""Drains the outbox: deliveries first, each written before it is sent, so none is lost."""

from __future__ import annotations

import asyncio
import logging

from bot.sender import PermanentSendError, Priority
from bot.telegram_port import ActionExecutor
from handlers.context import ShopContext
from handlers.outbox import render_outbox
from store.domain.outbox import OutboxItem, OutboxKind, OutboxReceipt
from store.services.outbox import claim_outbox, finish_outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


class OutboxWorker:
    """Sends what the outbox holds; `wake()` after a payment, and a scheduler job as a safety net.

    An item is marked sent only after Telegram accepted it (for an item with several recipients,
    such as an alert to every admin, once any accepted: one who blocked the bot is skipped), and
    only then is what its sending leaves behind recorded (the message later items edit, the
    buyer's words an agent was shown): rendering reads, so an item tried again shows them again.
    A crash in between leaves it claimed; it is taken again after the claim times out, so
    delivery is at-least-once, and the delivery message carries no key (the key is shown on
    request), so a repeat is harmless.
    """

    def __init__(self, ctx: ShopContext, executor: ActionExecutor) -> None:
        self._ctx = ctx
        self._executor = executor
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Send everything pending now; returns how many items went out."""
        sent = 0
        async with self._lock:
            while items := await claim_outbox(self._ctx.uow(), now=self._ctx.clock.now()):
                results = [await self._send(item) for item in items]
                sent += sum(results)
                if not all(results):
                    break  # failures wait for the next wake or the scheduler, not a hot loop
        return sent

    async def _send(self, item: OutboxItem) -> int:
        now = self._ctx.clock.now
        priority = Priority.DELIVERY if item.kind is OutboxKind.DELIVERY else Priority.NOTICE
        try:
            rendered = await render_outbox(item, self._ctx)
            refused = 0
            kept: int | None = None
            for index, action in enumerate(rendered.actions):
                try:  # one recipient who blocked the bot must not stop the others
                    shown = await self._executor.send(action, priority)
                except PermanentSendError:
                    refused += 1
                    log.warning("outbox item %s: a message was refused by Telegram", item.id)
                    continue
                if index == rendered.kept:
                    kept = shown
            if rendered.actions and refused == len(rendered.actions):
                await finish_outbox(self._ctx.uow(), item=item, now=now(), sent=False, give_up=True)
                return 0
        except Exception:
            give_up = item.attempts >= MAX_ATTEMPTS
            log.exception("outbox item %s failed (attempt %s)", item.id, item.attempts)
            await finish_outbox(self._ctx.uow(), item=item, now=now(), sent=False, give_up=give_up)
            return 0
        receipt = OutboxReceipt(message_id=kept, relayed=rendered.relayed)
        await finish_outbox(self._ctx.uow(), item=item, now=now(), sent=True, receipt=receipt)
        return 1

    async def run(self) -> None:
        """Drain whenever woken, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                log.exception("outbox drain failed")
