"""Inline keyboards, built from texts and encoded callback data."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.action import Button, Keyboard
from handlers.callback import encode
from handlers.text import Markup, say, say_plain
from store.domain.model import Language, Order, OrderStatus, Page, Product
from store.domain.payment import invoice_refusal


def main_menu(lang: Language) -> Keyboard:
    return (
        (
            Button(say_plain(lang, "menu.shop"), encode("shop")),
            Button(say_plain(lang, "menu.orders"), encode("orders", 0)),
        ),
        (
            Button(say_plain(lang, "menu.wallet"), encode("wallet")),
            Button(say_plain(lang, "menu.help"), encode("help")),
        ),
        (support_button(lang),),
    )


def support_button(lang: Language) -> Button:
    """🙋 Contact support: the built-in handoff to a person (no question asked yet)."""
    return Button(say_plain(lang, "menu.support"), encode("human", 0))


def home_row(lang: Language) -> tuple[Button, ...]:
    return (Button(say_plain(lang, "menu.home"), encode("menu")),)


def pager(
    lang: Language, page: Page[object] | Page[Product] | Page[Order], verb: str, *args: object
) -> tuple[Button, ...]:
    row: list[Button] = []
    if page.has_prev:
        row.append(Button(say_plain(lang, "nav.prev"), encode(verb, *args, page.page - 1)))
    if page.has_next:
        row.append(Button(say_plain(lang, "nav.next"), encode(verb, *args, page.page + 1)))
    return tuple(row)


def page_note(lang: Language, page: Page[object] | Page[Product] | Page[Order]) -> Markup:
    """The page number beside a title ("(page 2/3)"); nothing when all of it fits on one page."""
    if page.pages <= 1:
        return Markup()
    return say(lang, "page.of", page=page.page + 1, pages=page.pages)


def rows(buttons: Sequence[Button], width: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def language_choice() -> Keyboard:
    """Each language named in itself, as Telegram's own language list does."""
    return (
        (
            Button("简体中文", encode("lang", Language.ZH.value)),
            Button("繁體中文", encode("lang", Language.ZH_HANT.value)),
            Button("English", encode("lang", Language.EN.value)),
        ),
    )


def order_actions(lang: Language, order: Order) -> list[tuple[Button, ...]]:
    if order.has_keys:
        return [(Button(say_plain(lang, "delivery.show"), encode("keys", order.reference)),)]
    if order.status is OrderStatus.AWAITING_STOCK:
        return [
            (
                Button(say_plain(lang, "waiting.refund"), encode("refund", order.reference)),
                Button(say_plain(lang, "waiting.wait"), encode("wait", order.reference)),
            )
        ]
    if order.status is OrderStatus.AWAITING_PAYMENT:
        label = say_plain(lang, "pay.stars", stars=order.total_stars)
        stars = Button(label, encode("paystars", order.reference))
        cancel = Button(say_plain(lang, "pay.cancel"), encode("cancel", order.reference))
        return [(stars,), (cancel,)] if invoice_refusal(order) is None else [(cancel,)]
    return []
