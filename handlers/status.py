"""An order's status in the reader's words, and the reasons a refund is refused beside them."""

from __future__ import annotations

from handlers.text import N_, say_plain
from store.domain.model import Language, OrderStatus

STATUS_TEXTS: dict[str, str] = {
    OrderStatus.AWAITING_PAYMENT: N_("status.awaiting_payment"),
    OrderStatus.PAID: N_("status.paid"),
    OrderStatus.AWAITING_STOCK: N_("status.awaiting_stock"),
    OrderStatus.DELIVERED: N_("status.delivered"),
    OrderStatus.EXPIRED: N_("status.expired"),
    OrderStatus.CANCELLED: N_("status.cancelled"),
    OrderStatus.REFUNDING: N_("status.refunding"),
    OrderStatus.REFUNDED: N_("status.refunded"),
    "revealed": N_("status.revealed"),
    "window": N_("status.window"),
}
"""Each status's text key, and those of a refund's other refusals (the key was revealed; the
refund window is over)."""


def status_text(lang: Language, status: str) -> str:
    """An order status (or a refund refusal's reason) as plain words."""
    return say_plain(lang, STATUS_TEXTS[status])
