"""Rendering outbox items (deliveries, notices, admin alerts) into messages; reads only."""

from __future__ import annotations

from handlers.action import Action, EditText, Rendered, SendText
from handlers.context import ShopContext
from handlers.keyboard import order_actions
from handlers.support_outbox import SUPPORT_KINDS, render_support_item
from handlers.text import Markup, say
from store.domain.model import Language
from store.domain.outbox import (
    ADMINS_CHAT,
    AdminAlert,
    AwaitingStock,
    Delivery,
    LowStock,
    OutboxItem,
    Refunded,
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
        case Refunded(stars=stars, order_id=None):
            return Rendered(
                (SendText(item.chat_id, say(lang, "refund.later_payment", stars=stars)),)
            )
        case Refunded(stars=stars, order_id=int(order_id)):
            order = await get_order(ctx.uow(), user_id=item.chat_id, order_id=order_id)
            refunded = say(lang, "refund.later", id=order.id, stars=stars)
            return Rendered((SendText(item.chat_id, refunded),))
        case Delivery(order_id=order_id) | AwaitingStock(order_id=order_id):
            return await _notice(item, order_id, lang, ctx)
    return Rendered()


async def _notice(item: OutboxItem, order_id: int, lang: Language, ctx: ShopContext) -> Rendered:
    """The order's keys are ready, or it waits for stock: the buyer's one notice about it."""
    order = await get_order(ctx.uow(), user_id=item.chat_id, order_id=order_id)
    text: Markup
    if isinstance(item.payload, Delivery):
        name = order.product_name(lang)
        text = say(lang, "delivery.ready", id=order.id, name=name, qty=order.quantity)
    else:
        text = say(lang, "waiting.notice", id=order.id)
    notice = SendText(item.chat_id, text, tuple(order_actions(lang, order)) or None)
    if order.notice_message_id is None:
        return Rendered((notice,), kept=0)  # the first message about it is the notice
    # The buyer's payment message becomes the notice: sent again after a crash, it is the same
    # edit of the same message, not a second message.
    edit = EditText(item.chat_id, order.notice_message_id, text, notice.keyboard, fallback=notice)
    return Rendered((edit,), kept=0)


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
