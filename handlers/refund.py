"""A refund in words: why one was refused, and whether it is done or on its way."""

from __future__ import annotations

from handlers.text import Markup, say, say_plain
from store.domain.model import Language, RefundStatus
from store.domain.money import format_money
from store.services.refund import RefundOutcome


def refund_refused(lang: Language, reason: str) -> str:
    """Why a refund was refused (an order status, or `revealed` / `window`), as plain words."""
    return say_plain(lang, "error.refund", status=say_plain(lang, f"status.{reason}"))


def refund_reply(
    lang: Language, outcome: RefundOutcome, order_id: int, currency: str = "CNY"
) -> Markup:
    """Done, saying where the money went (the wallet, and its balance now; or the Telegram
    balance), or on its way (Telegram out of reach: the job finishes it and tells the buyer)."""
    if outcome.status is not RefundStatus.DONE:
        return say(lang, "refund.pending", id=order_id)
    if outcome.wallet_minor is not None and outcome.balance_minor is not None:
        return say(
            lang,
            "refund.done_wallet",
            id=order_id,
            amount=format_money(outcome.wallet_minor, currency),
            balance=format_money(outcome.balance_minor, currency),
        )
    if outcome.order is not None:
        return say(lang, "refund.done_stars", id=order_id, stars=outcome.order.total_stars)
    return say(lang, "refund.done", id=order_id)
