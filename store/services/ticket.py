"""The ticket conversation: what buyer and agent write, relayed; closing, rating, context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from store.domain.case import NotReplaced, ReplacementRules, masked_key, not_replaced_because
from store.domain.errors import BadPayload
from store.domain.model import (
    Agent,
    Case,
    CaseStatus,
    Language,
    Order,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from store.services.agent_duty import active_ticket
from store.services.ports import KeyCipher, NewUnitOfWork, UnitOfWork
from store.services.queue import Assignment, assign_waiting, note_queue_moved
from store.services.refund import RefundOutcome, StarRefunder, refund_order_for_agent
from store.services.sealing import open_text, opened_case, opened_ticket, seal_text
from store.services.user import language_of


@dataclass(frozen=True)
class CaseDetail:
    """An open case as its card shows it: the reported key masked (`masked_key`), and why it
    was not replaced at once (None: not known, no replacement rules were given)."""

    masked_key: str | None
    not_replaced: NotReplaced | None


@dataclass(frozen=True)
class BuyerContext:
    """What an agent sees beside a ticket."""

    user_id: int
    first_name: str
    orders: list[Order]
    tickets: list[Ticket]
    cases: list[Case]
    details: dict[int, CaseDetail] = field(default_factory=dict)
    """By case id, for the open cases."""


@dataclass(frozen=True)
class Relay:
    """A message to pass on: to `chat_id` (in their `language`), within `ticket`."""

    ticket: Ticket
    chat_id: int | None
    message_id: int
    language: Language = Language.EN
    assignments: list[Assignment] = field(default_factory=list)
    alias: str = ""
    """An agent's reply: the alias the buyer knows them by (never their Telegram name)."""


@dataclass(frozen=True)
class AssignmentCard:
    """What the agent who now has a ticket is shown: its card, and what the buyer wrote
    while it waited (`waiting`, opened); the buyer is told who has it."""

    ticket: Ticket
    agent: Agent
    agent_language: Language
    buyer_language: Language
    context: BuyerContext
    waiting: list[TicketMessage]


@dataclass(frozen=True)
class ClosedTicket:
    ticket: Ticket
    assignments: list[Assignment]
    """Waiting tickets the freed room took."""
    buyer_language: Language
    agent_alias: str = ""
    """Who helped, as the buyer knows them, for the rating."""


@dataclass(frozen=True)
class CaseNotice:
    """A decided case, its note opened, for the buyer in their language."""

    case: Case
    language: Language


async def buyer_wrote(
    uow: UnitOfWork,
    *,
    user_id: int,
    text: str,
    now: datetime,
    cipher: KeyCipher,
    media: str | None = None,
    source_message_id: int | None = None,
) -> Relay | None:
    """A message from a buyer with an open ticket: kept, and passed to the agent if there is one."""
    async with uow:
        ticket = await uow.tickets.open_for_user(user_id)
        if ticket is None:
            return None
        message_id = await uow.tickets.add_message(
            ticket_id=ticket.id,
            sender="buyer",
            author_id=user_id,
            body=seal_text(cipher, text[:4000]),
            media=media,
            source_chat_id=user_id,
            source_message_id=source_message_id,
            relayed=ticket.agent_id is not None,
            created_at=now,
        )
        await uow.tickets.mark_buyer_waiting(ticket.id, now)
        language = await language_of(uow, ticket.agent_id) if ticket.agent_id else Language.EN
        await uow.commit()
    return Relay(ticket, ticket.agent_id, message_id, language)


async def agent_wrote(
    uow: UnitOfWork,
    *,
    agent_id: int,
    text: str,
    now: datetime,
    cipher: KeyCipher,
    ticket_id: int | None = None,
    media: str | None = None,
    source_message_id: int | None = None,
    note: bool = False,
    translations: Mapping[Language, str] | None = None,
) -> Relay:
    """An agent's reply (or private note) on their active ticket; a reply ends the buyer's wait.

    `translations`: the reply in each language (a canned FAQ answer): the buyer's is kept and
    passed on, and `text` only where theirs is missing.
    """
    async with uow:
        ticket = await active_ticket(uow, agent_id, ticket_id)
        language = await language_of(uow, ticket.user_id)
        text = (translations or {}).get(language, text)
        message_id = await uow.tickets.add_message(
            ticket_id=ticket.id,
            sender="note" if note else "agent",
            author_id=agent_id,
            body=seal_text(cipher, text[:4000]),
            media=media,
            source_chat_id=agent_id,
            source_message_id=source_message_id,
            relayed=not note,
            created_at=now,
        )
        if not note:
            await uow.tickets.mark_agent_response(ticket.id, now)
        agent = await uow.agents.get(agent_id)
        await uow.commit()
    alias = agent.alias if agent is not None else ""
    return Relay(ticket, None if note else ticket.user_id, message_id, language, alias=alias)


