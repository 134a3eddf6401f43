"""A refund in words: why one was refused, and whether it is done or on its way."""

from __future__ import annotations

from handlers.text import Markup, say, say_plain
from store.domain.model import Language, RefundStatus
from store.services.refund import RefundOutcome


def refund_refused(lang: Language, reason: str) -> str:
    """Why a refund was refused (an order status, or `revealed` / `window`), as plain words."""
    return say_plain(lang, "error.refund", status=say_plain(lang, f"status.{reason}"))


def refund_reply(lang: Language, outcome: RefundOutcome, order_id: int) -> Markup:
    """Done, or on its way (Telegram out of reach: the job finishes it and tells the buyer)."""
    key = "refund.done" if outcome.status is RefundStatus.DONE else "refund.pending"
    return say(lang, key, id=order_id)
