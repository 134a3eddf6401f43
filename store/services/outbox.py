"""The outbox: messages decided in a transaction, claimed by the sender and finished once sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.domain.model import OrderStatus
from store.domain.outbox import (
    AwaitingStock,
    Delivery,
    OutboxItem,
    OutboxReceipt,
    QueuePosition,
    TicketAssigned,
)
from store.services.ports import UnitOfWork

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
    uow: UnitOfWork,
    *,
    item: OutboxItem,
    now: datetime,
    sent: bool,
    give_up: bool = False,
    receipt: OutboxReceipt | None = None,
) -> None:
    """Record that an item went out, and what its sending leaves behind, or retry it later.

    Only here, once Telegram took it: a delivery marks its order delivered; the message sent
    becomes the one later items edit; the buyer's words shown to an agent count as relayed.
    """
    async with uow:
        if sent or give_up:
            await uow.outbox.finish(item.id, now, failed=not sent)
        else:
            await uow.outbox.retry_later(item.id)
        if sent:
            await _acknowledge(uow, item, receipt or OutboxReceipt(), now)
        await uow.commit()


async def _acknowledge(
    uow: UnitOfWork, item: OutboxItem, receipt: OutboxReceipt, now: datetime
) -> None:
    match item.payload:
        case Delivery(order_id=order_id):
            await uow.orders.move(
                order_id, [OrderStatus.PAID], OrderStatus.DELIVERED, delivered_at=now
            )
            if receipt.message_id is not None:
                await uow.orders.set_notice_message(order_id, receipt.message_id)
        case AwaitingStock(order_id=order_id) if receipt.message_id is not None:
            await uow.orders.set_notice_message(order_id, receipt.message_id)
        case QueuePosition(ticket_id=ticket_id) if receipt.message_id is not None:
            await uow.tickets.set_queue_message(ticket_id, receipt.message_id)
        case TicketAssigned() if receipt.relayed:
            await uow.tickets.mark_relayed(list(receipt.relayed))