async def assignment_card(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    agent_id: int,
    cipher: KeyCipher,
    rules: ReplacementRules | None = None,
) -> AssignmentCard | None:
    """The card for the agent who has the ticket; None if it was handed on (or closed) since.

    A read: what the buyer wrote while waiting counts as relayed only once the card is sent
    (the outbox's receipt), so a send that fails and is tried again still shows it.
    """
    async with uow.reading():
        ticket = await uow.tickets.get(ticket_id)
        agent = await uow.agents.get(agent_id)
        if (
            ticket is None
            or agent is None
            or ticket.agent_id != agent_id
            or ticket.status is not TicketStatus.ASSIGNED
        ):
            return None
        context = await _buyer_context(uow, ticket, cipher, rules)
        waiting = await uow.tickets.unrelayed_buyer_messages(ticket_id)
        agent_language = await language_of(uow, agent_id)
        buyer_language = await language_of(uow, ticket.user_id)
    return AssignmentCard(
        opened_ticket(ticket, cipher),
        agent,
        agent_language,
        buyer_language,
        context,
        [replace(m, body=open_text(cipher, m.body)) for m in waiting],
    )


@dataclass(frozen=True)
class CardRefund:
    """An agent's refund from a context card, and the card as it now reads (None: the
    conversation was handed on or closed meanwhile)."""

    outcome: RefundOutcome
    card: AssignmentCard | None


async def refund_from_card(
    new_uow: NewUnitOfWork,
    *,
    agent_id: int,
    order_id: int,
    now: datetime,
    refunder: StarRefunder,
    cipher: KeyCipher,
    rules: ReplacementRules | None = None,
) -> CardRefund:
    """Refund the order (see `refund_order_for_agent`), then read the card again so that its
    statuses and buttons can be brought up to date."""
    outcome = await refund_order_for_agent(
        new_uow, agent_id=agent_id, order_id=order_id, now=now, refunder=refunder
    )
    if outcome.order is None:
        return CardRefund(outcome, None)
    async with new_uow().reading() as uow:
        held = await uow.tickets.assigned_to(agent_id)
    ticket = next((t for t in held if t.user_id == outcome.order.user_id), None)
    if ticket is None:
        return CardRefund(outcome, None)
    card = await assignment_card(
        new_uow(), ticket_id=ticket.id, agent_id=agent_id, cipher=cipher, rules=rules
    )
    return CardRefund(outcome, card)


async def close_ticket(
    uow: UnitOfWork, *, agent_id: int, now: datetime, ticket_id: int | None = None
) -> ClosedTicket:
    """Resolve the agent's ticket; the room it frees takes the next waiting ticket."""
    async with uow:
        ticket = await active_ticket(uow, agent_id, ticket_id)
        await uow.tickets.close(ticket.id, now)
        rest = await uow.tickets.assigned_to(agent_id)
        await uow.agents.set_active(agent_id, rest[0].id if rest else None)
        made = await assign_waiting(uow, now)
        closed = await uow.tickets.get(ticket.id)
        language = await language_of(uow, ticket.user_id)
        agent = await uow.agents.get(agent_id)
        await uow.commit()
    assert closed is not None
    return ClosedTicket(closed, made, language, agent.alias if agent is not None else "")


@dataclass(frozen=True)
class LeftTicket:
    """A ticket its buyer closed themselves: out of the queue, or away from their agent."""

    ticket: Ticket
    agent_id: int | None
    """The agent who had it, to be told; None if it was still waiting."""
    agent_language: Language
    assignments: list[Assignment]
    """Waiting tickets the freed room took."""


