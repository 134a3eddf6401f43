"""My orders: the list, one order, and revealing its keys to its owner."""

from __future__ import annotations

from handlers.action import CAPTION_LIMIT, Action, AnswerButton, Button, SendDocument, SendText
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.keyboard import home_row, order_actions, page_note, pager, rows
from handlers.screen import refuse, show
from handlers.shop_time import shop_clock
from handlers.status import status_text
from handlers.summary import order_item
from handlers.text import Markup, fitted, say, say_plain
from store.domain.errors import KeysNotAvailable
from store.domain.model import Language
from store.domain.money import format_money
from store.domain.refund import refund_refusal
from store.services.order import get_order, list_orders
from store.services.reveal import reveal_keys, trace_codes_of

KEYS_IN_MESSAGE = 10
"""More keys than this arrive as a .txt document instead of a message."""
TRACE_CODES_SHOWN = 100
"""An order's screen lists this many trace codes at most: every key of the largest order
(order_limit is at most 100), in the order of its keys, well within a message's 4096."""


async def cmd_orders(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext, page: int = 0
) -> list[Action]:
    """The buyer's orders, newest first, five to a page, each with its status."""
    orders = await list_orders(ctx.uow(), user_id=event.person.user_id, page=page)
    if not orders.items:
        return show(event, say(lang, "orders.empty"), (home_row(lang),))
    buttons = [
        Button(
            say_plain(
                lang,
                "orders.line",
                ref=o.reference,
                item=order_item(lang, o),
                status=status_text(lang, o.status),
            ),
            encode("order", o.reference),
        )
        for o in orders.items
    ]
    keyboard = (*rows(buttons, 1), pager(lang, orders, "orders"), home_row(lang))
    title = say(lang, "orders.title", paging=page_note(lang, orders))
    return show(event, title, tuple(row for row in keyboard if row))


async def on_order_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """One order, for its owner only, with Show keys, Refund and "My key doesn't work" as apply."""
    order = await get_order(ctx.uow(), user_id=event.person.user_id, order_id=order_id)
    text = say(
        lang,
        "order.detail",
        ref=order.reference,
        item=order_item(lang, order),
        total=format_money(order.total_minor, ctx.currency),
        stars=order.total_stars,
        status=status_text(lang, order.status),
        created=shop_clock(lang, ctx.shop_time, order.created_at, "%Y-%m-%d %H:%M"),
    )
    codes = await trace_codes_of(ctx.uow(), user_id=event.person.user_id, order_id=order_id)
    if codes:
        text += Markup("\n\n") + trace_codes_text(lang, codes)
    actions = order_actions(lang, order)
    drawn = {b.data for row in actions for b in row}
    after_sales: list[Button] = []
    refund = encode("refund", order.reference)
    if refund not in drawn and refund_refusal(order, ctx.clock.now(), ctx.refund) is None:
        label = say_plain(lang, "refund.confirm_button", ref=order.reference)
        after_sales.append(Button(label, refund))
    if order.has_keys:
        report = say_plain(lang, "faq.action.report_bad_key")
        after_sales.append(Button(report, encode("bad", order.reference)))
    keyboard = (
        *actions,
        *rows(after_sales, 1),
        (Button(say_plain(lang, "menu.back"), encode("orders", 0)),),
    )
    return show(event, text, keyboard)


async def on_keys_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """The keys, each in <code>, with how to redeem; more than 10 come as a .txt file."""
    try:
        revealed = await reveal_keys(
            ctx.uow(),
            user_id=event.person.user_id,
            order_id=order_id,
            cipher=ctx.cipher,
            now=ctx.clock.now(),
        )
    except KeysNotAvailable as error:
        status = status_text(lang, str(error))
        return refuse(event, say_plain(lang, "error.no_keys", status=status))
    order = revealed.order
    chat = event.person.chat_id
    after = (
        (Button(say_plain(lang, "faq.action.report_bad_key"), encode("bad", order.reference)),),
        (
            Button(say_plain(lang, "menu.orders"), encode("orders", 0)),
            Button(say_plain(lang, "keys.continue"), encode("shop")),
        ),
    )
    if len(revealed.keys) > KEYS_IN_MESSAGE:
        content = ("\n".join(revealed.keys) + "\n").encode()
        traced = Markup()
        if any(revealed.trace_codes):
            traced = Markup("\n\n") + say(lang, "keys.document_trace")
        caption = fitted(
            CAPTION_LIMIT,
            lambda redeem: (
                say(lang, "keys.document", ref=order.reference, n=len(revealed.keys), redeem=redeem)
                + traced
            ),
            revealed.redeem(lang),
        )
        return [
            AnswerButton(event.callback_id),
            SendDocument(chat, f"order-{order.reference}-keys.txt", content, caption, after),
        ]
    codes = revealed.trace_codes or [""] * len(revealed.keys)
    keys = Markup("\n").join(
        _key_line(lang, key, code) for key, code in zip(revealed.keys, codes, strict=True)
    )
    text = say(
        lang,
        "keys.message",
        ref=order.reference,
        name=order.product_name(lang),
        keys=keys,
        redeem=revealed.redeem(lang),
    )
    if any(codes):
        text += Markup("\n\n") + say(lang, "keys.trace_hint")
    return [AnswerButton(event.callback_id), SendText(chat, text, after, sensitive=True)]


def _key_line(lang: Language, key: str, code: str) -> Markup:
    """A key in <code> (tap to copy), its trace code under it when it has one."""
    line = Markup("<code>{}</code>").format(key)
    return line + Markup("\n") + say(lang, "keys.trace_code", code=code) if code else line


def trace_codes_text(lang: Language, codes: list[str]) -> Markup:
    """An order's trace codes (at most TRACE_CODES_SHOWN), and how to look one up."""
    shown = Markup("\n").join(
        Markup("<code>{}</code>").format(c) for c in codes[:TRACE_CODES_SHOWN]
    )
    if len(codes) > TRACE_CODES_SHOWN:
        shown += Markup("\n") + say(lang, "order.trace_more", n=len(codes) - TRACE_CODES_SHOWN)
    return say(lang, "order.trace_codes", codes=shown)
