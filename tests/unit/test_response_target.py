"""Response targets: each missed first or next response recorded once, and alerted."""

from __future__ import annotations

from store.domain.model import Language
from store.domain.outbox import ADMINS_CHAT, ResponseBreach
from store.domain.support import Breach, ResponseTarget, SupportRules
from store.services.agent_duty import set_duty
from store.services.queue import ask_for_human
from store.services.response_target import alert_recipients, check_response_targets
from store.services.ticket import agent_wrote, buyer_wrote
from store.services.user import register_user
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
RULES = SupportRules(first_response_minutes=5, next_response_minutes=10)
ANN = 900


async def check(db: FakeDatabase, clock: FakeClock) -> list[tuple[int, ResponseTarget]]:
    breached = await check_response_targets(FakeUnitOfWork(db), now=clock.now(), rules=RULES)
    return [(ticket.id, target) for ticket, target in breached]


async def test_a_missed_first_response_is_recorded_once_and_alerted_once(clock: FakeClock) -> None:
    db = FakeDatabase()
    handoff = await ask_for_human(
        FakeUnitOfWork(db), user_id=1, first_name="", text="hi", now=clock.now(), cipher=CIPHER
    )
    clock.advance(minutes=4)
    assert await check(db, clock) == []
    clock.advance(minutes=2)
    assert await check(db, clock) == [(handoff.ticket.id, ResponseTarget.FIRST)]
    assert await check(db, clock) == []
    alerts = [(chat, p) for chat, p in db.outbox() if isinstance(p, ResponseBreach)]
    assert alerts == [
        (ADMINS_CHAT, ResponseBreach((Breach(handoff.ticket.id, ResponseTarget.FIRST),)))
    ]


async def test_a_buyer_left_waiting_after_a_reply_misses_the_next_response_target(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await set_duty(
        FakeUnitOfWork(db), agent_id=ANN, display_name="", on=True, now=clock.now(), rules=RULES
    )
    handoff = await ask_for_human(
        FakeUnitOfWork(db), user_id=1, first_name="", text="hi", now=clock.now(), cipher=CIPHER
    )
    await agent_wrote(FakeUnitOfWork(db), agent_id=ANN, text="yes?", now=clock.now(), cipher=CIPHER)
    await buyer_wrote(FakeUnitOfWork(db), user_id=1, text="my key", now=clock.now(), cipher=CIPHER)
    clock.advance(minutes=9)
    assert await check(db, clock) == []
    clock.advance(minutes=2)
    assert await check(db, clock) == [(handoff.ticket.id, ResponseTarget.NEXT)]


async def test_breaches_are_told_to_agents_on_duty_and_admins_in_their_languages(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await register_user(
        FakeUnitOfWork(db), user_id=ANN, first_name="", language=Language.ZH, now=clock.now()
    )
    await set_duty(
        FakeUnitOfWork(db), agent_id=ANN, display_name="", on=True, now=clock.now(), rules=RULES
    )
    uow = FakeUnitOfWork(db)
    recipients = await alert_recipients(uow, admin_ids=[5, ANN])
    assert recipients == [(5, Language.EN), (ANN, Language.ZH)] and uow.opened == ["read"]