async def leave_support(
    uow: UnitOfWork,
    *,
    user_id: int,
    now: datetime,
    ticket_id: int | None = None,
    leave_step: bool = False,
) -> LeftTicket | None:
    """The buyer leaves the queue (or their agent): their open ticket is closed, unrated, and
    the queue moves on. None when they have no open ticket, or `ticket_id` is not it (a stale
    button, or someone else's: only the buyer's own ticket is ever looked up).

    `leave_step`: /cancel, which first leaves whatever step of a flow they were at; only with
    no step to leave does it leave the queue (a bad-key report begun while talking to an agent
    is cancelled, not the conversation).
    """
    async with uow:
        if leave_step:
            try:
                stepping = await uow.states.get(user_id) is not None
            except BadPayload:
                stepping = True
            if stepping:
                await uow.states.clear(user_id)
                await uow.commit()
                return None
        await uow.agents.lock_all()  # no agent takes the ticket while it closes
        ticket = await uow.tickets.open_for_user(user_id)
        if ticket is None or (ticket_id is not None and ticket.id != ticket_id):
            await uow.commit()
            return None
        await uow.tickets.close(ticket.id, now)
        agent_id = ticket.agent_id if ticket.status is TicketStatus.ASSIGNED else None
        if agent_id is not None:
            agent = await uow.agents.get(agent_id)
            if agent is not None and agent.active_ticket_id == ticket.id:
                rest = await uow.tickets.assigned_to(agent_id)
                await uow.agents.set_active(agent_id, rest[0].id if rest else None)
        made = await assign_waiting(uow, now)
        if not made:
            await note_queue_moved(uow, now)  # those behind them moved up
        closed = await uow.tickets.get(ticket.id)
        language = await language_of(uow, agent_id) if agent_id else Language.EN
        await uow.commit()
    assert closed is not None
    return LeftTicket(closed, agent_id, language, made)


async def rate_ticket(uow: UnitOfWork, *, user_id: int, ticket_id: int, rating: int) -> bool:
    """The buyer's 1–5 rating of a closed ticket, once."""
    if not 1 <= rating <= 5:
        return False
    async with uow:
        rated = await uow.tickets.rate(ticket_id, user_id, rating)
        await uow.commit()
    return rated


async def _buyer_context(
    uow: UnitOfWork, ticket: Ticket, cipher: KeyCipher, rules: ReplacementRules | None = None
) -> BuyerContext:
    """The buyer's recent orders, earlier tickets and cases, beside the ticket."""
    user = await uow.users.get(ticket.user_id)
    orders, _ = await uow.orders.for_user(ticket.user_id, 0, 5)
    history = [t for t in await uow.tickets.for_user(ticket.user_id, 6) if t.id != ticket.id]
    cases = await uow.cases.for_user(ticket.user_id, 5)
    earlier = [opened_ticket(t, cipher) for t in history[:5]]
    name = user.first_name if user else ""
    details = {
        case.id: await _case_detail(uow, case, cases, cipher, rules)
        for case in cases
        if case.status is CaseStatus.OPEN
    }
    return BuyerContext(ticket.user_id, name, orders, earlier, cases, details)


async def _case_detail(
    uow: UnitOfWork,
    case: Case,
    cases: list[Case],
    cipher: KeyCipher,
    rules: ReplacementRules | None,
) -> CaseDetail:
    sold = dict(await uow.card_keys.sold_keys(case.order_id))
    token = sold.get(case.card_key_id)
    shown = masked_key(cipher.decrypt(token)) if token is not None else None
    order = await uow.orders.get(case.order_id)
    if rules is None or order is None:
        return CaseDetail(shown, None)
    first = not any(c.card_key_id == case.card_key_id and c.id < case.id for c in cases)
    recent = await uow.cases.replacements_since(
        case.user_id, case.created_at - timedelta(days=rules.cooldown_days)
    )
    why = not_replaced_because(
        order, case.created_at, rules, first_report=first, recent_replacements=recent
    )
    return CaseDetail(shown, why or NotReplaced.NO_STOCK)


async def case_notice(uow: UnitOfWork, *, case_id: int, cipher: KeyCipher) -> CaseNotice | None:
    """A decided case, its decision note opened (what the agent told the buyer)."""
    async with uow.reading():
        case = await uow.cases.get(case_id)
        language = await language_of(uow, case.user_id) if case is not None else Language.EN
    return None if case is None else CaseNotice(opened_case(case, cipher), language)
