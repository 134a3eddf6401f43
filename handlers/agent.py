"""The agent's side: duty, taking tickets, replying through the bot, closing, handing over."""

from __future__ import annotations

import re

from faq.answer import render_answer
from handlers.action import Action, AnswerButton, Button, EditText, Keyboard, SendText
from handlers.callback import encode
from handlers.command_menu import role_commands
from handlers.context import ShopContext
from handlers.event import ButtonPress, OtherMessage, TextMessage
from handlers.refund import refund_refused, refund_reply
from handlers.screen import acknowledged, refuse
from handlers.summary import summary_edit
from handlers.text import N_, Markup, say, say_plain, shorten
from handlers.ticket import (
    NOT_RELAYED,
    Media,
    kind_name,
    media_of,
    rating_keyboard,
    render_card,
    to_buyer,
)
from store.domain.errors import (
    AgentUnavailable,
    AliasRefused,
    NotAnAgent,
    OffDuty,
    OutOfStock,
    RefundFailed,
    RefundNotAllowed,
)
from store.domain.flow import DecliningCase
from store.domain.model import CaseStatus, Language, RefundStatus, SupportStats
from store.domain.money import format_money
from store.domain.sales import SalesStats, start_of_day
from store.domain.support import ALIAS_LENGTH, MAX_USER_ID
from store.services.agent_duty import (
    agent_tickets,
    find_agent,
    focus_ticket,
    set_alias,
    set_duty,
    transfer_ticket,
)
from store.services.case import CaseClosed, decide_case, decline_case
from store.services.conversation_state import enter_flow
from store.services.queue import claim_next_ticket
from store.services.refund import preview_refund_for_agent
from store.services.sales import shop_stats
from store.services.ticket import agent_wrote, close_ticket, refund_from_card


def _reply(event: TextMessage | ButtonPress, text: Markup) -> list[Action]:
    return acknowledged(event, [SendText(event.person.chat_id, text)])


