"""The human queue: tickets offered fairly to agents on duty, places and waits, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import NotAnAgent, OffDuty
from store.domain.model import Language, TicketPriority, TicketStatus
from store.domain.outbox import QueuePosition, TicketAssigned
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.question import record_question
from store.services.queue import (
    Handoff,
    ask_for_human,
    claim_next_ticket,
    queue_place,
)
from store.services.user import register_user
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
ANN, BOB = 900, 901


async def ask(
    db: FakeDatabase,
    clock: FakeClock,
    user_id: int,
    text: str = "where is my key?",
    priority: TicketPriority = TicketPriority.GENERAL,
) -> Handoff:
    return await ask_for_human(
        FakeUnitOfWork(db),
        user_id=user_id,
        first_name="Li",
        text=text,
        now=clock.now(),
        cipher=CIPHER,
        priority=priority,
        kind="question" if priority is TicketPriority.GENERAL else "bad_key",
    )


async def duty(
    db: FakeDatabase, clock: FakeClock, agent_id: int, on: bool = True, capacity: int = 3
) -> None:
    await set_duty(
        FakeUnitOfWork(db),
        agent_id=agent_id,
        display_name=f"agent {agent_id}",
        on=on,
        now=clock.now(),
        rules=SupportRules(capacity=capacity),
    )


async def test_a_buyer_asking_while_nobody_is_on_duty_waits_first_in_the_queue(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    handoff = await ask(db, clock, 1)
    assert handoff.new and handoff.agent is None and handoff.standing is not None
    assert (handoff.standing.position, handoff.standing.agents_on_duty) == (1, 0)
    assert handoff.standing.expected_wait_seconds is None
    assert db.outbox() == [(1, QueuePosition(handoff.ticket.id))]
    assert CIPHER.open(db.tables.tickets[handoff.ticket.id].subject) == "where is my key?"


async def test_asking_again_reuses_the_buyer_s_open_ticket(clock: FakeClock) -> None:
    db = FakeDatabase()
    first = await ask(db, clock, 1)
    again = await ask(db, clock, 1, "hello?")
    assert not again.new and again.ticket.id == first.ticket.id and len(db.tables.tickets) == 1
    assert [CIPHER.open(m.message.body) for m in db.tables.messages.values()] == [
        "where is my key?",
        "hello?",
    ]


async def test_a_ticket_goes_at_once_to_an_agent_on_duty_with_room(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    handoff = await ask(db, clock, 1)
    assert handoff.agent is not None and handoff.agent.user_id == ANN
    ticket = db.tables.tickets[handoff.ticket.id]
    assert (ticket.status, ticket.agent_id) == (TicketStatus.ASSIGNED, ANN)
    assert (ANN, TicketAssigned(ticket.id)) in db.outbox()
    assert db.tables.agents[ANN].active_ticket_id == ticket.id


async def test_tickets_go_to_the_least_loaded_agent(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN)
    await duty(db, clock, BOB)
    owners = []
    for buyer in (1, 2, 3, 4):
        handoff = await ask(db, clock, buyer)
        owners.append(handoff.agent.user_id if handoff.agent else None)
        clock.advance(seconds=1)
    assert owners == [ANN, BOB, ANN, BOB]


async def test_an_agent_at_capacity_takes_no_more_and_the_next_buyer_waits(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN, capacity=1)
    await ask(db, clock, 1)
    waiting = await ask(db, clock, 2)
    assert waiting.agent is None and waiting.standing is not None
    assert (waiting.standing.position, waiting.standing.agents_on_duty) == (1, 1)
    assert waiting.standing.expected_wait_seconds == 300  # the default handling time, one slot


async def test_a_bad_key_case_is_served_before_questions_that_waited_longer(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    question = await ask(db, clock, 1)
    clock.advance(minutes=1)
    case = await ask(db, clock, 2, "Bad key", TicketPriority.BAD_KEY)
    place = await queue_place(FakeUnitOfWork(db), ticket_id=question.ticket.id)
    assert place is not None and place.standing.position == 2
    assert case.standing is not None and case.standing.position == 1
    assert (1, QueuePosition(question.ticket.id)) in db.outbox()[1:]  # its place changed


async def test_a_bad_key_case_lifts_the_buyer_s_waiting_question(clock: FakeClock) -> None:
    db = FakeDatabase()
    first = await ask(db, clock, 1)
    await ask(db, clock, 1, "Bad key", TicketPriority.BAD_KEY)
    ticket = db.tables.tickets[first.ticket.id]
    assert (ticket.priority, ticket.kind) == (TicketPriority.BAD_KEY, "bad_key")


async def test_a_buyer_s_place_comes_in_their_language_and_only_while_they_wait(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await register_user(
        FakeUnitOfWork(db), user_id=1, first_name="Li", language=Language.ZH, now=clock.now()
    )
    handoff = await ask(db, clock, 1)
    uow = FakeUnitOfWork(db)
    place = await queue_place(uow, ticket_id=handoff.ticket.id)
    assert place is not None and place.language is Language.ZH and uow.opened == ["read"]
    await duty(db, clock, ANN)
    assert await queue_place(FakeUnitOfWork(db), ticket_id=handoff.ticket.id) is None


async def test_asking_under_an_answer_starts_with_that_question_and_marks_it_unhelpful(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    question_id = await record_question(
        FakeUnitOfWork(db),
        user_id=1,
        language="en",
        action="answer",
        entry_id="refund",
        score=90,
        now=clock.now(),
        text="can I get a refund?",
        cipher=CIPHER,
    )
    handoff = await ask_for_human(
        FakeUnitOfWork(db),
        user_id=1,
        first_name="Li",
        now=clock.now(),
        cipher=CIPHER,
        question_id=question_id,
    )
    assert CIPHER.open(db.tables.tickets[handoff.ticket.id].subject) == "can I get a refund?"
    assert db.tables.questions[question_id].helpful is False


async def test_next_takes_the_best_waiting_ticket_whatever_the_agent_s_load(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await duty(db, clock, ANN, capacity=1)
    await ask(db, clock, 1)
    waiting = await ask(db, clock, 2)
    taken = await claim_next_ticket(FakeUnitOfWork(db), agent_id=ANN, now=clock.now())
    assert taken is not None and taken.id == waiting.ticket.id and taken.agent_id == ANN
    assert await claim_next_ticket(FakeUnitOfWork(db), agent_id=ANN, now=clock.now()) is None


async def test_next_is_for_agents_on_duty(clock: FakeClock) -> None:
    db = FakeDatabase()
    with pytest.raises(NotAnAgent):
        await claim_next_ticket(FakeUnitOfWork(db), agent_id=ANN, now=clock.now())
    await duty(db, clock, ANN, on=False)
    with pytest.raises(OffDuty):
        await claim_next_ticket(FakeUnitOfWork(db), agent_id=ANN, now=clock.now())
