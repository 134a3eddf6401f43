"""Browsing the shop and reserving keys: categories, products, the product card, Buy."""

from __future__ import annotations

from handlers.action import Action, AnswerButton, Button, EditText
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.keyboard import home_row, order_actions, page_note, pager, rows
from handlers.screen import refuse, show
from handlers.shop_time import shop_clock
from handlers.summary import order_item, order_summary, unpayable
from handlers.text import Markup, say, say_plain
from store.domain.errors import (
    NotFound,
    OutOfStock,
    QuantityNotAllowed,
    TooManyOpenOrders,
)
from store.domain.model import Language, OrderStatus, Product
from store.domain.money import format_money
from store.domain.order import cancelled
from store.domain.payment import wallet_covers
from store.services.catalog import list_categories, list_products, show_product
from store.services.order import cancel_order, reserve_keys


def _stock(lang: Language, product: Product) -> Markup:
    if product.in_stock:
        return say(lang, "stock.some", n=product.in_stock)
    return say(lang, "stock.none")


async def cmd_shop(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext
) -> list[Action]:
    """The list of categories."""
    categories = await list_categories(ctx.uow())
    if not categories:
        return show(event, say(lang, "shop.empty"), (home_row(lang),))
    buttons = [Button(c.name(lang), encode("cat", c.id, 0)) for c in categories]
    return show(event, say(lang, "shop.categories"), (*rows(buttons, 2), home_row(lang)))


async def on_category_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, category_id: str, page: int
) -> list[Action]:
    """A page of up to 8 products with price and live stock."""
    try:
        category, products = await list_products(ctx.uow(), category_id=category_id, page=page)
    except NotFound:
        return refuse(event, say_plain(lang, "error.not_found"))
    lines = Markup("\n").join(
        say(
            lang,
            "shop.line",
            name=p.name(lang),
            price=format_money(p.price_minor, ctx.currency),
            stock=_stock(lang, p),
        )
        for p in products.items
    )
    buttons = [
        Button(
            f"{p.name(lang)} · {format_money(p.price_minor, ctx.currency)}", encode("prod", p.sku)
        )
        for p in products.items
    ]
    keyboard = (
        *rows(buttons, 1),
        pager(lang, products, "cat", category_id),
        (Button(say_plain(lang, "menu.back"), encode("shop")),),
    )
    text = say(
        lang,
        "shop.products",
        category=category.name(lang),
        paging=page_note(lang, products),
        lines=lines,
    )
    return show(event, text, tuple(row for row in keyboard if row))


async def on_product_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, sku: str
) -> list[Action]:
    """The product card: description, price in ¥ and ⭐, stock, how to redeem, quantities."""
    try:
        product = await show_product(ctx.uow(), sku=sku)
    except NotFound:
        return refuse(event, say_plain(lang, "error.not_found"))
    text = say(
        lang,
        "product.card",
        name=product.name(lang),
        description=product.description(lang),
        price=format_money(product.price_minor, ctx.currency),
        stars=product.price_stars,
        stock=_stock(lang, product),
        redeem=product.redeem(lang),
        limit=product.order_limit,
    )
    buy = [
        Button(
            say_plain(
                lang, "product.buy", n=q, total=format_money(product.price_minor * q, ctx.currency)
            ),
            encode("buy", product.sku, q),
        )
        for q in product.quantity_choices()
    ]
    keyboard = (
        *rows(buy, 2),  # a total beside each: two to a row still read on a phone
        (Button(say_plain(lang, "menu.back"), encode("cat", product.category_id, 0)),),
    )
    return show(event, text, keyboard)


async def on_buy_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, sku: str, quantity: int
) -> list[Action]:
    """Keys are held; the order summary offers Stars, and the wallet when it covers the total."""
    try:
        reservation = await reserve_keys(
            ctx.uow(),
            user_id=event.person.user_id,
            first_name=event.person.first_name,
            sku=sku,
            quantity=quantity,
            now=ctx.clock.now(),
            rules=ctx.hold,
            notice_message_id=event.message_id,  # this message becomes the summary, edited
        )
    except NotFound:
        return refuse(event, say_plain(lang, "error.not_found"))
    except OutOfStock as error:
        return refuse(event, say_plain(lang, "error.out_of_stock", n=error.available))
    except QuantityNotAllowed as error:
        return refuse(event, say_plain(lang, "error.quantity", n=error.limit))
    except TooManyOpenOrders as error:
        return refuse(event, say_plain(lang, "error.too_many_open", n=error.limit))
    order = reservation.order
    text = say(
        lang,
        "order.summary",
        ref=order.reference,
        item=order_item(lang, order),
        total=format_money(order.total_minor, ctx.currency),
        stars=order.total_stars,
        until=shop_clock(lang, ctx.shop_time, order.expires_at, "%H:%M"),
        minutes=ctx.hold.minutes,
        balance=format_money(reservation.balance_minor, ctx.currency),
    )
    if reservation.existing:  # pressed Buy again (its first answer may have been lost)
        text = say(lang, "order.existing", ref=order.reference) + Markup("\n\n") + text
    keyboard = order_actions(lang, order)
    if wallet_covers(reservation.balance_minor, order):
        wallet = Button(
            say_plain(lang, "pay.wallet", total=format_money(order.total_minor, ctx.currency)),
            encode("paywallet", order.reference),
        )
        keyboard.insert(1, (wallet,))
    return show(event, text, tuple(keyboard))


async def on_cancel_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """An unpaid order is cancelled and its keys released."""
    order = await cancel_order(
        ctx.uow(), user_id=event.person.user_id, order_id=order_id, now=ctx.clock.now()
    )
    text, keyboard = order_summary(lang, order, ctx.currency)
    if cancelled(order):
        return show(event, text, keyboard)
    # Paid (or lapsed) meanwhile: say so, and bring the summary up to date (Pay and Cancel go).
    paid = order.has_keys or order.status is OrderStatus.AWAITING_STOCK
    why = say_plain(lang, "cancel.already_paid") if paid else unpayable(lang, order.status)
    return [
        AnswerButton(event.callback_id, why, alert=True),
        EditText(event.person.chat_id, event.message_id, text, keyboard),
    ]
