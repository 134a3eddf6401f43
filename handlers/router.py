"""The conversation's single entry: an event in, a list of actions out, errors handled once."""

from __future__ import annotations

import logging

from handlers import admin, orders, payment, shop, start, wallet
from handlers.callback import Callback, ForgedCallback, decode
from handlers.context import ShopContext
from handlers.event import (
    ButtonPress,
    DocumentMessage,
    Event,
    PaymentReceived,
    PreCheckout,
    TextMessage,
)
from handlers.reply import Action, AnswerPreCheckout, SendText
from handlers.respond import refuse
from handlers.text import say
from store.errors import NotFound, NotYourOrder
from store.model import Language
from store.service.user import find_user, register_user

log = logging.getLogger(__name__)

MAX_TEXT = 4096


async def language_of(event: Event, ctx: ShopContext) -> Language:
    """The language the user chose, else their Telegram app's; first contact registers them."""
    person = event.person
    known = ctx.languages.get(person.user_id)
    if known is not None:
        return known
    user = await find_user(ctx.uow(read_only=True), user_id=person.user_id)
    if user is None:
        user = await register_user(
            ctx.uow(),
            user_id=person.user_id,
            first_name=person.first_name,
            language=Language.from_telegram(person.language_code),
            now=ctx.clock.now(),
        )
    language = user.language or Language.from_telegram(person.language_code)
    ctx.languages.remember(person.user_id, language)
    return language


def describe(event: Event) -> str:
    """An event for a log line: kind and user, never text, payloads or keys."""
    detail = ""
    if isinstance(event, ButtonPress):
        detail = f" button={event.data.split(':', 1)[0][:16]}"
    return f"{type(event).__name__} from user {event.person.user_id}{detail}"


async def dispatch(event: Event, ctx: ShopContext) -> list[Action]:
    lang = Language.from_telegram(event.person.language_code)
    try:
        lang = await language_of(event, ctx)
        return await _route(event, lang, ctx)
    except ForgedCallback:
        assert isinstance(event, ButtonPress)
        return refuse(event, say(lang, "error.forged"))
    except (NotYourOrder, NotFound) as error:
        # Refusals every handler would word the same way: a stale or forged id.
        if not isinstance(event, ButtonPress | TextMessage):
            raise
        key = "error.not_yours" if isinstance(error, NotYourOrder) else "error.not_found"
        return refuse(event, say(lang, key))
    except Exception:
        log.exception("handling failed: %s", describe(event))
        if isinstance(event, PreCheckout):
            return [AnswerPreCheckout(event.query_id, False, say(lang, "error.generic"))]
        if isinstance(event, ButtonPress | TextMessage):
            return refuse(event, say(lang, "error.generic"))
        return [SendText(event.person.chat_id, say(lang, "error.generic"))]


async def _route(event: Event, lang: Language, ctx: ShopContext) -> list[Action]:
    if isinstance(event, TextMessage):
        return await _on_text(event, lang, ctx)
    if isinstance(event, ButtonPress):
        return await _on_button(event, decode(event.data), lang, ctx)
    if isinstance(event, PreCheckout):
        return await payment.on_pre_checkout(event, lang, ctx)
    if isinstance(event, PaymentReceived):
        return await payment.on_payment_received(event, lang, ctx)
    if isinstance(event, DocumentMessage):
        return await admin.on_document(event, lang, ctx)
    raise TypeError(f"unknown event {type(event).__name__}")


async def _on_text(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    text = event.text.strip()
    if len(text) > MAX_TEXT:
        return refuse(event, say(lang, "error.too_long"))
    if not text.startswith("/"):
        return await free_text(event, lang, ctx)
    command = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    match command:
        case "start" | "menu":
            return await start.cmd_start(event, lang, ctx)
        case "help":
            return await start.cmd_help(event, lang, ctx)
        case "language":
            return await start.cmd_language(event, lang, ctx)
        case "paysupport":
            return await start.cmd_paysupport(event, lang, ctx)
        case "terms":
            return await start.cmd_terms(event, lang, ctx)
        case "shop":
            return await shop.cmd_shop(event, lang, ctx)
        case "orders":
            return await orders.cmd_orders(event, lang, ctx)
        case "wallet":
            return await wallet.cmd_wallet(event, lang, ctx)
        case "stock":
            return await admin.cmd_stock(event, lang, ctx)
        case "import":
            return refuse(event, say(lang, "admin.import_usage"))
    return refuse(event, say(lang, "error.unknown_command"))


async def free_text(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """Text that is not a command: for now, point at the menu and help."""
    return await start.cmd_help(event, lang, ctx)


async def _on_button(
    event: ButtonPress, button: Callback, lang: Language, ctx: ShopContext
) -> list[Action]:
    match button.verb:
        case "menu":
            return await start.cmd_start(event, lang, ctx)
        case "help":
            return await start.cmd_help(event, lang, ctx)
        case "lang":
            return await start.on_language_chosen(event, button.args[0], ctx)
        case "shop":
            return await shop.cmd_shop(event, lang, ctx)
        case "cat":
            return await shop.on_category_pressed(
                event, lang, ctx, button.args[0], button.number(1)
            )
        case "prod":
            return await shop.on_product_pressed(event, lang, ctx, button.args[0])
        case "buy":
            return await shop.on_buy_pressed(event, lang, ctx, button.args[0], button.number(1))
        case "cancel":
            return await shop.on_cancel_pressed(event, lang, ctx, button.number())
        case "paystars":
            return await payment.on_pay_stars_pressed(event, lang, ctx, button.number())
        case "paywallet":
            return await payment.on_pay_wallet_pressed(event, lang, ctx, button.number())
        case "topup":
            return await payment.on_topup_pressed(event, lang, ctx, button.number())
        case "refund":
            return await payment.on_refund_pressed(event, lang, ctx, button.number())
        case "wait":
            return await payment.on_wait_pressed(event, lang, ctx, button.number())
        case "orders":
            return await orders.cmd_orders(event, lang, ctx, button.number())
        case "order":
            return await orders.on_order_pressed(event, lang, ctx, button.number())
        case "keys":
            return await orders.on_keys_pressed(event, lang, ctx, button.number())
        case "wallet":
            return await wallet.cmd_wallet(event, lang, ctx)
    raise ForgedCallback(button.verb)
