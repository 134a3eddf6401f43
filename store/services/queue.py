"""The human queue: tickets offered fairly to agents on duty, places and expected waits."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWork
from store.domain.errors import (
    NotAnAgent,
    OffDuty,
)
from store.domain.model import (
    Agent,
    OutboxKind,
    QueueStanding,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from store.services.sealing import SUBJECT_ROOM, seal_text, sealed_start

DEFAULT_HANDLING = timedelta(minutes=5)
"""Assumed handling time until there is history to measure it."""


@dataclass(frozen=True)
class Handoff:
    """What asking for a human did: the ticket, and either its agent or its place in the queue."""

    ticket: Ticket
    new: bool
    agent: Agent | None = None
    standing: QueueStanding | None = None


@dataclass(frozen=True)
class Assignment:
    ticket: Ticket
    agent_id: int


async def assign_waiting(
    uow: UnitOfWork, now: datetime, *, not_back_to: tuple[int, int] | None = None
) -> list[Assignment]:
    """Offer queued tickets, best first, each to the least-loaded agent on duty with room.

    `not_back_to` (ticket, agent): a ticket an agent just handed back is not offered to them.
    """
    await uow.agents.lock_all()
    load = {agent.user_id: agent for agent in await uow.agents.on_duty()}
    made: list[Assignment] = []
    for ticket in await uow.tickets.queued():
        free = [
            a
            for a in load.values()
            if a.open_tickets < a.capacity and (ticket.id, a.user_id) != not_back_to
        ]
        if not free:
            if any(a.open_tickets < a.capacity for a in load.values()):
                continue  # only the agent who handed it back has room: try the next ticket
            break
        agent = min(free, key=_least_recently_busy)
        if await uow.tickets.assign(ticket.id, agent.user_id, now):
            load[agent.user_id] = replace(
                agent, open_tickets=agent.open_tickets + 1, last_assigned_at=now
            )
            if agent.active_ticket_id is None or agent.open_tickets == 0:
                await uow.agents.set_active(agent.user_id, ticket.id)
            assigned = await uow.tickets.get(ticket.id)
            assert assigned is not None
            made.append(Assignment(assigned, agent.user_id))
            await uow.outbox.add(
                OutboxKind.TICKET_ASSIGNED,
                agent.user_id,
                f"assigned:{ticket.id}:{agent.user_id}:{now.isoformat()}",
                now,
                body=str(ticket.id),
            )
    if made:
        await note_queue_moved(uow, now)
    return made


def _least_recently_busy(agent: Agent) -> tuple[int, datetime, int]:
    """Fewest open tickets first; among equals, whoever was given one longest ago."""
    return (
        agent.open_tickets,
        agent.last_assigned_at or datetime.min.replace(tzinfo=UTC),
        agent.user_id,
    )


async def note_queue_moved(uow: UnitOfWork, now: datetime) -> None:
    """Every buyer still waiting gets their place updated (one edited message each).

    At most one update per buyer a minute (and one when the number of agents on duty changes):
    the text is worked out when it is sent, so it is current, and a long queue moving fast
    does not turn into thousands of edits.
    """
    on_duty = len(await uow.agents.on_duty())
    minute = now.strftime("%Y-%m-%dT%H:%M")
    for ticket in await uow.tickets.queued():
        await uow.outbox.add(
            OutboxKind.QUEUE_POSITION,
            ticket.user_id,
            f"queue:{ticket.id}:{minute}:{on_duty}",
            now,
            body=str(ticket.id),
        )


async def standing(uow: UnitOfWork, ticket: Ticket) -> QueueStanding:
    """A queued ticket's place and expected wait, from recent handling times."""
    position = await uow.tickets.place_in_queue(ticket)
    agents = await uow.agents.on_duty()
    if not agents:
        return QueueStanding(ticket, position, None, 0)
    handled = await uow.tickets.recent_handling_seconds()
    per_ticket = statistics.median(handled) if handled else DEFAULT_HANDLING.total_seconds()
    slots = sum(a.capacity for a in agents)
    return QueueStanding(ticket, position, int(position * per_ticket / slots), len(agents))


async def ask_for_human(
    uow: UnitOfWork,
    *,
    user_id: int,
    first_name: str,
    text: str,
    now: datetime,
    priority: TicketPriority = TicketPriority.GENERAL,
    kind: str = "question",
    case_id: int | None = None,
    cipher: CardKeyCipher,
) -> Handoff:
    """Open a ticket (or reuse the buyer's open one); offer it at once to an agent with room.

    What starts it (the buyer's words, or a bad-key case's summary) is sealed with `cipher`.
    """
    words, subject = sealed_start(cipher, text, SUBJECT_ROOM)
    body = seal_text(cipher, text[:4000])
    async with uow:
        await uow.users.ensure(user_id, first_name, now)
        ticket = await uow.tickets.open_for_user(user_id)
        new = ticket is None
        if ticket is None:
            ticket_id = await uow.tickets.add(
                user_id=user_id,
                status=TicketStatus.QUEUED.value,
                priority=int(priority),
                kind=kind,
                case_id=case_id,
                subject=subject,
                created_at=now,
                waiting_since=now,
            )
        else:
            ticket_id = ticket.id
            if priority < ticket.priority:  # a bad-key case lifts a waiting general question
                await uow.tickets.set_fields(
                    ticket_id, priority=int(priority), kind=kind, case_id=case_id
                )
        if text:
            await uow.tickets.add_message(
                ticket_id=ticket_id,
                sender="buyer",
                author_id=user_id,
                body=body,
                # a new ticket's first words are its subject, on the agent's card; words that
                # did not fit in the subject reach the agent as a message
                relayed=new and words == text,
                created_at=now,
            )
        await uow.tickets.mark_buyer_waiting(ticket_id, now)
        if not await assign_waiting(uow, now) and new and priority < TicketPriority.GENERAL:
            await note_queue_moved(uow, now)  # it went ahead of others: their places changed
        current = await uow.tickets.get(ticket_id)
        assert current is not None
        if current.status is TicketStatus.ASSIGNED:
            assert current.agent_id is not None
            result = Handoff(current, new, agent=await uow.agents.get(current.agent_id))
        else:
            result = Handoff(current, new, standing=await standing(uow, current))
        await uow.commit()
    return result


async def remember_queue_message(uow: UnitOfWork, *, ticket_id: int, message_id: int) -> None:
    """The message that shows the buyer their place, so updates edit it instead of adding more."""
    async with uow:
        await uow.tickets.set_fields(ticket_id, queue_message_id=message_id)
        await uow.commit()


async def queue_standing(uow: UnitOfWork, *, ticket_id: int) -> QueueStanding | None:
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.QUEUED:
            return None
        return await standing(uow, ticket)


async def claim_next_ticket(uow: UnitOfWork, *, agent_id: int, now: datetime) -> Ticket | None:
    """/next: the best waiting ticket goes to this agent, whatever their load; None if none wait."""
    async with uow:
        agent = await uow.agents.get(agent_id)
        if agent is None:
            raise NotAnAgent(agent_id)
        if not agent.on_duty:
            raise OffDuty(agent_id)
        await uow.agents.lock_all()
        for ticket in await uow.tickets.queued(limit=5):
            if await uow.tickets.assign(ticket.id, agent_id, now):
                await uow.agents.set_active(agent_id, ticket.id)
                await note_queue_moved(uow, now)
                taken = await uow.tickets.get(ticket.id)
                await uow.commit()
                return taken
    return None