async def cmd_duty(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/duty on|off."""
    parts = event.text.split()
    if len(parts) != 2 or parts[1].lower() not in ("on", "off"):
        return _reply(event, say(lang, "agent.duty_usage"))
    on = parts[1].lower() == "on"
    agent, assigned = await set_duty(
        ctx.uow(),
        agent_id=event.person.user_id,
        display_name=event.person.first_name,
        on=on,
        now=ctx.clock.now(),
        rules=ctx.support,
    )
    if not on:
        return _reply(event, say(lang, "agent.duty_off"))
    ids = ", ".join(f"#{a.ticket.id}" for a in assigned)
    taken = say(lang, "agent.duty_took", ids=ids) if assigned else ""
    reply = _reply(event, say(lang, "agent.duty_on", capacity=agent.capacity, assigned=taken))
    return [*reply, *role_commands(ctx, event.person.user_id, lang)]  # their menu, their language


async def cmd_next(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/next: the best waiting ticket; its context card follows (the outbox sends it)."""
    try:
        ticket = await claim_next_ticket(
            ctx.uow(), agent_id=event.person.user_id, now=ctx.clock.now()
        )
    except (NotAnAgent, OffDuty):  # never came on duty (no agent record yet), or went off
        return _reply(event, say(lang, "agent.duty_first"))
    if ticket is None:
        return _reply(event, say(lang, "agent.queue_empty"))
    return []


async def cmd_tickets(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/tickets: the agent's open conversations, to choose which one replies go to."""
    agent, mine = await agent_tickets(ctx.uow(), agent_id=event.person.user_id, cipher=ctx.cipher)
    if not mine:
        return _reply(event, say(lang, "agent.no_ticket"))
    active = agent.active_ticket_id if agent else None
    if active not in {t.id for t in mine}:
        active = mine[0].id  # replies go to the oldest when none was chosen
    lines = Markup("\n").join(
        say(
            lang,
            "agent.ticket_line",
            mark="▶️" if t.id == active else "•",
            id=t.id,
            subject=shorten(t.subject, SUBJECT_LENGTH, whole_words=True) or t.kind,
        )
        for t in mine
    )
    listed = say(lang, "agent.tickets", n=len(mine), lines=lines, id=active)
    buttons = tuple(
        (
            Button(
                f"{'▶️ ' if t.id == active else ''}#{t.id} {shorten(t.subject, 40) or t.kind}",
                encode("agt", t.id),
            ),
        )
        for t in mine
    )
    return [SendText(event.person.chat_id, listed, buttons)]


SUBJECT_LENGTH = 40


async def on_focus_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, ticket_id: int
) -> list[Action]:
    await focus_ticket(ctx.uow(), agent_id=event.person.user_id, ticket_id=ticket_id)
    return [AnswerButton(event.callback_id, say_plain(lang, "agent.focused", id=ticket_id))]


async def relay_from_agent(
    event: TextMessage | Media,
    lang: Language,
    ctx: ShopContext,
    *,
    note: bool = False,
    text: str | None = None,
    translations: dict[Language, str] | None = None,
) -> list[Action]:
    """An agent's reply goes to the buyer as "Agent <alias>"; a note stays on the ticket."""
    if isinstance(event, OtherMessage) and event.kind in NOT_RELAYED:
        told = say(lang, "agent.not_relayed", kind=kind_name(lang, event.kind))
        return [SendText(event.person.chat_id, told)]
    if isinstance(event, TextMessage):
        body, media = (text if text is not None else event.text), None
    else:
        body, media = event.caption, media_of(event)
    relay = await agent_wrote(
        ctx.uow(),
        agent_id=event.person.user_id,
        text=body,
        now=ctx.clock.now(),
        cipher=ctx.cipher,
        media=media,
        source_message_id=event.message_id,
        note=note,
        translations=translations,
    )
    if relay.chat_id is None:
        return [SendText(event.person.chat_id, say(lang, "agent.noted"))]
    said = (translations or {}).get(relay.language, body)
    return to_buyer(
        relay.language,
        relay.chat_id,
        relay.alias,
        said,
        media,
        event.person.chat_id,
        event.message_id,
    )


async def cmd_alias(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/alias 小美: the name buyers know this agent by; /alias alone shows it."""
    words = event.text.partition(" ")[2].strip()
    if not words:
        agent = await find_agent(ctx.uow(), agent_id=event.person.user_id)
        if agent is None:
            return _reply(event, say(lang, "agent.duty_first"))
        return _reply(event, say(lang, "agent.alias_is", alias=agent.alias))
    try:
        agent = await set_alias(
            ctx.uow(),
            agent_id=event.person.user_id,
            alias=words,
            register_as=(event.person.first_name, ctx.support.capacity, ctx.clock.now()),
        )
    except AliasRefused:
        return _reply(event, say(lang, "agent.alias_usage", length=ALIAS_LENGTH))
    return _reply(event, say(lang, "agent.alias_set", alias=agent.alias))


async def cmd_note(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/note text: private to agents."""
    text = event.text.partition(" ")[2].strip()
    return await relay_from_agent(event, lang, ctx, note=True, text=text or "-")


async def cmd_canned(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/reply FAQ_ID: that FAQ answer, in the buyer's language, sent as the agent's reply."""
    entry_id = event.text.partition(" ")[2].strip()
    if ctx.knowledge is None or entry_id not in ctx.knowledge:
        return _reply(event, _faq_ids(lang, ctx, entry_id))
    entry = ctx.knowledge.entry(entry_id)
    answers = {each: render_answer(entry, each.value, ctx.faq_values(each)) for each in Language}
    return await relay_from_agent(event, lang, ctx, text=answers[lang], translations=answers)


def _faq_ids(lang: Language, ctx: ShopContext, typed: str) -> Markup:
    """The FAQ ids an agent can /reply with, those most like what they typed first."""
    if ctx.knowledge is None or not len(ctx.knowledge):
        return say(lang, "agent.unknown_faq")
    ordered = ctx.knowledge.nearest_ids(typed) if typed else ctx.knowledge.ids
    ids = Markup(", ").join(Markup("<code>{}</code>").format(i) for i in ordered)
    if not typed:
        return say(lang, "agent.reply_usage", ids=ids)
    return say(lang, "agent.unknown_faq_id", typed=shorten(typed, 40), ids=ids)


async def cmd_close(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/close: resolved; the buyer is asked to rate the help."""
    closed = await close_ticket(ctx.uow(), agent_id=event.person.user_id, now=ctx.clock.now())
    ticket = closed.ticket
    rate = say(closed.buyer_language, "support.closed", agent=closed.agent_alias)
    return [
        SendText(event.person.chat_id, say(lang, "agent.closed", id=ticket.id)),
        SendText(ticket.user_id, rate, rating_keyboard(ticket.id)),
    ]


async def cmd_transfer(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/transfer AGENT_ID, or /transfer queue; a target who cannot take it is refused, and why."""
    target = event.text.partition(" ")[2].strip().lower()
    if not (target == "queue" or _AGENT_ID.fullmatch(target)):
        return _reply(event, say(lang, "agent.transfer_usage"))
    if target != "queue" and (len(target) > len(str(MAX_USER_ID)) or int(target) >= MAX_USER_ID):
        return _reply(event, say(lang, "agent.transfer_bad_id"))  # no one has it; SQL can't bind it
    to_agent_id = None if target == "queue" else int(target)
    if to_agent_id is not None and not ctx.is_agent(to_agent_id):
        return _reply(event, say(lang, "agent.transfer_not_agent", id=to_agent_id))
    try:
        ticket, _ = await transfer_ticket(
            ctx.uow(), agent_id=event.person.user_id, to_agent_id=to_agent_id, now=ctx.clock.now()
        )
    except AgentUnavailable as refusal:
        return _reply(event, _transfer_refusal(lang, refusal))
    return _reply(event, say(lang, "agent.transferred", id=ticket.id))


_AGENT_ID = re.compile(r"[0-9]+")
"""ASCII digits only (str.isdigit() takes "١" and "²" too); the value is checked after."""


def _transfer_refusal(lang: Language, refusal: AgentUnavailable) -> Markup:
    agent = refusal.agent
    name = agent.display_name if agent else f"#{refusal.agent_id}"
    match refusal.reason:
        case "self":
            return say(lang, "agent.transfer_self")
        case "full" if agent is not None:
            return say(
                lang,
                "agent.transfer_full",
                name=name,
                open=agent.open_tickets,
                capacity=agent.capacity,
            )
        case "off_duty":
            return say(lang, "agent.transfer_off_duty", name=name)
    return say(lang, "agent.transfer_not_agent", id=refusal.agent_id)


async def on_agent_refund_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """Refund on the context card: first a confirmation naming the amount, where it goes, and
    whether the buyer has seen the keys."""
    try:
        preview = await preview_refund_for_agent(
            ctx.uow(), agent_id=event.person.user_id, order_id=order_id, now=ctx.clock.now()
        )
    except RefundNotAllowed as error:
        return refuse(event, refund_refused(lang, str(error)))
    order = preview.order
    confirm = say(
        lang,
        "agent.refund_confirm",
        ref=order.reference,
        item=say(lang, "agent.refund_item", name=order.product_name(lang), n=order.quantity),
        amount=_refund_amount(lang, ctx, preview.wallet_minor, order.total_stars),
        revealed=say(
            lang, N_("agent.refund_revealed") if preview.revealed else N_("agent.refund_unrevealed")
        ),
    )
    keyboard = (
        (
            Button(
                say_plain(lang, "agent.refund_yes"),
                encode("agrefok", order.reference, event.message_id),
            ),
            Button(say_plain(lang, "agent.refund_no"), encode("agrefno", order.reference)),
        ),
    )
    return _reply_with(event, confirm, keyboard)


def _reply_with(event: ButtonPress, text: Markup, keyboard: Keyboard) -> list[Action]:
    return acknowledged(event, [SendText(event.person.chat_id, text, keyboard)])


def _refund_amount(
    lang: Language, ctx: ShopContext, wallet_minor: int | None, stars: int
) -> Markup:
    if wallet_minor is not None:
        return say(lang, "agent.refund_to_wallet", amount=format_money(wallet_minor, ctx.currency))
    return say(lang, "agent.refund_to_stars", stars=stars)


async def on_agent_refund_confirmed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int, card_message_id: int
) -> list[Action]:
    """Confirmed: the refund is made; the confirmation becomes its result (kept in the chat),
    the card is brought up to date, and the buyer is told where the money went."""
    try:
        done = await refund_from_card(
            ctx.uow,
            agent_id=event.person.user_id,
            order_id=order_id,
            now=ctx.clock.now(),
            refunder=ctx.refunder,
            cipher=ctx.cipher,
            rules=ctx.replacement,
        )
    except RefundNotAllowed as error:
        return refuse(event, refund_refused(lang, str(error)))
    except RefundFailed:
        return refuse(event, say_plain(lang, "refund.failed"))
    outcome, chat = done.outcome, event.person.chat_id
    ref = outcome.order.reference if outcome.order else "?"
    if outcome.status is RefundStatus.DONE:
        stars = outcome.order.total_stars if outcome.order else 0
        amount = _refund_amount(lang, ctx, outcome.wallet_minor, stars)
        result = say(lang, "agent.refund_done", ref=ref, amount=amount)
    else:
        result = say(lang, "agent.refund_pending", ref=ref)
    answer = AnswerButton(event.callback_id, say_plain(lang, "agent.refunded_order", ref=ref))
    actions: list[Action] = [
        answer,
        EditText(chat, event.message_id, result, fallback=SendText(chat, result)),
    ]
    if done.card is not None:
        rendered = render_card(done.card, ctx.currency, tell_buyer=False, rules=ctx.replacement)
        [card, *_] = rendered.actions
        if isinstance(card, SendText):
            actions.append(EditText(chat, card_message_id, card.html, card.keyboard))
    if outcome.order is not None:
        told = refund_reply(outcome.buyer_language, outcome, ref, ctx.currency)
        actions.append(SendText(outcome.order.user_id, told))
        # the buyer's order message follows the order: Show keys goes, "refunded" shows
        summary = summary_edit(outcome.buyer_language, outcome.order, ctx.currency, fallback=False)
        actions.extend([summary] if summary is not None else [])
    return actions


async def on_agent_refund_kept(
    event: ButtonPress, lang: Language, ctx: ShopContext, reference: str
) -> list[Action]:
    """Not refunded after all: the confirmation says so, and its buttons go."""
    kept = say(lang, "agent.refund_kept", ref=reference)
    chat = event.person.chat_id
    return acknowledged(
        event, [EditText(chat, event.message_id, kept, fallback=SendText(chat, kept))]
    )


async def on_case_decided(
    event: ButtonPress, lang: Language, ctx: ShopContext, case_id: int, decision: str
) -> list[Action]:
    """Replace or refund at once; declining first asks for the reason the buyer will see."""
    if decision == CaseStatus.DECLINED:
        await enter_flow(
            ctx.uow(),
            user_id=event.person.user_id,
            flow=DecliningCase(case_id),
            now=ctx.clock.now(),
        )
        return _reply(event, say(lang, "agent.decline_reason"))
    try:
        case = await decide_case(
            ctx.uow,
            agent_id=event.person.user_id,
            case_id=case_id,
            decision=CaseStatus(decision),
            note="",
            now=ctx.clock.now(),
            refunder=ctx.refunder,
            cipher=ctx.cipher,
        )
    except (CaseClosed, OutOfStock, RefundFailed) as error:
        return refuse(event, _not_decided(lang, error))
    done = say(lang, "agent.case_done", ref=case.order_reference, status=case.status.value)
    return _reply(event, done)


async def on_decline_reason(
    event: TextMessage, lang: Language, ctx: ShopContext, flow: DecliningCase
) -> list[Action]:
    """The words after Decline: the reason the buyer reads, and the case is declined."""
    try:
        case = await decline_case(
            ctx.uow,
            agent_id=event.person.user_id,
            case_id=flow.case_id,
            note=event.text.strip()[:500],
            now=ctx.clock.now(),
            cipher=ctx.cipher,
        )
    except (CaseClosed, OutOfStock, RefundFailed) as error:
        return refuse(event, _not_decided(lang, error))
    done = say(lang, "agent.case_done", ref=case.order_reference, status=case.status.value)
    return _reply(event, done)


def _not_decided(lang: Language, error: Exception) -> str:
    match error:
        case CaseClosed():
            return say_plain(lang, "agent.case_closed", status=str(error))
        case OutOfStock():
            return say_plain(lang, "error.out_of_stock", n=0)
    return say_plain(lang, "refund.failed")


async def cmd_stats(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/stats for admins, for today in the shop's zone: orders, revenue, refunds and top
    products, then tickets, containment, response times, breaches and CSAT."""
    if not ctx.is_admin(event.person.user_id):
        return _reply(event, say(lang, "admin.only"))
    stats = await shop_stats(ctx.uow(), since=start_of_day(ctx.shop_time, ctx.clock.now()))
    sales = sales_text(lang, stats.sales, ctx.currency)
    return _reply(event, sales + Markup("\n\n") + stats_text(lang, stats.support))


def sales_text(lang: Language, sales: SalesStats, currency: str) -> Markup:
    def amount(minor: int, stars: int) -> str:
        parts = [format_money(minor, currency)] if minor or not stars else []
        return " + ".join([*parts, *([f"{stars} ⭐"] if stars else [])])

    top = Markup("").join(
        say(lang, "stats.top_product", name=p.name(lang), quantity=p.quantity, orders=p.orders)
        for p in sales.top
    )
    return say(
        lang,
        "stats.sales",
        orders=sales.orders,
        revenue=amount(sales.revenue_minor, sales.revenue_stars),
        refunds=sales.refunds,
        refunded=amount(sales.refunded_minor, sales.refunded_stars),
        top=top or say(lang, "stats.top_none"),
    )


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def stats_text(lang: Language, stats: SupportStats, since: str | None = None) -> Markup:
    """The support figures, headed "today" or, given `since`, "since" that moment."""
    containment = "-" if stats.containment_percent is None else f"{stats.containment_percent:.0f}%"
    csat = "-" if stats.csat_percent is None else f"{stats.csat_percent:.0f}%"
    average = "-" if stats.average_rating is None else f"{stats.average_rating:.1f}"
    if since:
        heading = say(lang, "stats.support_since", since=since)
    else:
        heading = say(lang, "stats.support_today")
    return say(
        lang,
        "stats.report",
        heading=heading,
        tickets=stats.tickets_today,
        questions=stats.questions_today,
        containment=containment,
        median=_minutes(stats.first_response_median_seconds),
        p90=_minutes(stats.first_response_p90_seconds),
        breaches=stats.breaches_today,
        csat=csat,
        ratings=stats.ratings,
        average=average,
    )
