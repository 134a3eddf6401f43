"""The conversation's single entry: an event in, a list of actions out, errors handled once."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TypeGuard

from handlers import (
    admin,
    after_sales,
    agent,
    ask,
    flow,
    orders,
    payment,
    shop,
    start,
    support,
    trace,
    wallet,
)
from handlers.action import Action, AnswerPreCheckout, SendText
from handlers.callback import Callback, ForgedCallback, decode
from handlers.context import ShopContext
from handlers.event import (
    ButtonPress,
    DocumentMessage,
    Event,
    OtherMessage,
    PaymentReceived,
    PhotoMessage,
    PreCheckout,
    TextMessage,
)
from handlers.keyboard import main_menu
from handlers.screen import refuse
from handlers.text import N_, escape, say, say_plain
from handlers.ticket import kind_name
from store.domain.errors import NoOpenTicket, NotAnAgent, NotFound, NotYourOrder, StoreBusy
from store.domain.flow import AwaitingScreenshot, DecliningCase
from store.domain.model import Language
from store.services.conversation_state import Situation, situation_of
from store.services.order import order_id_of
from store.services.user import meet_user

log = logging.getLogger(__name__)

MAX_TEXT = 4096


async def language_of(event: Event, ctx: ShopContext) -> Language:
    """The language the user chose, else their Telegram app's; first contact registers them."""
    person = event.person
    known = ctx.languages.get(person.user_id)
    if known is not None:
        return known
    language = await meet_user(
        ctx.uow(),
        user_id=person.user_id,
        first_name=person.first_name,
        app_language=Language.from_telegram(person.language_code),
        now=ctx.clock.now(),
    )
    ctx.languages.remember(person.user_id, language)
    return language


def describe(event: Event) -> str:
    """An event for a log line: kind and user, never text, payloads or keys."""
    detail = ""
    if isinstance(event, ButtonPress):
        detail = f" button={event.data.split(':', 1)[0][:16]}"
    if isinstance(event, OtherMessage):
        detail = f" kind={event.kind}"
    return f"{type(event).__name__} from user {event.person.user_id}{detail}"


async def dispatch(event: Event, ctx: ShopContext) -> list[Action]:
    """The replies to one event. A busy database is raised (StoreBusy) rather than answered:
    nothing was changed, and the intake tries the event again; a pre-checkout, which Telegram
    gives 10 s, is refused with "try again" instead."""
    lang = Language.from_telegram(event.person.language_code)
    try:
        lang = await language_of(event, ctx)
        return await _route(event, lang, ctx)
    except StoreBusy:
        if isinstance(event, PreCheckout):
            return busy_reply(event, lang)
        raise
    except Exception as error:
        refusal = _refusal_key(error)
        if isinstance(error, NotAnAgent) and ctx.is_agent(event.person.user_id):
            refusal = "agent.duty_first"  # an agent by settings who has not come on duty yet
        if refusal is None:
            log.exception("handling failed: %s", describe(event))
        text = say_plain(lang, refusal or "error.generic")
        if isinstance(event, PreCheckout):
            return [AnswerPreCheckout(event.query_id, False, text)]
        if isinstance(event, ButtonPress | TextMessage):
            return refuse(event, text)
        return [SendText(event.person.chat_id, escape(text))]


def busy_reply(event: Event, lang: Language | None = None) -> list[Action]:
    """What a user hears when the shop stayed too busy to handle their update."""
    lang = lang or Language.from_telegram(event.person.language_code)
    text = say_plain(lang, "error.busy")
    if isinstance(event, PreCheckout):
        return [AnswerPreCheckout(event.query_id, False, text)]
    if isinstance(event, ButtonPress | TextMessage):
        return refuse(event, text)
    return [SendText(event.person.chat_id, escape(text))]


def _refusal_key(error: Exception) -> str | None:
    """Refusals every handler would word the same way (stale or forged ids, wrong role)."""
    match error:
        case ForgedCallback():
            return "error.forged"
        case NotYourOrder():
            return N_("error.not_yours")
        case NotFound():
            return "error.not_found"
        case NotAnAgent():
            return "agent.only"
        case NoOpenTicket():
            return "agent.no_ticket"
    return None


