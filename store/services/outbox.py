"""The outbox: messages decided in a transaction, claimed by the sender and finished once sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.adapters.unit_of_work import UnitOfWork
from store.domain.model import OrderStatus, OutboxItem

CLAIM_TIMEOUT = timedelta(seconds=30)
"""An item claimed longer ago than this was left by a crashed sender and is taken again. A
delivery repeated so is an edit of the same message (see handlers/outbox.py), not a new one."""


async def claim_outbox(uow: UnitOfWork, *, now: datetime, limit: int = 30) -> list[OutboxItem]:
    """Take the next messages to send (including any a crashed sender left half-done)."""
    async with uow:
        items = await uow.outbox.claim(now, now - CLAIM_TIMEOUT, limit)
        await uow.commit()
    return items


async def finish_outbox(
    uow: UnitOfWork, *, item: OutboxItem, now: datetime, sent: bool, give_up: bool = False
) -> None:
    """Record that an item went out (a delivery marks its order delivered), or retry it later."""
    async with uow:
        if sent or give_up:
            await uow.outbox.finish(item.id, now, failed=not sent)
        else:
            await uow.outbox.retry_later(item.id)
        if sent and item.kind == "delivery" and item.order_id is not None:
            await uow.orders.move(
                item.order_id, [OrderStatus.PAID], OrderStatus.DELIVERED, delivered_at=now
            )
        await uow.commit()
