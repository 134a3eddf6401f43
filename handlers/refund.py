"""A refund in words: why one was refused, and whether it is done or on its way."""

from __future__ import annotations

from handlers.status import status_text
from handlers.text import Markup, say, say_plain
from store.domain.model import Language, RefundStatus
from store.domain.money import format_money
from store.services.refund import RefundOutcome


def refund_refused(lang: Language, reason: str) -> str:
    """Why a refund was refused (an order status, or `revealed` / `window`), as plain words."""
    return say_plain(lang, "error.refund", status=status_text(lang, reason))


def refund_reply(
    lang: Language, outcome: RefundOutcome, reference: str, currency: str = "CNY"
) -> Markup:
    """Done, saying where the money went (the wallet, and its balance now; or the Telegram
    balance), or on its way (Telegram out of reach: the job finishes it and tells the buyer)."""
    if outcome.status is not RefundStatus.DONE:
        return say(lang, "refund.pending", ref=reference)
    if outcome.wallet_minor is not None and outcome.balance_minor is not None:
        return say(
            lang,
            "refund.done_wallet",
            ref=reference,
            amount=format_money(outcome.wallet_minor, currency),
            balance=format_money(outcome.balance_minor, currency),
        )
    if outcome.order is not None:
        return say(lang, "refund.done_stars", ref=reference, stars=outcome.order.total_stars)
    return say(lang, "refund.done", ref=reference)
