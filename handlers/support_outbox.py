"""Support messages decided in a transaction and sent after it: assignments, places, breaches."""

from __future__ import annotations

from functools import partial

from handlers.action import Action, Button, EditText, SendText
from handlers.agent import ticket_opened
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.support import language_for, standing_text
from handlers.text import Markup, say, say_plain
from store.domain.model import CaseStatus, OutboxItem, OutboxKind, TicketStatus
from store.services.agent_duty import find_agent, on_duty_agents
from store.services.queue import queue_standing, remember_queue_message
from store.services.ticket import find_case, ticket_of

SUPPORT_KINDS = frozenset(
    {
        OutboxKind.TICKET_ASSIGNED,
        OutboxKind.QUEUE_POSITION,
        OutboxKind.RESPONSE_BREACH,
        OutboxKind.CASE_DECIDED,
    }
)


async def render_support_item(item: OutboxItem, ctx: ShopContext) -> list[Action]:
    if item.kind == OutboxKind.TICKET_ASSIGNED:
        ticket = await ticket_of(ctx.uow(), ticket_id=int(item.body))
        agent = await find_agent(ctx.uow(), agent_id=item.chat_id)
        if (
            ticket is None
            or agent is None
            or ticket.agent_id != item.chat_id
            or ticket.status is not TicketStatus.ASSIGNED
        ):
            return []  # handed on again before this was sent
        return await ticket_opened(ticket, agent.user_id, agent.display_name, ctx)
    if item.kind == OutboxKind.QUEUE_POSITION:
        return await _queue_position(item, ctx)
    if item.kind == OutboxKind.RESPONSE_BREACH:
        missed = [entry.partition(":")[::2] for entry in item.body.split(",") if entry]
        recipients = {a.user_id for a in await on_duty_agents(ctx.uow())} | set(ctx.admin_ids)
        alerts: list[Action] = []
        for chat in sorted(recipients):
            lang = await language_for(ctx, chat)
            lines: list[Markup] = [
                say(lang, "agent.breach", id=ticket_id, target=say(lang, f"agent.target.{target}"))
                for target, ticket_id in missed[:20]
            ]
            if len(missed) > 20:
                lines.append(Markup(f"… +{len(missed) - 20}"))
            alerts.append(SendText(chat, Markup("\n").join(lines)))
        return alerts
    case = await find_case(ctx.uow(), case_id=int(item.body), cipher=ctx.cipher)
    if case is None:
        return []
    lang = await language_for(ctx, case.user_id)
    if case.status is CaseStatus.REPLACED:
        keys = ((Button(say_plain(lang, "delivery.show"), encode("keys", case.order_id)),),)
        return [SendText(case.user_id, say(lang, "case.replaced", case=case.id), keys)]
    if case.status is CaseStatus.REFUNDED:
        return [SendText(case.user_id, say(lang, "case.refunded", case=case.id))]
    return [
        SendText(
            case.user_id, say(lang, "case.declined", case=case.id, note=case.decision_note or "-")
        )
    ]


async def _queue_position(item: OutboxItem, ctx: ShopContext) -> list[Action]:
    """The buyer's one queue message, edited to their new place and wait."""
    standing = await queue_standing(ctx.uow(), ticket_id=int(item.body))
    if standing is None:
        return []  # no longer waiting: the assignment message says so
    lang = await language_for(ctx, standing.ticket.user_id)
    text = standing_text(lang, standing, ctx)
    if standing.ticket.queue_message_id is not None:
        return [EditText(standing.ticket.user_id, standing.ticket.queue_message_id, text)]
    remember = partial(_remember, ctx, standing.ticket.id)
    return [SendText(standing.ticket.user_id, text, receipt=remember)]


async def _remember(ctx: ShopContext, ticket_id: int, message_id: int) -> None:
    await remember_queue_message(ctx.uow(), ticket_id=ticket_id, message_id=message_id)
