"""Payment's rules: what an invoice names, and which charges and checkouts are refused, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from store.domain.model import Order, OrderStatus
from store.domain.order import payable

STARS = "XTR"
"""Telegram Stars' currency code: the only currency the shop takes."""

PAYMENT_GRACE = timedelta(minutes=5)
"""How long keys stay held after an approved pre-checkout, while Telegram completes payment."""

_ORDER_PAYLOAD = re.compile(r"order:([1-9][0-9]{0,17})")
_TOPUP_PAYLOAD = re.compile(r"topup:([1-9][0-9]{0,17}):([1-9][0-9]{0,8})(?::([1-9][0-9]{0,9}))?")
# ASCII digits only: str.isdigit() and \d would take "١" or "²" for digits


@dataclass(frozen=True)
class InvoicePayload:
    """What an invoice's payload names: an order, or a wallet top-up for one user."""

    order_id: int | None = None
    topup_user_id: int | None = None
    topup_stars: int = 0
    wallet_message_id: int | None = None
    """The buyer's wallet screen the top-up was chosen on: refreshed once the Stars arrive."""

    def encode(self) -> str:
        if self.order_id is not None:
            return f"order:{self.order_id}"
        screen = f":{self.wallet_message_id}" if self.wallet_message_id else ""
        return f"topup:{self.topup_user_id}:{self.topup_stars}{screen}"

    @classmethod
    def parse(cls, payload: str) -> InvoicePayload | None:
        if found := _ORDER_PAYLOAD.fullmatch(payload):
            return cls(order_id=int(found.group(1)))
        if found := _TOPUP_PAYLOAD.fullmatch(payload):
            screen = int(found.group(3)) if found.group(3) else None
            return cls(
                topup_user_id=int(found.group(1)),
                topup_stars=int(found.group(2)),
                wallet_message_id=screen,
            )
        return None


@dataclass(frozen=True)
class TopupRules:
    star_value_minor: int
    """What one Star adds to the wallet, in minor units."""
    allowed_stars: tuple[int, ...]
    """The top-up amounts offered, in Stars; no other is taken."""


def topup_allowed(stars: int, rules: TopupRules) -> bool:
    return stars in rules.allowed_stars


def wallet_covers(balance_minor: int, order: Order) -> bool:
    """Whether the wallet holds enough to pay the whole order (it never goes below zero)."""
    return balance_minor >= order.total_minor


def invoice_refusal(order: Order) -> str | None:
    """Why no Stars invoice is sent for this order, or None when one is.

    Only an order whose keys are held gets an invoice (`order.status` otherwise), and only
    while one invoice can carry its total (`too_many_stars`: it is paid from the wallet).
    """
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return order.status.value
    if not order.stars_payable:
        return "too_many_stars"
    return None


def charge_refusal(
    parsed: InvoicePayload | None, order: Order | None, *, payer: int, currency: str, amount: int
) -> str | None:
    """Why a charge cannot be applied, or None when it can.

    Telegram only sends what its own checkout produced, so each of these is defence in depth:
    `unknown_payload`, `mismatch` (currency or amount), `not_yours`, `not_found`, and
    `already_paid` for a second charge of an order that is paid (or refunded) already.
    """
    if parsed is None:
        return "unknown_payload"
    if currency != STARS:
        return "mismatch"
    if parsed.order_id is None:
        if parsed.topup_user_id != payer:
            return "not_yours"
        return None if amount == parsed.topup_stars else "mismatch"
    if order is None:
        return "not_found"
    if order.user_id != payer:
        return "not_yours"
    if amount != order.total_stars:
        return "mismatch"
    if not payable(order):
        return "already_paid"
    return None


def pre_checkout_refusal(
    parsed: InvoicePayload | None,
    order: Order | None,
    *,
    payer: int,
    currency: str,
    amount: int,
    topup: TopupRules,
) -> str | None:
    """Why a checkout is refused before the buyer pays, or None to let it go ahead.

    The charge's own rule, told as the buyer sees it: a top-up must also be one of the amounts
    offered, anything wrong with a top-up (or a payload naming nothing) is a `mismatch`, and an
    order paid already is `not_payable`. Whether its keys can still be held is not decided here.
    """
    refusal = charge_refusal(parsed, order, payer=payer, currency=currency, amount=amount)
    if parsed is None or parsed.order_id is None:  # a top-up, or a payload naming nothing
        fits = refusal is None and parsed is not None and topup_allowed(parsed.topup_stars, topup)
        return None if fits else "mismatch"
    return "not_payable" if refusal == "already_paid" else refusal
