"""The ticket conversation: what buyer and agent write, relayed; closing, rating, context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from store.domain.model import (
    Agent,
    Case,
    Language,
    Order,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from store.services.agent_duty import active_ticket
from store.services.ports import KeyCipher, UnitOfWork
from store.services.queue import Assignment, assign_waiting
from store.services.sealing import open_text, opened_case, opened_ticket, seal_text
from store.services.user import language_of


@dataclass(frozen=True)
class BuyerContext:
    """What an agent sees beside a ticket."""

    user_id: int
    first_name: str
    orders: list[Order]
    tickets: list[Ticket]
    cases: list[Case]


@dataclass(frozen=True)
class Relay:
    """A message to pass on: to `chat_id` (in their `language`), within `ticket`."""

    ticket: Ticket
    chat_id: int | None
    message_id: int
    language: Language = Language.EN
    assignments: list[Assignment] = field(default_factory=list)


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
        await uow.commit()
    return Relay(ticket, None if note else ticket.user_id, message_id, language)


async def assignment_card(
    uow: UnitOfWork, *, ticket_id: int, agent_id: int, cipher: KeyCipher
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
        context = await _buyer_context(uow, ticket, cipher)
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
        await uow.commit()
    assert closed is not None
    return ClosedTicket(closed, made, language)


async def rate_ticket(uow: UnitOfWork, *, user_id: int, ticket_id: int, rating: int) -> bool:
    """The buyer's 1–5 rating of a closed ticket, once."""
    if not 1 <= rating <= 5:
        return False
    async with uow:
        rated = await uow.tickets.rate(ticket_id, user_id, rating)
        await uow.commit()
    return rated


async def _buyer_context(uow: UnitOfWork, ticket: Ticket, cipher: KeyCipher) -> BuyerContext:
    """The buyer's recent orders, earlier tickets and cases, beside the ticket."""
    user = await uow.users.get(ticket.user_id)
    orders, _ = await uow.orders.for_user(ticket.user_id, 0, 5)
    history = [t for t in await uow.tickets.for_user(ticket.user_id, 6) if t.id != ticket.id]
    cases = await uow.cases.for_user(ticket.user_id, 5)
    earlier = [opened_ticket(t, cipher) for t in history[:5]]
    name = user.first_name if user else ""
    return BuyerContext(ticket.user_id, name, orders, earlier, cases)


async def case_notice(uow: UnitOfWork, *, case_id: int, cipher: KeyCipher) -> CaseNotice | None:
    """A decided case, its decision note opened (what the agent told the buyer)."""
    async with uow.reading():
        case = await uow.cases.get(case_id)
        language = await language_of(uow, case.user_id) if case is not None else Language.EN
    return None if case is None else CaseNotice(opened_case(case, cipher), language)
