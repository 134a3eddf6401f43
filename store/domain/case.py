"""After-sales case rules: which keys may be reported, when a key is replaced with no human,
and how a confirmed bad key is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.domain.model import Order, PaymentMethod


@dataclass(frozen=True)
class ReplacementRules:
    """When a reported key is replaced with no human: all must hold (and stock must remain)."""

    enabled: bool = True
    within_hours: int = 24
    """Reported at most this long after payment."""
    cooldown_days: int = 30
    """The buyer had no key replaced in this many days."""
    max_order_minor: int = 20_000
    """The order cost at most this much."""


def not_reportable(order: Order) -> str | None:
    """Why this order's keys cannot be reported as not working yet, or None.

    Only keys the buyer has looked at can be reported: a report on a key never shown would
    let a buyer keep the key, refund it as unrevealed, and see it sold to the next buyer.
    """
    if not order.has_keys:
        return order.status.value
    if order.revealed_at is None:
        return "unrevealed"
    return None


def replaces_automatically(
    order: Order,
    now: datetime,
    rules: ReplacementRules,
    *,
    first_report: bool,
    recent_replacements: int,
) -> bool:
    """Whether a reported key is replaced at once, with no agent.

    Only the first report on a key, soon after payment, on a small order, from a buyer who had
    no replacement within the cooldown; anything else waits for an agent's decision.
    """
    return (
        rules.enabled
        and first_report
        and order.paid_at is not None
        and now - order.paid_at <= timedelta(hours=rules.within_hours)
        and recent_replacements == 0
        and order.unit_price_minor * order.quantity <= rules.max_order_minor
    )


def refunds_through_telegram(order: Order, credited_minor: int) -> bool:
    """Whether a bad key's refund gives back the Stars charge itself.

    A Stars refund cannot be partial: only a one-key order paid in Stars, nothing of it
    credited to the wallet yet, is refunded by Telegram; every other goes to the wallet.
    """
    return (
        order.quantity == 1 and order.payment_method is PaymentMethod.STARS and credited_minor == 0
    )


def bad_key_refund_due(order: Order, credited_minor: int) -> int:
    """What a bad key's refund credits to the wallet: the key's price, never more in all than
    the order cost (0 or less: nothing is left to refund)."""
    return min(order.unit_price_minor, order.total_minor - credited_minor)
