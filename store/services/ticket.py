"""The human queue: tickets offered fairly to agents on duty, relayed messages, response targets."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cryptography.fernet import InvalidToken

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWork
from store.domain.errors import NotFound, ShopError
from store.domain.model import (
    Agent,
    Case,
    Order,
    OutboxKind,
    QueueStanding,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from store.services.order import ADMINS_CHAT

DEFAULT_HANDLING = timedelta(minutes=5)
"""Assumed handling time until there is history to measure it."""

SUBJECT_ROOM = 200
"""tickets.subject is String(200): a subject is the sealed first words that fit in it."""
SEALED = "gAAAAA"
"""How every Fernet token starts (version byte and the first timestamp bytes)."""


class NotAnAgent(ShopError):
    pass


class NoOpenTicket(ShopError):
    """The agent has no ticket to act on (none assigned, or not theirs)."""


class OffDuty(ShopError):
    """The agent is not on duty, so takes no ticket from the queue."""


class AgentUnavailable(ShopError):
    """A transfer names someone who cannot take the ticket: `reason` says why.

    "self" (the agent holding it), "not_agent", "off_duty" or "full"; `agent` is their record,
    if they have one.
    """

    def __init__(self, agent_id: int, reason: str, agent: Agent | None = None) -> None:
        super().__init__(agent_id, reason)
        self.agent_id = agent_id
        self.reason = reason
        self.agent = agent


MAX_USER_ID = 2**52
"""Telegram's user ids have at most 52 significant bits (and the columns hold 64)."""


@dataclass(frozen=True)
class SupportRules:
    capacity: int = 3
    first_response_minutes: int = 5
    next_response_minutes: int = 10


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


# --- what people type, at rest: sealed with the card-key cipher ------------------------------


