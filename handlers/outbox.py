"""Rendering outbox items (deliveries, notices, admin alerts) into messages."""

from __future__ import annotations

from handlers.action import Action, EditText, SendText
from handlers.context import ShopContext
from handlers.keyboard import order_actions
from handlers.support_outbox import SUPPORT_KINDS, render_support_item
from handlers.text import say
from store.domain.model import Language, OutboxItem, OutboxKind
from store.services.catalog import show_product
from store.services.order import ADMINS_CHAT, get_order
from store.services.payment import note_payment_notice
from store.services.user import find_user


async def render_outbox(item: OutboxItem, ctx: ShopContext) -> list[Action]:
    """The messages one outbox item becomes; an item for chat 0 goes to every admin."""
    if item.kind in SUPPORT_KINDS:
        return await render_support_item(item, ctx)
    if item.chat_id == ADMINS_CHAT:
        return await _to_admins(item, ctx)
    user = await find_user(ctx.uow(), user_id=item.chat_id)
    lang = user.language if user and user.language else Language.EN
    if item.kind == OutboxKind.REFUNDED and item.order_id is None:
        return [SendText(item.chat_id, say(lang, "refund.later_payment", stars=item.body))]
    if item.order_id is None:
        return []
    order = await get_order(ctx.uow(), user_id=item.chat_id, order_id=item.order_id)
    if item.kind == OutboxKind.DELIVERY:
        text = say(
            lang, "delivery.ready", id=order.id, name=order.product_name(lang), qty=order.quantity
        )
    elif item.kind == OutboxKind.AWAITING_STOCK:
        text = say(lang, "waiting.notice", id=order.id)
    elif item.kind == OutboxKind.REFUNDED:
        return [SendText(item.chat_id, say(lang, "refund.later", id=order.id, stars=item.body))]
    else:
        return []
    order_id = order.id

    async def remember(message_id: int) -> None:  # the first message about it is the notice
        await note_payment_notice(ctx.uow(), order_id=order_id, message_id=message_id)

    notice = SendText(
        item.chat_id, text, tuple(order_actions(lang, order)) or None, receipt=remember
    )
    if order.notice_message_id is None:
        return [notice]
    # The buyer's payment message becomes the notice: sent again after a crash, it is the same
    # edit of the same message, not a second message.
    return [EditText(item.chat_id, order.notice_message_id, text, notice.keyboard, fallback=notice)]


async def _to_admins(item: OutboxItem, ctx: ShopContext) -> list[Action]:
    actions: list[Action] = []
    for admin_id in sorted(ctx.admin_ids):
        user = await find_user(ctx.uow(), user_id=admin_id)
        lang = user.language if user and user.language else Language.EN
        if item.kind == OutboxKind.LOW_STOCK:
            product = await show_product(ctx.uow(), sku=item.body)
            text = say(
                lang,
                "admin.low_stock",
                name=product.name(lang),
                sku=product.sku,
                n=product.in_stock,
            )
        else:
            text = say(lang, "admin.alert", body=item.body)
        actions.append(SendText(admin_id, text))
    return actions
