"""Agents and their duty: on and off duty, focus and transfer, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import AgentUnavailable, NoOpenTicket
from store.domain.model import TicketStatus
from store.domain.outbox import QueuePosition, TicketAssigned
from store.domain.support import SupportRules
from store.services.agent_duty import (
    agent_tickets,
    find_agent,
    focus_ticket,
    on_duty_agents,
    set_duty,
    transfer_ticket,
)
from store.services.queue import ask_for_human
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
ANN, BOB = 900, 901


async def duty(
    db: FakeDatabase, clock: FakeClock, agent_id: int, on: bool = True, capacity: int = 3
) -> list[int]:
    _, made = await set_duty(
        FakeUnitOfWork(db),
        agent_id=agent_id,
        display_name=f"agent {agent_id}",
        on=on,
        now=clock.now(),
        rules=SupportRules(capacity=capacity),
    )
    return [a.ticket.id for a in made]


async def ask(db: FakeDatabase, clock: FakeClock, user_id: int) -> int:
    handoff = await ask_for_human(
        FakeUnitOfWork(db),
        user_id=user_id,
        first_name="",
        text="hi",
        now=clock.now(),
        cipher=CIPHER,
    )
    clock.advance(seconds=1)
    return handoff.ticket.id


async def test_coming_on_duty_takes_waiting_tickets_up_to_capacity(clock: FakeClock) -> None:
    db = FakeDatabase()
    waiting = [await ask(db, clock, buyer) for buyer in (1, 2, 3)]
    assert await duty(db, clock, ANN, capacity=2) == waiting[:2]
    agent = await find_agent(FakeUnitOfWork(db), agent_id=ANN)
    assert agent is not None and agent.open_tickets == 2
    assert db.tables.tickets[waiting[2]].status is TicketStatus.QUEUED


async def test_going_off_duty_tells_those_waiting_that_their_wait_changed(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN, capacity=1)
    await ask(db, clock, 1)
    waiting = await ask(db, clock, 2)
    before = len(db.outbox())
    await duty(db, clock, ANN, on=False)
    assert db.outbox()[before:] == [(2, QueuePosition(waiting))]
    assert await on_duty_agents(FakeUnitOfWork(db)) == []


async def test_an_agent_s_tickets_are_shown_with_their_subjects_opened(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    await ask(db, clock, 1)
    uow = FakeUnitOfWork(db)
    agent, mine = await agent_tickets(uow, agent_id=ANN, cipher=CIPHER)
    assert agent is not None and [t.subject for t in mine] == ["hi"] and uow.opened == ["read"]


async def test_an_agent_focuses_only_a_ticket_they_hold(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    await duty(db, clock, BOB)
    first, second = await ask(db, clock, 1), await ask(db, clock, 2)
    mine = first if db.tables.tickets[first].agent_id == ANN else second
    theirs = second if mine == first else first
    await focus_ticket(FakeUnitOfWork(db), agent_id=ANN, ticket_id=mine)
    assert db.tables.agents[ANN].active_ticket_id == mine
    with pytest.raises(NoOpenTicket):
        await focus_ticket(FakeUnitOfWork(db), agent_id=ANN, ticket_id=theirs)


async def test_a_ticket_handed_back_to_the_queue_goes_to_another_agent_not_back(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    await ask(db, clock, 1)
    await duty(db, clock, BOB)
    moved, made = await transfer_ticket(
        FakeUnitOfWork(db), agent_id=ANN, to_agent_id=None, now=clock.now()
    )
    assert moved.agent_id == BOB and [a.agent_id for a in made] == [BOB]
    assert db.tables.agents[ANN].active_ticket_id is None


async def test_a_ticket_handed_back_with_nobody_else_on_duty_waits(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    await ask(db, clock, 1)
    moved, made = await transfer_ticket(
        FakeUnitOfWork(db), agent_id=ANN, to_agent_id=None, now=clock.now()
    )
    assert moved.status is TicketStatus.QUEUED and made == []


async def test_a_ticket_transferred_to_an_agent_with_room_is_theirs_with_its_card(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    ticket_id = await ask(db, clock, 1)
    await duty(db, clock, BOB)
    moved, _ = await transfer_ticket(
        FakeUnitOfWork(db), agent_id=ANN, to_agent_id=BOB, now=clock.now()
    )
    assert moved.agent_id == BOB and db.tables.agents[BOB].active_ticket_id == ticket_id
    assert db.outbox()[-1] == (BOB, TicketAssigned(ticket_id))


@pytest.mark.parametrize(
    ("target", "reason"), [(ANN, "self"), (BOB, "off_duty"), (2**60, "not_agent"), (902, "full")]
)
async def test_a_transfer_to_someone_who_cannot_take_it_is_refused_and_the_ticket_stays(
    clock: FakeClock, target: int, reason: str
) -> None:
    db = FakeDatabase()
    await duty(db, clock, 902, capacity=1)
    await ask(db, clock, 5)  # 902 is full now
    await duty(db, clock, ANN)
    ticket_id = await ask(db, clock, 1)
    await duty(db, clock, BOB, on=False)
    with pytest.raises(AgentUnavailable) as refused:
        await transfer_ticket(FakeUnitOfWork(db), agent_id=ANN, to_agent_id=target, now=clock.now())
    assert refused.value.reason == reason
    assert db.tables.tickets[ticket_id].agent_id == ANN