async def _route(event: Event, lang: Language, ctx: ShopContext) -> list[Action]:
    if isinstance(event, TextMessage):
        return await _on_text(event, lang, ctx)
    if isinstance(event, ButtonPress):
        return await _on_button(event, await _resolved(decode(event.data), ctx), lang, ctx)
    if isinstance(event, PreCheckout):
        return await payment.on_pre_checkout(event, lang, ctx)
    if isinstance(event, PaymentReceived):
        return await payment.on_payment_received(event, lang, ctx)
    if isinstance(event, PhotoMessage | OtherMessage):
        return await _on_media(event, lang, ctx)
    return await _on_document(event, lang, ctx)


AGENT_COMMANDS = {
    "duty": agent.cmd_duty,
    "next": agent.cmd_next,
    "close": agent.cmd_close,
    "transfer": agent.cmd_transfer,
    "note": agent.cmd_note,
    "reply": agent.cmd_canned,
    "tickets": agent.cmd_tickets,
    "alias": agent.cmd_alias,
}


async def _on_text(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    text = event.text.strip()
    if len(text) > MAX_TEXT:
        return refuse(event, say_plain(lang, "error.too_long"))
    if not text.startswith("/"):
        return await free_text(event, lang, ctx)
    command = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    if command in AGENT_COMMANDS:
        if not ctx.is_agent(event.person.user_id):
            return refuse(event, say_plain(lang, "agent.only"))
        return await AGENT_COMMANDS[command](event, lang, ctx)
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
        case "trace":
            return await trace.cmd_trace(event, lang, ctx)
        case "stock":
            return await admin.cmd_stock(event, lang, ctx)
        case "stats":
            return await agent.cmd_stats(event, lang, ctx)
        case "human" | "agent":
            return await support.on_human_requested(event, lang, ctx)
        case "cancel":
            return await flow.cmd_cancel(event, lang, ctx)
        case "import":
            return refuse(event, say_plain(lang, "admin.import_usage"))
    return refuse(event, say_plain(lang, "error.unknown_command"))


async def free_text(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """Text that is not a command: a step of a flow, a relayed message, or a question."""
    situation = await _situation(event, ctx, words=True)
    if isinstance(situation.flow, DecliningCase):
        return await agent.on_decline_reason(event, lang, ctx, situation.flow)
    relayed = await _relayed(event, situation, lang, ctx)
    if relayed is not None:
        return relayed
    if ctx.faq is None or ctx.knowledge is None:
        return await start.cmd_help(event, lang, ctx)
    return await ask.on_question(event, lang, ctx)


async def _relayed(
    event: TextMessage | PhotoMessage | DocumentMessage | OtherMessage,
    situation: Situation,
    lang: Language,
    ctx: ShopContext,
) -> list[Action] | None:
    """Within a ticket, what was sent goes to the other side; None outside one (or when the
    buyer's ticket closed just now, so their words are taken as a question)."""
    if situation.agent_in_conversation:
        return await agent.relay_from_agent(event, lang, ctx)
    if situation.buyer_in_conversation:
        return await support.relay_from_buyer(event, lang, ctx)
    return None


async def _situation(event: Event, ctx: ShopContext, *, words: bool = False) -> Situation:
    """Where this message goes: the one question the router asks before a handler runs."""
    user_id = event.person.user_id
    return await situation_of(ctx.uow(), user_id=user_id, agent=ctx.is_agent(user_id), words=words)


async def _on_document(event: DocumentMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    if ctx.is_admin(event.person.user_id) and admin.import_sku(event.caption) is not None:
        return await admin.on_document(event, lang, ctx)
    return await _on_media(event, lang, ctx)


async def _on_media(
    event: PhotoMessage | DocumentMessage | OtherMessage, lang: Language, ctx: ShopContext
) -> list[Action]:
    """A screenshot (a photo or a picture sent as a file) for a bad-key report; within a ticket,
    passed to the other side; otherwise an admin's file is an import, and anything else (a
    buyer's file, a photo, a sticker, a location) gets a pointer to what the bot does understand."""
    situation = await _situation(event, ctx)
    if _is_picture(event) and isinstance(situation.flow, AwaitingScreenshot):
        return await after_sales.on_screenshot(event, lang, ctx, situation.flow)
    relayed = await _relayed(event, situation, lang, ctx)
    if relayed is not None:
        return relayed
    if isinstance(event, DocumentMessage):
        if ctx.is_admin(event.person.user_id) or admin.import_sku(event.caption) is not None:
            return await admin.on_document(event, lang, ctx)
        return [SendText(event.person.chat_id, say(lang, "file.not_expected"), main_menu(lang))]
    if isinstance(event, OtherMessage):
        unsupported = say(lang, "other.unsupported", kind=kind_name(lang, event.kind))
        return [SendText(event.person.chat_id, unsupported, main_menu(lang))]
    return [SendText(event.person.chat_id, say(lang, "help", minutes=ctx.hold.minutes))]


def _is_picture(
    event: PhotoMessage | DocumentMessage | OtherMessage,
) -> TypeGuard[PhotoMessage | DocumentMessage]:
    """A photo, or a picture sent as a file: either can be a bad-key report's screenshot."""
    return isinstance(event, PhotoMessage) or (
        isinstance(event, DocumentMessage) and event.is_image
    )


async def _resolved(button: Callback, ctx: ShopContext) -> Callback:
    """The button, with each order it names by reference resolved to the id the handlers and
    services take: the one place a reference becomes an id, so whose order it is is checked by
    the services as before (another buyer's is refused, an unknown one is not found)."""
    references = button.references()
    if not references:
        return button  # no order, or an old button naming it by id
    ids = {i: await order_id_of(ctx.uow(), reference=ref) for i, ref in references.items()}
    return replace(button, order_ids=ids)


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
        case "receipt":
            return await trace.on_receipt_pressed(event, lang, ctx, button.args[0])
        case "importgood":
            return await admin.on_import_good_lines_pressed(event, lang, ctx, button.number())
    return await _on_support_button(event, button, lang, ctx)


async def _on_support_button(
    event: ButtonPress, button: Callback, lang: Language, ctx: ShopContext
) -> list[Action]:
    match button.verb:
        case "faq":
            return await ask.on_faq_pressed(event, lang, ctx, button.args[0], button.number(1))
        case "faqok":
            return await ask.on_solved_pressed(event, lang, ctx, button.number())
        case "human":
            return await ask.on_human_pressed(event, lang, ctx, button.number())
        case "leave":
            return await support.on_leave_pressed(event, lang, ctx, button.number())
        case "rate":
            return await support.on_rate_pressed(
                event, lang, ctx, button.number(), button.number(1)
            )
        case "refunds":
            return await after_sales.on_refunds_pressed(event, lang, ctx)
        case "bad":
            return await after_sales.on_bad_key_pressed(
                event, lang, ctx, button.number(), button.args[0]
            )
        case "badk":
            return await after_sales.on_bad_key_chosen(
                event, lang, ctx, button.number(), button.number(1), button.args[0]
            )
        case "badr":
            return await after_sales.on_bad_reason_chosen(
                event, lang, ctx, button.number(), button.number(1), button.args[2], button.args[0]
            )
        case "bads":
            return await after_sales.on_screenshot_skipped(
                event, lang, ctx, button.number(), button.number(1), button.args[2]
            )
    if not ctx.is_agent(event.person.user_id):
        raise NotAnAgent(event.person.user_id)
    match button.verb:
        case "agt":
            return await agent.on_focus_pressed(event, lang, ctx, button.number())
        case "agref":
            return await agent.on_agent_refund_pressed(event, lang, ctx, button.number())
        case "agrefok":
            return await agent.on_agent_refund_confirmed(
                event, lang, ctx, button.number(), button.number(1)
            )
        case "agrefno":
            return await agent.on_agent_refund_kept(event, lang, ctx, button.args[0])
        case "agcase":
            return await agent.on_case_decided(event, lang, ctx, button.number(), button.args[1])
    raise ForgedCallback(button.verb)
