"""Rendering outbox items (deliveries, notices, admin alerts) into messages; reads only."""

from __future__ import annotations

from markupsafe import Markup

from handlers.action import Action, Button, Rendered, SendText
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.summary import summary_edit
from handlers.support_outbox import SUPPORT_KINDS, render_support_item
from handlers.text import say, say_plain
from store.domain.model import Language, OrderStatus
from store.domain.money import format_money
from store.domain.outbox import (
    ADMINS_CHAT,
    AdminAlert,
    AwaitingStock,
    CheckpointSigned,
    Delivery,
    LowStock,
    OrderExpired,
    OutboxItem,
    Refunded,
    WalletCredited,
)
from store.services.catalog import show_product
from store.services.order import get_order
from store.services.user import find_user


async def render_outbox(item: OutboxItem, ctx: ShopContext) -> Rendered:
    """The messages one outbox item becomes; an item for chat 0 goes to every admin."""
    if item.kind in SUPPORT_KINDS:
        return await render_support_item(item, ctx)
    if item.chat_id == ADMINS_CHAT:
        return Rendered(tuple(await _to_admins(item, ctx)))
    user = await find_user(ctx.uow(), user_id=item.chat_id)
    lang = user.language if user and user.language else Language.EN
    match item.payload:
        case CheckpointSigned(note=note):  # a channel's copy of the log's head, verbatim
            return Rendered((SendText(item.chat_id, Markup("<pre>{}</pre>").format(note)),))
        case Refunded(stars=stars, order_id=None):
            return Rendered(
                (SendText(item.chat_id, say(lang, "refund.later_payment", stars=stars)),)
            )
        case Refunded(stars=stars, order_id=int(order_id)):
            order = await get_order(ctx.uow(), user_id=item.chat_id, order_id=order_id)
            refunded = say(lang, "refund.later", ref=order.reference, stars=stars)
            return Rendered((SendText(item.chat_id, refunded),))
        case Delivery(order_id=order_id) | AwaitingStock(order_id=order_id):
            return await _notice(item, order_id, lang, ctx)
        case WalletCredited(amount_minor=amount, balance_minor=balance):
            credited = say(
                lang,
                "wallet.credited",
                amount=format_money(amount, ctx.currency),
                balance=format_money(balance, ctx.currency),
            )
            wallet = ((Button(say_plain(lang, "menu.wallet"), encode("wallet")),),)
            return Rendered((SendText(item.chat_id, credited, wallet),))
        case OrderExpired(order_id=order_id):
            order = await get_order(ctx.uow(), user_id=item.chat_id, order_id=order_id)
            if order.status is not OrderStatus.EXPIRED:  # paid or held again since
                return Rendered()
            edit = summary_edit(lang, order, ctx.currency, fallback=False)
            return Rendered((edit,) if edit is not None else ())
    return Rendered()


async def _notice(item: OutboxItem, order_id: int, lang: Language, ctx: ShopContext) -> Rendered:
    """The order's keys are ready, or it waits for stock: its summary says so.

    The summary is the message the buyer pressed Buy on: sent again after a crash, this is the
    same edit of the same message, not a second message. With no summary (or one the buyer
    deleted) a new message becomes it."""
    order = await get_order(ctx.uow(), user_id=item.chat_id, order_id=order_id)
    notice = summary_edit(lang, order, ctx.currency)
    assert notice is not None
    return Rendered((notice,), kept=0)


async def _to_admins(item: OutboxItem, ctx: ShopContext) -> list[Action]:
    actions: list[Action] = []
    for admin_id in sorted(ctx.admin_ids):
        user = await find_user(ctx.uow(), user_id=admin_id)
        lang = user.language if user and user.language else Language.EN
        match item.payload:
            case LowStock(sku=sku):
                product = await show_product(ctx.uow(), sku=sku)
                text = say(
                    lang,
                    "admin.low_stock",
                    name=product.name(lang),
                    sku=product.sku,
                    n=product.in_stock,
                )
            case AdminAlert(text=alert):
                text = say(lang, "admin.alert", body=alert)
            case _:
                continue
        actions.append(SendText(admin_id, text))
    return actions
