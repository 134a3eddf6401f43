"""Refund's rules: which orders may be refunded, by whom, why a refund is refused, and where
the money goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.domain.model import Order, OrderStatus, PaymentMethod


@dataclass(frozen=True)
class RefundRules:
    """The buyer's self-service refund: unrevealed keys, within `window_days` of payment."""

    window_days: int = 7


REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.AWAITING_STOCK})
"""An order in these was paid and not refunded yet: an agent may refund it."""


def refundable(order: Order) -> bool:
    return order.status in REFUNDABLE


def refund_refusal(order: Order, now: datetime, rules: RefundRules | None) -> str | None:
    """Why this order cannot be refunded, or None when it can.

    With `rules`, the buyer asks without questions: refused when `revealed` (its keys were
    shown: a bad-key report instead) or past the `window` (paid longer ago than the window).
    Without (an agent's decision), any paid order. An order still awaiting stock always may
    be; any other refusal is the order's status (`awaiting_payment`, `refunded`, …).
    """
    if not refundable(order):
        return order.status.value
    if rules is None or order.status is OrderStatus.AWAITING_STOCK:
        return None
    if order.revealed_at is not None:
        return "revealed"
    if order.paid_at is None or order.paid_at + timedelta(days=rules.window_days) < now:
        return "window"
    return None


def wallet_refund_due(order: Order, credited_minor: int) -> int | None:
    """How much of an order goes back to the wallet, or None when Telegram refunds the Stars.

    A Stars payment can only be refunded whole, so once part of an order went back to the
    wallet (a bad key refunded by an agent), the rest follows it there: never more than paid.
    """
    if order.payment_method is PaymentMethod.WALLET or credited_minor > 0:
        return max(0, order.total_minor - credited_minor)
    return None
