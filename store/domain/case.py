"""After-sales case rules: which keys may be reported, when a key is replaced with no human,
and how a confirmed bad key is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

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


class NotReplaced(StrEnum):
    """Why a reported key waits for an agent instead of being replaced at once."""

    DISABLED = "disabled"
    REPEAT = "repeat"
    """The key was reported before."""
    LATE = "late"
    """Reported longer after payment than `within_hours`."""
    COOLDOWN = "cooldown"
    """The buyer had a key replaced within `cooldown_days`."""
    LARGE = "large"
    """The order cost more than `max_order_minor`."""
    NO_STOCK = "no_stock"
    """Every rule held, but no key was left to replace it with."""


def not_replaced_because(
    order: Order,
    now: datetime,
    rules: ReplacementRules,
    *,
    first_report: bool,
    recent_replacements: int,
) -> NotReplaced | None:
    """The first rule that keeps a key reported at `now` from being replaced at once, or None
    (it is, while stock lasts: otherwise that is the reason, `NO_STOCK`)."""
    if not rules.enabled:
        return NotReplaced.DISABLED
    if not first_report:
        return NotReplaced.REPEAT
    if order.paid_at is None or now - order.paid_at > timedelta(hours=rules.within_hours):
        return NotReplaced.LATE
    if recent_replacements:
        return NotReplaced.COOLDOWN
    if order.unit_price_minor * order.quantity > rules.max_order_minor:
        return NotReplaced.LARGE
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
        not_replaced_because(
            order, now, rules, first_report=first_report, recent_replacements=recent_replacements
        )
        is None
    )


def key_label(card_key: str, position: int) -> str:
    """How the buyer's "which key?" picker names a key: enough to tell an order's keys apart,
    never one given away: its place in the order, and for a long key its last two characters
    (a short key, a PIN, shows none)."""
    tail = f" …{card_key[-2:]}" if len(card_key) >= 12 else ""
    return f"#{position}{tail}"


SHORT_KEY = 8
"""A key shorter than this (a PIN, say) shows none of itself."""


def masked_key(card_key: str) -> str:
    """A reported key as an agent's card shows it: enough to tell it from the order's other
    keys, never enough to use: at most its last quarter, and never more than four characters."""
    if len(card_key) < SHORT_KEY:
        return "…"
    return f"…{card_key[-min(4, len(card_key) // 4) :]}"


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
