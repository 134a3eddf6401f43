"""Support messages decided in a transaction and sent after it: assignments, places, breaches."""

from __future__ import annotations

from handlers.action import Action, Button, EditText, Rendered, SendText
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.handoff import standing_text
from handlers.summary import summary_edit
from handlers.text import N_, Markup, say, say_plain
from handlers.ticket import render_card
from store.domain.model import CaseStatus
from store.domain.outbox import (
    CaseDecided,
    OutboxItem,
    OutboxKind,
    QueuePosition,
    ResponseBreach,
    TicketAssigned,
)
from store.services.order import get_order
from store.services.queue import queue_place
from store.services.response_target import alert_recipients
from store.services.ticket import assignment_card, case_notice

SUPPORT_KINDS = frozenset(
    {
        OutboxKind.TICKET_ASSIGNED,
        OutboxKind.QUEUE_POSITION,
        OutboxKind.RESPONSE_BREACH,
        OutboxKind.CASE_DECIDED,
    }
)
BREACHES_SHOWN = 20
TARGET_TEXTS = {"first": N_("agent.target.first"), "next": N_("agent.target.next")}
"""The response target a ticket missed: the first answer, or the next one."""


async def render_support_item(item: OutboxItem, ctx: ShopContext) -> Rendered:
    """What one support item becomes; reads only (what it leaves behind is in the receipt)."""
    match item.payload:
        case TicketAssigned(ticket_id=ticket_id, refresh=refresh):
            view = await assignment_card(
                ctx.uow(),
                ticket_id=ticket_id,
                agent_id=item.chat_id,
                cipher=ctx.cipher,
                rules=ctx.replacement,
            )
            if view is None:
                return Rendered()
            return render_card(view, ctx.currency, tell_buyer=not refresh, rules=ctx.replacement)
        case QueuePosition(ticket_id=ticket_id, handed_back=handed_back):
            return await _queue_position(ticket_id, ctx, handed_back=handed_back)
        case ResponseBreach(breaches=breaches):
            alerts: list[Action] = []
            for chat, lang in await alert_recipients(ctx.uow(), admin_ids=ctx.admin_ids):
                lines = [
                    say(
                        lang,
                        "agent.breach",
                        id=b.ticket_id,
                        target=say(lang, TARGET_TEXTS[b.target]),
                    )
                    for b in breaches[:BREACHES_SHOWN]
                ]
                if len(breaches) > BREACHES_SHOWN:
                    lines.append(Markup(f"… +{len(breaches) - BREACHES_SHOWN}"))
                alerts.append(SendText(chat, Markup("\n").join(lines)))
            return Rendered(tuple(alerts))
        case CaseDecided(case_id=case_id):
            return Rendered(tuple(await _case_decided(case_id, ctx)))
    raise ValueError(f"not a support item: {item.kind}")


async def _queue_position(ticket_id: int, ctx: ShopContext, *, handed_back: bool) -> Rendered:
    """The buyer's one queue message, edited to their new place and wait (sent the first time,
    and its id kept once it is sent); handed back by an agent, it says so first."""
    place = await queue_place(ctx.uow(), ticket_id=ticket_id)
    if place is None:
        return Rendered()  # no longer waiting: the assignment message says so
    ticket = place.standing.ticket
    text = standing_text(place.language, place.standing, ctx.shop_time, ctx.clock.now())
    if handed_back:
        text = say(place.language, "support.handed_back") + Markup("\n") + text
    leave = say_plain(place.language, "support.leave_button")
    keyboard = ((Button(leave, encode("leave", ticket.id)),),)
    if ticket.queue_message_id is not None:
        return Rendered((EditText(ticket.user_id, ticket.queue_message_id, text, keyboard),))
    return Rendered((SendText(ticket.user_id, text, keyboard),), kept=0)


async def _case_decided(case_id: int, ctx: ShopContext) -> list[Action]:
    notice = await case_notice(ctx.uow(), case_id=case_id, cipher=ctx.cipher)
    if notice is None:
        return []
    case, lang = notice.case, notice.language
    if case.status is CaseStatus.REPLACED:
        keys = ((Button(say_plain(lang, "delivery.show"), encode("keys", case.order_reference)),),)
        return [SendText(case.user_id, say(lang, "case.replaced", ref=case.order_reference), keys)]
    if case.status is CaseStatus.REFUNDED:
        told = SendText(case.user_id, say(lang, "case.refunded", ref=case.order_reference))
        # the order message follows the order: once none of it is left, "refunded", no Show keys
        order = await get_order(ctx.uow(), user_id=case.user_id, order_id=case.order_id)
        if order.has_keys:  # another key of it stands: the message reads the same
            return [told]
        summary = summary_edit(lang, order, ctx.currency, fallback=False)
        return [told, *([summary] if summary is not None else [])]
    note = case.decision_note or "-"
    return [SendText(case.user_id, say(lang, "case.declined", ref=case.order_reference, note=note))]
