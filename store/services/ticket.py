"""The ticket conversation: what buyer and agent write, relayed; closing, rating, context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWork
from store.domain.errors import (
    NotAnAgent,
    NotFound,
)
from store.domain.model import (
    Case,
    Order,
    Ticket,
)
from store.services.agent_duty import active_ticket
from store.services.queue import Assignment, assign_waiting
from store.services.sealing import open_text, opened_case, opened_ticket, seal_text


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
    """A message to pass on: to `chat_id`, within `ticket`."""

    ticket: Ticket
    chat_id: int | None
    message_id: int
    assignments: list[Assignment] = field(default_factory=list)


async def buyer_wrote(
    uow: UnitOfWork,
    *,
    user_id: int,
    text: str,
    now: datetime,
    cipher: CardKeyCipher,
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
        await uow.commit()
    return Relay(ticket, ticket.agent_id, message_id)


async def agent_wrote(
    uow: UnitOfWork,
    *,
    agent_id: int,
    text: str,
    now: datetime,
    cipher: CardKeyCipher,
    ticket_id: int | None = None,
    media: str | None = None,
    source_message_id: int | None = None,
    note: bool = False,
) -> Relay:
    """An agent's reply (or private note) on their active ticket; a reply ends the buyer's wait."""
    async with uow:
        ticket = await active_ticket(uow, agent_id, ticket_id)
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
    return Relay(ticket, None if note else ticket.user_id, message_id)


async def take_unrelayed(
    uow: UnitOfWork, *, ticket_id: int, cipher: CardKeyCipher
) -> list[tuple[int, str, str | None, int | None]]:
    """Buyer messages written while the ticket waited, to show the agent who now has it."""
    async with uow:
        pending = await uow.tickets.unrelayed_buyer_messages(ticket_id)
        await uow.tickets.mark_relayed([m.id for m in pending])
        await uow.commit()
    return [(m.author_id, open_text(cipher, m.body), m.media, m.source_message_id) for m in pending]


async def close_ticket(
    uow: UnitOfWork, *, agent_id: int, now: datetime, ticket_id: int | None = None
) -> tuple[Ticket, list[Assignment]]:
    """Resolve the agent's ticket; the room it frees takes the next waiting ticket."""
    async with uow:
        ticket = await active_ticket(uow, agent_id, ticket_id)
        await uow.tickets.close(ticket.id, now)
        rest = await uow.tickets.assigned_to(agent_id)
        await uow.agents.set_active(agent_id, rest[0].id if rest else None)
        made = await assign_waiting(uow, now)
        closed = await uow.tickets.get(ticket.id)
        await uow.commit()
    assert closed is not None
    return closed, made


async def rate_ticket(uow: UnitOfWork, *, user_id: int, ticket_id: int, rating: int) -> bool:
    """The buyer's 1–5 rating of a closed ticket, once."""
    if not 1 <= rating <= 5:
        return False
    async with uow:
        rated = await uow.tickets.rate(ticket_id, user_id, rating)
        await uow.commit()
    return rated


async def buyer_context(
    uow: UnitOfWork, *, agent_id: int, ticket_id: int, cipher: CardKeyCipher
) -> tuple[Ticket, BuyerContext]:
    """The context card: the buyer's recent orders, earlier tickets and cases. Agents only."""
    async with uow:
        if await uow.agents.get(agent_id) is None:
            raise NotAnAgent(agent_id)
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(ticket_id)
        user = await uow.users.get(ticket.user_id)
        orders, _ = await uow.orders.for_user(ticket.user_id, 0, 5)
        history = [t for t in await uow.tickets.for_user(ticket.user_id, 6) if t.id != ticket.id][
            :5
        ]
        cases = await uow.cases.for_user(ticket.user_id, 5)
    name = user.first_name if user else ""
    earlier = [opened_ticket(t, cipher) for t in history]
    return opened_ticket(ticket, cipher), BuyerContext(ticket.user_id, name, orders, earlier, cases)


async def open_ticket_of(uow: UnitOfWork, *, user_id: int) -> Ticket | None:
    """The buyer's open ticket, if any (a read: most messages have none)."""
    async with uow:
        return await uow.tickets.open_for_user(user_id)


async def ticket_of(uow: UnitOfWork, *, ticket_id: int) -> Ticket | None:
    async with uow:
        return await uow.tickets.get(ticket_id)


async def find_case(uow: UnitOfWork, *, case_id: int, cipher: CardKeyCipher) -> Case | None:
    """The case, its decision note opened (what the agent told the buyer)."""
    async with uow:
        case = await uow.cases.get(case_id)
    return None if case is None else opened_case(case, cipher)
