"""Refunds: self-service for keys never revealed, and for paid orders that found no stock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from store.errors import NotYourOrder, OrderNotFound, RefundNotAllowed, ShopError
from store.model import Order, OrderStatus, PaymentMethod
from store.service.order import owned_order
from store.unit_of_work import UnitOfWork


class StarRefunder(Protocol):
    """The port to Telegram's refundStarPayment, implemented by each runtime."""

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None: ...


class RefundFailed(ShopError):
    """Telegram refused the refund; the order is left as it was."""


@dataclass(frozen=True)
class RefundRules:
    window_days: int = 7


REFUNDABLE = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.AWAITING_STOCK)


def refund_refusal(order: Order, now: datetime, rules: RefundRules) -> str | None:
    """Why this order cannot be refunded without questions, or None when it can.

    Reasons: `revealed` (its keys were shown: use a bad-key report), `window` (paid more than
    the refund window ago), or the order's status (`awaiting_payment`, `refunded`, …).
    """
    if order.status is OrderStatus.AWAITING_STOCK:
        return None
    if order.status not in REFUNDABLE:
        return order.status.value
    if order.revealed_at is not None:
        return "revealed"
    if order.paid_at is None or order.paid_at + timedelta(days=rules.window_days) < now:
        return "window"
    return None


async def refund_order(
    new_uow: Callable[[], UnitOfWork],
    *,
    user_id: int,
    order_id: int,
    now: datetime,
    refunder: StarRefunder,
    rules: RefundRules | None,
) -> Order:
    """Refund an order at once: Stars through Telegram, wallet payments back to the wallet.

    With `rules`, the buyer's self-service: only unrevealed keys within the window. Without
    (an agent's decision), any paid order. The order is moved to `refunding` and committed
    before Telegram is called, so a second press or a racing reveal cannot get through; a
    refused refund puts it back. Unrevealed keys return to stock; revealed ones never do.
    """
    async with new_uow() as uow:
        order = await owned_order(uow, order_id, user_id)
        if rules is None:
            reason = None if order.status in REFUNDABLE else order.status.value
        else:
            reason = refund_refusal(order, now, rules)
        if reason is not None or not await uow.orders.move(
            order_id, [order.status], OrderStatus.REFUNDING, unrevealed=rules is not None
        ):
            raise RefundNotAllowed(reason or "revealed")
        if order.payment_method is PaymentMethod.WALLET:
            await uow.ledger.append(
                user_id,
                order.total_minor,
                f"Refund of order #{order_id}",
                f"refund:{order_id}",
                now,
                order_id=order_id,
            )
            refunded = await _finish(uow, order_id, now)
            await uow.commit()
            return refunded
        charge_id = await uow.payments.charge_for_order(order_id)
        await uow.commit()
    try:
        if charge_id is None:
            raise RefundFailed("no payment recorded for this order")
        await refunder.refund_star_payment(user_id, charge_id)
    except Exception:
        async with new_uow() as uow:
            await uow.orders.move(order_id, [OrderStatus.REFUNDING], order.status)
            await uow.commit()
        raise
    async with new_uow() as uow:
        await uow.payments.mark_refunded(charge_id, now)
        refunded = await _finish(uow, order_id, now)
        await uow.commit()
    return refunded


async def _finish(uow: UnitOfWork, order_id: int, now: datetime) -> Order:
    order = await uow.orders.get(order_id)
    assert order is not None
    if order.revealed_at is None:
        await uow.card_keys.return_to_stock(order_id, now)
    else:  # a key that was shown may have been used: it never goes on sale again
        for key_id, _ in await uow.card_keys.sold_keys(order_id):
            await uow.card_keys.mark_bad(key_id, order_id, now)
    await uow.orders.move(order_id, [OrderStatus.REFUNDING], OrderStatus.REFUNDED, refunded_at=now)
    refunded = await uow.orders.get(order_id)
    assert refunded is not None
    return refunded


async def refund_order_for_agent(
    new_uow: Callable[[], UnitOfWork],
    *,
    agent_id: int,
    order_id: int,
    now: datetime,
    refunder: StarRefunder,
) -> Order:
    """An agent refunds an order of the buyer whose conversation they hold, and no other."""
    async with new_uow() as uow:
        order = await uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        if not any(t.user_id == order.user_id for t in await uow.tickets.assigned_to(agent_id)):
            raise NotYourOrder(order_id)
    return await refund_order(
        new_uow, user_id=order.user_id, order_id=order_id, now=now, refunder=refunder, rules=None
    )
