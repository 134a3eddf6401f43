"""A buyer leaving support themselves: out of the queue, or away from their agent."""

from __future__ import annotations

from store.domain.flow import AwaitingScreenshot
from store.domain.model import CaseReason, TicketStatus
from store.domain.outbox import QueuePosition
from store.services.ticket import leave_support
from tests.conftest import FakeClock
from tests.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_ticket import ANN, BUYER, ask, buyer_says, duty


async def test_leaving_the_queue_closes_the_ticket_and_nothing_is_relayed_after(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    ticket_id = await ask(db, clock)
    left = await leave_support(FakeUnitOfWork(db), user_id=BUYER, now=clock.now())
    assert left is not None and left.ticket.id == ticket_id and left.agent_id is None
    assert db.tables.tickets[ticket_id].status is TicketStatus.CLOSED
    assert await buyer_says(db, clock, "still there?") is None


async def test_leaving_an_agent_names_them_and_frees_their_room_for_the_next_buyer(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await duty(db, clock, capacity=1)
    first = await ask(db, clock)
    waiting = await ask(db, clock, user_id=2002)
    left = await leave_support(FakeUnitOfWork(db), user_id=BUYER, now=clock.now())
    assert left is not None and left.ticket.id == first and left.agent_id == ANN
    assert [a.ticket.id for a in left.assignments] == [waiting]
    assert db.tables.agents[ANN].active_ticket_id == waiting


async def test_those_still_waiting_get_their_place_updated_when_someone_leaves(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await ask(db, clock)
    behind = await ask(db, clock, user_id=2002)
    clock.advance(minutes=2)
    await leave_support(FakeUnitOfWork(db), user_id=BUYER, now=clock.now())
    places = [payload for chat, payload in db.outbox() if chat == 2002]
    assert places == [QueuePosition(behind), QueuePosition(behind)]  # asked, and moved up


async def test_a_ticket_id_that_is_not_the_buyers_open_ticket_closes_nothing(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    mine = await ask(db, clock)
    theirs = await ask(db, clock, user_id=2002)
    assert (
        await leave_support(FakeUnitOfWork(db), user_id=BUYER, now=clock.now(), ticket_id=theirs)
        is None
    )
    assert db.tables.tickets[mine].status is TicketStatus.QUEUED
    assert db.tables.tickets[theirs].status is TicketStatus.QUEUED


async def test_cancel_leaves_a_step_first_and_the_queue_only_when_there_is_none(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    ticket_id = await ask(db, clock)
    async with FakeUnitOfWork(db) as tx:
        await tx.states.put(BUYER, AwaitingScreenshot(1, 2, CaseReason.INVALID), clock.now())
        await tx.commit()
    now = clock.now()
    assert await leave_support(FakeUnitOfWork(db), user_id=BUYER, now=now, leave_step=True) is None
    assert db.tables.tickets[ticket_id].status is TicketStatus.QUEUED
    left = await leave_support(FakeUnitOfWork(db), user_id=BUYER, now=now, leave_step=True)
    assert left is not None and db.tables.tickets[ticket_id].status is TicketStatus.CLOSED
