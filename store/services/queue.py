"""The human queue: tickets offered fairly to agents on duty, places and expected waits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from store.domain.errors import (
    NotAnAgent,
    OffDuty,
)
from store.domain.model import (
    Agent,
    Language,
    QueueStanding,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from store.domain.outbox import QueuePosition, TicketAssigned
from store.domain.queue import expected_wait_seconds, least_recently_busy
from store.services.ports import KeyCipher, UnitOfWork
from store.services.sealing import SUBJECT_ROOM, open_text, seal_text, sealed_start
from store.services.user import language_of


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


@dataclass(frozen=True)
class QueuePlace:
    """A waiting buyer's standing, and the language to tell them it in."""

    standing: QueueStanding
    language: Language


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
        free = [a for a in load.values() if a.has_room and (ticket.id, a.user_id) != not_back_to]
        if not free:
            if any(a.has_room for a in load.values()):
                continue  # only the agent who handed it back has room: try the next ticket
            break
        agent = min(free, key=least_recently_busy)
        if await uow.tickets.assign(ticket.id, agent.user_id, now):
            load[agent.user_id] = replace(
                agent, open_tickets=agent.open_tickets + 1, last_assigned_at=now
            )
            if agent.active_ticket_id is None or agent.open_tickets == 0:
                await uow.agents.set_active(agent.user_id, ticket.id)
            assigned = await uow.tickets.get(ticket.id)
            assert assigned is not None
            made.append(Assignment(assigned, agent.user_id))
            await send_card(uow, ticket.id, agent.user_id, now)
    if made:
        await note_queue_moved(uow, now)
    return made


async def send_card(
    uow: UnitOfWork, ticket_id: int, agent_id: int, now: datetime, *, refresh: bool = False
) -> None:
    """Inside the caller's transaction: the agent who now has the ticket gets its card (and
    what the buyer wrote while waiting), and the buyer is told who it is, once: a `refresh`
    (the same agent's card again) tells the buyer nothing."""
    verb = "card" if refresh else "assigned"
    await uow.outbox.add(
        TicketAssigned(ticket_id, refresh=refresh),
        agent_id,
        f"{verb}:{ticket_id}:{agent_id}:{now.isoformat()}",
        now,
    )


async def note_queue_moved(uow: UnitOfWork, now: datetime, *, but: int | None = None) -> None:
    """Every buyer still waiting (`but` one) gets their place updated (one edited message each).

    At most one update per buyer a minute (and one when the number of agents on duty changes):
    the text is worked out when it is sent, so it is current, and a long queue moving fast
    does not turn into thousands of edits.
    """
    on_duty = len(await uow.agents.on_duty())
    minute = now.strftime("%Y-%m-%dT%H:%M")
    for ticket in await uow.tickets.queued():
        if ticket.id != but:
            key = f"queue:{ticket.id}:{minute}:{on_duty}"
            await uow.outbox.add(QueuePosition(ticket.id), ticket.user_id, key, now)


async def standing(uow: UnitOfWork, ticket: Ticket) -> QueueStanding:
    """A queued ticket's place and expected wait, from recent handling times."""
    position = await uow.tickets.place_in_queue(ticket)
    agents = await uow.agents.on_duty()
    if not agents:
        return QueueStanding(ticket, position, None, 0)
    handled = await uow.tickets.recent_handling_seconds()
    wait = expected_wait_seconds(position, handled, sum(a.capacity for a in agents))
    return QueueStanding(ticket, position, wait, len(agents))


