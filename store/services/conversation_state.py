"""Where someone is in the conversation: a step of a flow (kept in the database), or a ticket."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from store.domain.errors import BadPayload
from store.domain.flow import AwaitingScreenshot, FlowState
from store.services.ports import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Situation:
    """Where someone's next message goes."""

    flow: FlowState | None = None
    agent_in_conversation: bool = False
    """An agent holding tickets: what they send goes to a buyer."""
    buyer_in_conversation: bool = False
    """A buyer with an open ticket: what they send goes to its agent, or waits for one."""


async def situation_of(
    uow: UnitOfWork, *, user_id: int, agent: bool, words: bool = False
) -> Situation:
    """Where a message from this user goes (`agent`: they are an agent by the settings).

    `words`: the message is text, which ends a wait for a screenshot (the buyer asks anew).
    A step whose data does not parse is left, and counts as none.
    """
    unreadable = False
    async with uow.reading():
        try:
            flow = await uow.states.get(user_id)
        except BadPayload as error:
            log.warning("user %s: a flow step was refused and left: %s", user_id, error)
            flow, unreadable = None, True
        holding = agent and bool(await uow.tickets.assigned_to(user_id))
        ticket = None if holding else await uow.tickets.open_for_user(user_id)
    if unreadable or (words and isinstance(flow, AwaitingScreenshot)):
        async with uow:
            await uow.states.clear(user_id)
            await uow.commit()
        flow = None
    return Situation(flow, holding, ticket is not None)


async def current_flow(uow: UnitOfWork, *, user_id: int) -> FlowState | None:
    """The user's step; one whose data does not parse counts as none."""
    async with uow.reading():
        try:
            return await uow.states.get(user_id)
        except BadPayload:
            return None


async def enter_flow(uow: UnitOfWork, *, user_id: int, flow: FlowState, now: datetime) -> None:
    async with uow:
        await uow.states.put(user_id, flow, now)
        await uow.commit()


async def leave_flow(uow: UnitOfWork, *, user_id: int) -> None:
    async with uow:
        await uow.states.clear(user_id)
        await uow.commit()
