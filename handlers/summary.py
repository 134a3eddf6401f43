"""An order's summary once it is no longer held: the one message that follows the order.

The summary is the message the buyer pressed Buy on (orders.notice_message_id). The Stars
payment, the wallet payment, the delivery, the expiry job, a cancel and a refund each edit it to
what the order is now, with only the buttons that still apply. The payment's reply and the
delivery render it the same way, so whichever edit lands last, the buyer sees the same.
"""

from __future__ import annotations

from handlers.action import Button, EditText, Keyboard, SendText
from handlers.callback import encode
from handlers.keyboard import home_row, order_actions
from handlers.text import N_, Markup, say, say_plain
from store.domain.model import Language, Order, OrderStatus, PaymentMethod
from store.domain.money import format_money


def order_item(lang: Language, order: Order) -> str:
    """What was bought: the product's name, with the quantity only when there is more than one
    (a name may hold a number of its own: "创世结晶 ×60")."""
    name = order.product_name(lang)
    return (
        name
        if order.quantity == 1
        else say_plain(lang, "order.item", name=name, qty=order.quantity)
    )


def _again(lang: Language, order: Order) -> tuple[Button, ...]:
    return (Button(say_plain(lang, "order.again"), encode("buy", order.sku, order.quantity)),)


def order_summary(lang: Language, order: Order, currency: str) -> tuple[Markup, Keyboard]:
    """The summary of an order that is paid, waiting for stock, expired, cancelled or refunded."""
    item = order_item(lang, order)
    status = order.status
    if order.has_keys:
        if order.payment_method is PaymentMethod.WALLET:
            paid = say(lang, "summary.paid_wallet", total=format_money(order.total_minor, currency))
        else:
            paid = say(lang, "summary.paid_stars", stars=order.total_stars)
        key = N_("delivery.ready") if order.quantity == 1 else N_("delivery.ready_many")
        text = say(lang, key, ref=order.reference, item=item) + Markup("\n") + paid
        return text, tuple(order_actions(lang, order))
    if status is OrderStatus.AWAITING_STOCK:
        return say(lang, "waiting.notice", ref=order.reference), tuple(order_actions(lang, order))
    if status is OrderStatus.EXPIRED:
        return say(lang, "summary.expired", ref=order.reference, item=item), (
            _again(lang, order),
            home_row(lang),
        )
    if status is OrderStatus.CANCELLED:
        return say(lang, "order.cancelled", ref=order.reference, item=item), (
            _again(lang, order),
            home_row(lang),
        )
    if status is OrderStatus.REFUNDING:
        return say(lang, "summary.refunding", ref=order.reference, item=item), (home_row(lang),)
    if status is OrderStatus.REFUNDED:
        return say(lang, "summary.refunded", ref=order.reference, item=item), (home_row(lang),)
    held = say(lang, "summary.held", ref=order.reference, item=item)
    return held, tuple(order_actions(lang, order))


def summary_edit(
    lang: Language, order: Order, currency: str, *, fallback: bool = True
) -> EditText | SendText | None:
    """The edit that brings the order's summary up to date (a new message when it has none and
    `fallback`; else nothing)."""
    text, keyboard = order_summary(lang, order, currency)
    message = SendText(order.user_id, text, keyboard or None)
    if order.notice_message_id is None:
        return message if fallback else None
    return EditText(
        order.user_id,
        order.notice_message_id,
        text,
        keyboard or None,
        fallback=message if fallback else None,
    )


def unpayable(lang: Language, status: str) -> str:
    """Why an order cannot take a payment now, in plain words: it is paid, over or refunded."""
    if status in (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.AWAITING_STOCK):
        return say_plain(lang, "unpayable.paid")
    if status in (OrderStatus.REFUNDING, OrderStatus.REFUNDED):
        return say_plain(lang, "unpayable.refunded")
    if status == OrderStatus.CANCELLED:
        return say_plain(lang, "unpayable.cancelled")
    return say_plain(lang, "unpayable.expired")