async def ask_for_human(
    uow: UnitOfWork,
    *,
    user_id: int,
    first_name: str,
    now: datetime,
    cipher: KeyCipher,
    text: str = "",
    question_id: int | None = None,
    priority: TicketPriority = TicketPriority.GENERAL,
    kind: str = "question",
    case_id: int | None = None,
    attachment: tuple[str, int] | None = None,
) -> Handoff:
    """Open a ticket (or reuse the buyer's open one); offer it at once to an agent with room.

    It starts with `text` (the buyer's words, or a bad-key case's summary), or with the
    question `question_id` when the buyer asks for a person under the bot's answer to it (the
    answer is then marked as one that did not help). See `hand_to_human` for what follows.
    """
    async with uow:
        if question_id is not None:
            await uow.questions.set_helpful(question_id, user_id, False)
            text = open_text(cipher, await uow.questions.get_text(question_id, user_id) or "")
        handoff = await hand_to_human(
            uow,
            user_id=user_id,
            first_name=first_name,
            text=text,
            now=now,
            cipher=cipher,
            priority=priority,
            kind=kind,
            case_id=case_id,
            attachment=attachment,
        )
        await uow.commit()
    return handoff


async def hand_to_human(
    uow: UnitOfWork,
    *,
    user_id: int,
    first_name: str,
    text: str,
    now: datetime,
    cipher: KeyCipher,
    priority: TicketPriority = TicketPriority.GENERAL,
    kind: str = "question",
    case_id: int | None = None,
    attachment: tuple[str, int] | None = None,
) -> Handoff:
    """Inside the caller's transaction: `ask_for_human` once the words are known.

    The words are sealed with `cipher`. A buyer left waiting is shown their place through the
    outbox (one message, edited as the queue moves, whose id is kept once it is sent); a case
    joining a conversation an agent already holds sends the agent a fresh card for it.
    `attachment`: (media, message id) of what the buyer sent with the words (a bad-key
    report's screenshot), copied to the agent with the ticket's card.
    """
    words, subject = sealed_start(cipher, text, SUBJECT_ROOM)
    body = seal_text(cipher, text[:4000])
    await uow.users.ensure(user_id, first_name, now)
    ticket = await uow.tickets.open_for_user(user_id)
    new = ticket is None
    if ticket is None:
        ticket_id = await uow.tickets.add(
            user_id=user_id,
            priority=priority,
            kind=kind,
            case_id=case_id,
            subject=subject,
            created_at=now,
            waiting_since=now,
        )
    else:
        ticket_id = ticket.id
        if priority < ticket.priority:  # a bad-key case lifts a waiting general question
            await uow.tickets.raise_priority(ticket_id, priority, kind, case_id)
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
    if attachment is not None:
        media, message_id = attachment
        await uow.tickets.add_message(
            ticket_id=ticket_id,
            sender="buyer",
            author_id=user_id,
            body=seal_text(cipher, ""),
            media=media,
            source_chat_id=user_id,
            source_message_id=message_id,
            created_at=now,
        )
    await uow.tickets.mark_buyer_waiting(ticket_id, now)
    if not await assign_waiting(uow, now) and new and priority < TicketPriority.GENERAL:
        await note_queue_moved(uow, now, but=ticket_id)  # it went ahead: their places changed
    current = await uow.tickets.get(ticket_id)
    assert current is not None
    if current.status is TicketStatus.ASSIGNED:
        assert current.agent_id is not None
        if not new and case_id is not None:
            await send_card(uow, ticket_id, current.agent_id, now, refresh=True)
        return Handoff(current, new, agent=await uow.agents.get(current.agent_id))
    if new or current.queue_message_id is None:
        key = f"queue:{ticket_id}:asked:{now.isoformat()}"
        await uow.outbox.add(QueuePosition(ticket_id), user_id, key, now)
    return Handoff(current, new, standing=await standing(uow, current))


async def queue_place(uow: UnitOfWork, *, ticket_id: int) -> QueuePlace | None:
    """A waiting ticket's place and wait, to show its buyer; None once it waits no more."""
    async with uow.reading():
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.QUEUED:
            return None
        return QueuePlace(await standing(uow, ticket), await language_of(uow, ticket.user_id))


async def claim_next_ticket(uow: UnitOfWork, *, agent_id: int, now: datetime) -> Ticket | None:
    """/next: the best waiting ticket goes to this agent, whatever their load; None if none wait.

    Its card comes through the outbox, as for any assignment."""
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
                await send_card(uow, ticket.id, agent_id, now)
                await note_queue_moved(uow, now)
                taken = await uow.tickets.get(ticket.id)
                await uow.commit()
                return taken
    return None
