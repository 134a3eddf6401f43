"""An order's rules: which status changes it may make, when it may be paid, when its hold lapses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.domain.model import Order, OrderStatus, Product


@dataclass(frozen=True)
class HoldRules:
    minutes: int = 15
    """How long an unpaid order holds its keys."""
    max_open: int = 3
    """How many unpaid orders one buyer may hold at once."""


_S = OrderStatus
ORDER_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    # re-held (AWAITING_PAYMENT → AWAITING_PAYMENT) when a pre-checkout renews a lapsing hold
    _S.AWAITING_PAYMENT: frozenset(
        {_S.AWAITING_PAYMENT, _S.PAID, _S.AWAITING_STOCK, _S.EXPIRED, _S.CANCELLED}
    ),
    # an invoice sent before the hold ended may still be paid: the keys are held again
    _S.EXPIRED: frozenset({_S.AWAITING_PAYMENT, _S.PAID, _S.AWAITING_STOCK}),
    _S.CANCELLED: frozenset({_S.AWAITING_PAYMENT, _S.PAID, _S.AWAITING_STOCK}),
    _S.AWAITING_STOCK: frozenset({_S.PAID, _S.REFUNDING, _S.REFUNDED}),
    _S.PAID: frozenset({_S.DELIVERED, _S.REFUNDING, _S.REFUNDED}),
    _S.DELIVERED: frozenset({_S.REFUNDING, _S.REFUNDED}),
    # a refund Telegram refused puts the order back where it was
    _S.REFUNDING: frozenset({_S.REFUNDED, _S.PAID, _S.DELIVERED, _S.AWAITING_STOCK}),
    _S.REFUNDED: frozenset(),
}
"""Every status change an order may make; anything else is refused (the one rule for all)."""

PAYABLE = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.CANCELLED})
"""An order in these may take a payment (an expired or cancelled one is re-held if stock
remains: its invoice may have been open when it ended)."""


def may_move(leaving: OrderStatus, to: OrderStatus) -> bool:
    return to in ORDER_MOVES[leaving]


def payable(order: Order) -> bool:
    """Whether the order may take a payment now (an expired one only if it can be re-held)."""
    return order.status in PAYABLE


def quantity_allowed(quantity: int, product: Product) -> bool:
    """At least one key, and never more than the product's per-order limit."""
    return 1 <= quantity <= product.order_limit


def may_hold_another(open_orders: int, rules: HoldRules) -> bool:
    """Whether a buyer holding `open_orders` unpaid orders may reserve one more."""
    return open_orders < rules.max_open


def hold_lapsed(order: Order, now: datetime) -> bool:
    """An unpaid order whose hold ran out: its keys go back to stock (at the very minute too)."""
    return order.status is OrderStatus.AWAITING_PAYMENT and order.expires_at <= now


def cancelled(order: Order) -> bool:
    """The buyer gave the order up unpaid (not its hold lapsing, which is `expired`)."""
    return order.status is OrderStatus.CANCELLED
