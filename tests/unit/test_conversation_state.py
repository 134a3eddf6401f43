"""Where someone is in the conversation: a flow step, or a ticket, on fakes."""

from __future__ import annotations

from store.domain.flow import AwaitingScreenshot, DecliningCase
from store.domain.model import CaseReason
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.conversation_state import current_flow, enter_flow, leave_flow, situation_of
from store.services.queue import ask_for_human
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
SCREENSHOT = AwaitingScreenshot(order_id=3, key_id=4, reason=CaseReason.INVALID)


async def test_a_step_entered_is_where_the_user_is_until_they_leave_it(clock: FakeClock) -> None:
    db = FakeDatabase()
    await enter_flow(FakeUnitOfWork(db), user_id=1, flow=DecliningCase(7), now=clock.now())
    assert await current_flow(FakeUnitOfWork(db), user_id=1) == DecliningCase(7)
    await leave_flow(FakeUnitOfWork(db), user_id=1)
    assert await current_flow(FakeUnitOfWork(db), user_id=1) is None


async def test_a_step_whose_data_does_not_parse_counts_as_none_and_is_left(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    db.tables.states[1] = ("declining_case", '{"case": "seven"}', clock.now())
    assert await current_flow(FakeUnitOfWork(db), user_id=1) is None
    situation = await situation_of(FakeUnitOfWork(db), user_id=1, agent=False)
    assert situation.flow is None and 1 not in db.tables.states


async def test_words_end_a_wait_for_a_screenshot(clock: FakeClock) -> None:
    db = FakeDatabase()
    await enter_flow(FakeUnitOfWork(db), user_id=1, flow=SCREENSHOT, now=clock.now())
    assert (await situation_of(FakeUnitOfWork(db), user_id=1, agent=False)).flow == SCREENSHOT
    assert (await situation_of(FakeUnitOfWork(db), user_id=1, agent=False, words=True)).flow is None
    assert await current_flow(FakeUnitOfWork(db), user_id=1) is None


async def test_a_buyer_with_an_open_ticket_and_an_agent_holding_one_are_in_conversation(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await set_duty(
        FakeUnitOfWork(db),
        agent_id=900,
        display_name="",
        on=True,
        now=clock.now(),
        rules=SupportRules(),
    )
    await ask_for_human(
        FakeUnitOfWork(db), user_id=1, first_name="", text="hi", now=clock.now(), cipher=CIPHER
    )
    uow = FakeUnitOfWork(db)
    buyer = await situation_of(uow, user_id=1, agent=False)
    assert buyer.buyer_in_conversation and not buyer.agent_in_conversation
    assert uow.opened == ["read"]  # nothing to clear: only read
    agent = await situation_of(FakeUnitOfWork(db), user_id=900, agent=True)
    assert agent.agent_in_conversation
    nobody = await situation_of(FakeUnitOfWork(db), user_id=2, agent=False)
    assert nobody == type(nobody)()
