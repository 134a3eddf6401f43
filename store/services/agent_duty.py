"""Agents and their duty: on and off duty, their open tickets, focus and transfer."""

from __future__ import annotations

from datetime import datetime

from store.domain.errors import (
    AgentUnavailable,
    AliasRefused,
    NoOpenTicket,
    NotAnAgent,
)
from store.domain.model import (
    Agent,
    Ticket,
    TicketStatus,
)
from store.domain.outbox import QueuePosition
from store.domain.support import ALIAS_LENGTH, MAX_USER_ID, SupportRules, chosen_alias
from store.services.ports import KeyCipher, UnitOfWork
from store.services.queue import Assignment, assign_waiting, note_queue_moved, send_card
from store.services.sealing import opened_ticket


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
        made = await assign_waiting(uow, now) if on else []
        if not on:
            await note_queue_moved(uow, now)  # fewer agents: longer waits, or "nobody on duty"
        agent = await uow.agents.get(agent_id)
        await uow.commit()
    assert agent is not None
    return agent, made


async def set_alias(
    uow: UnitOfWork,
    *,
    agent_id: int,
    alias: str,
    register_as: tuple[str, int, datetime] | None = None,
) -> Agent:
    """The name buyers know this agent by from now on (`/alias 小美`); their Telegram name
    never reaches a buyer. Refused with `AliasRefused` (see `chosen_alias`). With
    `register_as` (display name, capacity, now), an agent never on duty yet is recorded first."""
    chosen = chosen_alias(alias)
    if chosen is None:
        raise AliasRefused(alias[: ALIAS_LENGTH * 2])
    async with uow:
        if register_as is not None:
            await uow.agents.ensure(agent_id, *register_as)
        if not await uow.agents.set_alias(agent_id, chosen):
            raise NotAnAgent(agent_id)
        agent = await uow.agents.get(agent_id)
        await uow.commit()
    assert agent is not None
    return agent


async def agent_tickets(
    uow: UnitOfWork, *, agent_id: int, cipher: KeyCipher | None = None
) -> tuple[Agent | None, list[Ticket]]:
    """The agent and their open tickets; with a cipher, their subjects opened to show them."""
    async with uow.reading():
        agent, mine = await uow.agents.get(agent_id), await uow.tickets.assigned_to(agent_id)
    return agent, ([opened_ticket(t, cipher) for t in mine] if cipher is not None else mine)


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


async def active_ticket(uow: UnitOfWork, agent_id: int, ticket_id: int | None = None) -> Ticket:
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
        ticket = await active_ticket(uow, agent_id, ticket_id)
        if to_agent_id is None:
            await uow.tickets.requeue(ticket.id)
            made = await assign_waiting(uow, now, not_back_to=(ticket.id, agent_id))
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
            await send_card(uow, ticket.id, to_agent_id, now)
            made = []
        rest = await uow.tickets.assigned_to(agent_id)
        await uow.agents.set_active(agent_id, rest[0].id if rest else None)
        moved = await uow.tickets.get(ticket.id)
        assert moved is not None
        if moved.status is TicketStatus.QUEUED:  # nobody else took it: the buyer waits again
            key = f"queue:{ticket.id}:handed_back:{now.isoformat()}"
            await uow.outbox.add(
                QueuePosition(ticket.id, handed_back=True), moved.user_id, key, now
            )
        await uow.commit()
    return moved, made


async def on_duty_agents(uow: UnitOfWork) -> list[Agent]:
    async with uow.reading():
        return await uow.agents.on_duty()


async def find_agent(uow: UnitOfWork, *, agent_id: int) -> Agent | None:
    async with uow.reading():
        return await uow.agents.get(agent_id)