def sealed_start(cipher: CardKeyCipher, text: str, room: int) -> tuple[str, str]:
    """The longest start of `text` whose sealed token fits a column of `room` characters:
    (that start, its token). Empty text stays empty."""
    if not text:
        return "", ""
    raw = text.encode()
    while True:
        words = raw.decode(errors="ignore")  # a cut inside a character drops that character
        token = cipher.seal(words)
        if len(token) <= room:
            return words, token
        # a token is about 4/3 of the bytes it seals: cut at least that much, then check again
        raw = raw[: len(raw) - max(1, (len(token) - room) * 3 // 4)]


def seal_text(cipher: CardKeyCipher, text: str, room: int | None = None) -> str:
    """What a person typed, as stored: sealed (the start that fits `room`, if given)."""
    if room is not None:
        return sealed_start(cipher, text, room)[1]
    return cipher.seal(text) if text else ""


def open_text(cipher: CardKeyCipher, stored: str) -> str:
    """What `seal_text` stored; a row written before sealing holds the plain text itself."""
    if not stored.startswith(SEALED):
        return stored
    try:
        return cipher.open(stored)
    except InvalidToken:
        return stored  # plain text that happens to start like a token


def opened_case(case: Case, cipher: CardKeyCipher) -> Case:
    """The case as stored, its decision note opened (what the agent told the buyer)."""
    if not case.decision_note:
        return case
    return replace(case, decision_note=open_text(cipher, case.decision_note))


def _opened(ticket: Ticket, cipher: CardKeyCipher) -> Ticket:
    return replace(ticket, subject=open_text(cipher, ticket.subject))


async def _assign_waiting(
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
        await _note_queue_moved(uow, now)
    return made


def _least_recently_busy(agent: Agent) -> tuple[int, datetime, int]:
    """Fewest open tickets first; among equals, whoever was given one longest ago."""
    return (
        agent.open_tickets,
        agent.last_assigned_at or datetime.min.replace(tzinfo=UTC),
        agent.user_id,
    )


async def _note_queue_moved(uow: UnitOfWork, now: datetime) -> None:
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
        if not await _assign_waiting(uow, now) and new and priority < TicketPriority.GENERAL:
            await _note_queue_moved(uow, now)  # it went ahead of others: their places changed
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


async def set_duty(
    uow: UnitOfWork,
    *,
    agent_id: int,
    display_name: str,
    on: bool,
    now: datetime,
    rules: SupportRules,
) -> tuple[Agent, list[Assignment]]:
    """An agent comes on or goes off duty; coming on takes waiting tickets up to capacity."""
    async with uow:
        await uow.agents.ensure(agent_id, display_name, rules.capacity, now)
        await uow.agents.set_duty(agent_id, on, now)
        made = await _assign_waiting(uow, now) if on else []
        if not on:
            await _note_queue_moved(uow, now)  # fewer agents: longer waits, or "nobody on duty"
        agent = await uow.agents.get(agent_id)
        await uow.commit()
    assert agent is not None
    return agent, made


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
                await _note_queue_moved(uow, now)
                taken = await uow.tickets.get(ticket.id)
                await uow.commit()
                return taken
    return None


async def agent_tickets(
    uow: UnitOfWork, *, agent_id: int, cipher: CardKeyCipher | None = None
) -> tuple[Agent | None, list[Ticket]]:
    """The agent and their open tickets; with a cipher, their subjects opened to show them."""
    async with uow:
        agent, mine = await uow.agents.get(agent_id), await uow.tickets.assigned_to(agent_id)
    return agent, ([_opened(t, cipher) for t in mine] if cipher is not None else mine)


async def focus_ticket(uow: UnitOfWork, *, agent_id: int, ticket_id: int) -> Ticket:
    """The agent's free text goes to this ticket from now on."""
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        if (
            ticket is None
            or ticket.agent_id != agent_id
            or ticket.status is not TicketStatus.ASSIGNED
        ):
            raise NoOpenTicket(ticket_id)
        await uow.agents.set_active(agent_id, ticket_id)
        await uow.commit()
    return ticket


async def _active_ticket(uow: UnitOfWork, agent_id: int, ticket_id: int | None = None) -> Ticket:
    agent = await uow.agents.get(agent_id)
    if agent is None:
        raise NotAnAgent(agent_id)
    wanted = ticket_id if ticket_id is not None else agent.active_ticket_id
    ticket = await uow.tickets.get(wanted) if wanted is not None else None
    if ticket is None or ticket.agent_id != agent_id or ticket.status is not TicketStatus.ASSIGNED:
        mine = await uow.tickets.assigned_to(agent_id)
        if ticket_id is not None or len(mine) != 1:
            raise NoOpenTicket(wanted)
        ticket = mine[0]
        await uow.agents.set_active(agent_id, ticket.id)
    return ticket


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
        ticket = await _active_ticket(uow, agent_id, ticket_id)
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
        ticket = await _active_ticket(uow, agent_id, ticket_id)
        await uow.tickets.close(ticket.id, now)
        rest = await uow.tickets.assigned_to(agent_id)
        await uow.agents.set_active(agent_id, rest[0].id if rest else None)
        made = await _assign_waiting(uow, now)
        closed = await uow.tickets.get(ticket.id)
        await uow.commit()
    assert closed is not None
    return closed, made


async def transfer_ticket(
    uow: UnitOfWork,
    *,
    agent_id: int,
    to_agent_id: int | None,
    now: datetime,
    ticket_id: int | None = None,
) -> tuple[Ticket, list[Assignment]]:
    """Hand the ticket to another agent on duty with room, or (None) back to the queue.

    Refused with `AgentUnavailable` (the ticket stays) when the named agent is this one, has no
    agent record, is off duty or is at capacity.
    """
    if to_agent_id is not None and not 0 < to_agent_id < MAX_USER_ID:
        raise AgentUnavailable(to_agent_id, "not_agent")  # no one has it; SQL could not bind it
    async with uow:
        ticket = await _active_ticket(uow, agent_id, ticket_id)
        if to_agent_id is None:
            await uow.tickets.requeue(ticket.id)
            made = await _assign_waiting(uow, now, not_back_to=(ticket.id, agent_id))
        else:
            if to_agent_id == agent_id:
                raise AgentUnavailable(to_agent_id, "self")
            await uow.agents.lock_all()  # the target's load cannot change until this commits
            target = await uow.agents.get(to_agent_id)
            if target is None or not target.on_duty:
                raise AgentUnavailable(to_agent_id, "off_duty", target)
            if not target.has_room:
                raise AgentUnavailable(to_agent_id, "full", target)
            await uow.tickets.reassign(ticket.id, agent_id, to_agent_id, now)
            await uow.agents.set_active(to_agent_id, ticket.id)
            await uow.outbox.add(
                OutboxKind.TICKET_ASSIGNED,
                to_agent_id,
                f"assigned:{ticket.id}:{to_agent_id}:{now.isoformat()}",
                now,
                body=str(ticket.id),
            )
            made = []
        rest = await uow.tickets.assigned_to(agent_id)
        await uow.agents.set_active(agent_id, rest[0].id if rest else None)
        moved = await uow.tickets.get(ticket.id)
        await uow.commit()
    assert moved is not None
    return moved, made


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
    earlier = [_opened(t, cipher) for t in history]
    return _opened(ticket, cipher), BuyerContext(ticket.user_id, name, orders, earlier, cases)


async def check_response_targets(
    uow: UnitOfWork, *, now: datetime, rules: SupportRules
) -> list[tuple[Ticket, str]]:
    """Record each missed response target once; one alert per run to agents on duty and admins."""
    first_due = now - timedelta(minutes=rules.first_response_minutes)
    next_due = now - timedelta(minutes=rules.next_response_minutes)
    breached: list[tuple[Ticket, str]] = []
    async with uow:
        for ticket, target, since in await uow.tickets.overdue(first_due, next_due):
            if await uow.tickets.record_breach(ticket.id, target, since, now):
                breached.append((ticket, target))
        if breached:
            body = ",".join(f"{target}:{ticket.id}" for ticket, target in breached)
            await uow.outbox.add(
                OutboxKind.RESPONSE_BREACH,
                ADMINS_CHAT,
                f"breach:{now.isoformat()}",
                now,
                body=body[:2000],
            )
        await uow.commit()
    return breached


async def on_duty_agents(uow: UnitOfWork) -> list[Agent]:
    async with uow:
        return await uow.agents.on_duty()


async def open_ticket_of(uow: UnitOfWork, *, user_id: int) -> Ticket | None:
    """The buyer's open ticket, if any (a read: most messages have none)."""
    async with uow:
        return await uow.tickets.open_for_user(user_id)


async def ticket_of(uow: UnitOfWork, *, ticket_id: int) -> Ticket | None:
    async with uow:
        return await uow.tickets.get(ticket_id)


async def find_agent(uow: UnitOfWork, *, agent_id: int) -> Agent | None:
    async with uow:
        return await uow.agents.get(agent_id)


async def find_case(uow: UnitOfWork, *, case_id: int, cipher: CardKeyCipher) -> Case | None:
    """The case, its decision note opened (what the agent told the buyer)."""
    async with uow:
        case = await uow.cases.get(case_id)
    return None if case is None else opened_case(case, cipher)
