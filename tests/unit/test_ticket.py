"""The ticket conversation: what buyer and agent write, the agent's card, closing and rating."""

from __future__ import annotations

import pytest

from store.domain.errors import NoOpenTicket, NotAnAgent
from store.domain.model import Language, TicketStatus
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.queue import ask_for_human
from store.services.ticket import (
    agent_wrote,
    assignment_card,
    buyer_wrote,
    close_ticket,
    rate_ticket,
)
from store.services.user import register_user
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
ANN, BUYER = 900, 1001


async def duty(db: FakeDatabase, clock: FakeClock, capacity: int = 3) -> None:
    await set_duty(
        FakeUnitOfWork(db),
        agent_id=ANN,
        display_name="Ann",
        on=True,
        now=clock.now(),
        rules=SupportRules(capacity=capacity),
    )


async def ask(db: FakeDatabase, clock: FakeClock, user_id: int = BUYER) -> int:
    handoff = await ask_for_human(
        FakeUnitOfWork(db),
        user_id=user_id,
        first_name="Li",
        text="my key?",
        now=clock.now(),
        cipher=CIPHER,
    )
    return handoff.ticket.id


async def buyer_says(db: FakeDatabase, clock: FakeClock, text: str, user_id: int = BUYER):  # type: ignore[no-untyped-def]
    return await buyer_wrote(
        FakeUnitOfWork(db), user_id=user_id, text=text, now=clock.now(), cipher=CIPHER
    )


async def test_a_buyer_without_an_open_ticket_writes_to_nobody(clock: FakeClock) -> None:
    db = FakeDatabase()
    assert await buyer_says(db, clock, "hello") is None
    assert db.tables.messages == {}


async def test_what_a_waiting_buyer_writes_is_kept_for_the_agent_who_takes_the_ticket(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    ticket_id = await ask(db, clock)
    relay = await buyer_says(db, clock, "still there?")
    assert relay is not None and relay.chat_id is None  # nobody to pass it to yet
    await duty(db, clock)
    uow = FakeUnitOfWork(db)
    card = await assignment_card(uow, ticket_id=ticket_id, agent_id=ANN, cipher=CIPHER)
    assert card is not None and [m.body for m in card.waiting] == ["still there?"]
    assert card.ticket.subject == "my key?" and uow.opened == ["read"]
    again = await assignment_card(
        FakeUnitOfWork(db), ticket_id=ticket_id, agent_id=ANN, cipher=CIPHER
    )
    assert again is not None and [m.body for m in again.waiting] == ["still there?"]  # unsent: kept


async def test_the_card_is_for_the_agent_who_has_the_ticket_only(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock)
    ticket_id = await ask(db, clock)
    assert (
        await assignment_card(FakeUnitOfWork(db), ticket_id=ticket_id, agent_id=901, cipher=CIPHER)
        is None
    )


async def test_a_buyer_writing_to_an_agent_is_relayed_in_the_agent_s_language(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await register_user(
        FakeUnitOfWork(db), user_id=ANN, first_name="Ann", language=Language.ZH, now=clock.now()
    )
    await duty(db, clock)
    ticket_id = await ask(db, clock)
    relay = await buyer_says(db, clock, "hello")
    assert relay is not None and (relay.chat_id, relay.language) == (ANN, Language.ZH)
    stored = db.tables.messages[relay.message_id]
    assert stored.relayed and CIPHER.open(stored.message.body) == "hello"
    assert db.tables.tickets[ticket_id].waiting_since == clock.now()


async def test_an_agent_s_reply_reaches_the_buyer_and_ends_their_wait(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock)
    ticket_id = await ask(db, clock)
    clock.advance(minutes=2)
    relay = await agent_wrote(
        FakeUnitOfWork(db), agent_id=ANN, text="here it is", now=clock.now(), cipher=CIPHER
    )
    assert relay.chat_id == BUYER
    ticket = db.tables.tickets[ticket_id]
    assert (ticket.first_response_at, ticket.waiting_since) == (clock.now(), None)


async def test_a_private_note_reaches_nobody_and_is_not_a_response(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock)
    ticket_id = await ask(db, clock)
    relay = await agent_wrote(
        FakeUnitOfWork(db), agent_id=ANN, text="checking", now=clock.now(), cipher=CIPHER, note=True
    )
    assert relay.chat_id is None and db.tables.tickets[ticket_id].first_response_at is None
    assert db.tables.messages[relay.message_id].message.sender == "note"


async def test_a_canned_answer_goes_out_in_the_buyer_s_language(clock: FakeClock) -> None:
    db = FakeDatabase()
    await register_user(
        FakeUnitOfWork(db), user_id=BUYER, first_name="Li", language=Language.ZH, now=clock.now()
    )
    await duty(db, clock)
    await ask(db, clock)
    relay = await agent_wrote(
        FakeUnitOfWork(db),
        agent_id=ANN,
        text="fallback",
        now=clock.now(),
        cipher=CIPHER,
        translations={Language.ZH: "中文答案", Language.EN: "the answer"},
    )
    assert CIPHER.open(db.tables.messages[relay.message_id].message.body) == "中文答案"


async def test_only_an_agent_with_a_ticket_replies(clock: FakeClock) -> None:
    db = FakeDatabase()
    with pytest.raises(NotAnAgent):
        await agent_wrote(
            FakeUnitOfWork(db), agent_id=ANN, text="hi", now=clock.now(), cipher=CIPHER
        )
    await duty(db, clock)
    with pytest.raises(NoOpenTicket):
        await agent_wrote(
            FakeUnitOfWork(db), agent_id=ANN, text="hi", now=clock.now(), cipher=CIPHER
        )


async def test_closing_a_ticket_frees_room_for_the_next_waiting_one(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock, capacity=1)
    first = await ask(db, clock)
    second = await ask(db, clock, user_id=1002)
    closed = await close_ticket(FakeUnitOfWork(db), agent_id=ANN, now=clock.now())
    assert closed.ticket.id == first and closed.ticket.status is TicketStatus.CLOSED
    assert [a.ticket.id for a in closed.assignments] == [second]
    assert db.tables.agents[ANN].active_ticket_id == second


async def test_a_closed_ticket_is_rated_once_by_its_buyer_from_one_to_five(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await duty(db, clock)
    ticket_id = await ask(db, clock)
    assert not await rate_ticket(FakeUnitOfWork(db), user_id=BUYER, ticket_id=ticket_id, rating=5)
    await close_ticket(FakeUnitOfWork(db), agent_id=ANN, now=clock.now())
    assert not await rate_ticket(FakeUnitOfWork(db), user_id=BUYER, ticket_id=ticket_id, rating=6)
    assert not await rate_ticket(FakeUnitOfWork(db), user_id=1002, ticket_id=ticket_id, rating=4)
    assert await rate_ticket(FakeUnitOfWork(db), user_id=BUYER, ticket_id=ticket_id, rating=4)
    assert not await rate_ticket(FakeUnitOfWork(db), user_id=BUYER, ticket_id=ticket_id, rating=1)
    assert db.tables.tickets[ticket_id].rating == 4
