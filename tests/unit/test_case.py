""" "My key doesn't work": reports replaced by rule or decided by an agent, on fakes."""

from __future__ import annotations

import pytest

from store.domain.case import ReplacementRules, key_label
from store.domain.errors import KeysNotAvailable, NotYourOrder, OutOfStock
from store.domain.flow import AwaitingScreenshot
from store.domain.model import (
    CaseReason,
    CaseStatus,
    KeyStatus,
    LedgerReason,
    Order,
    OrderStatus,
    RefundStatus,
    TicketPriority,
    TicketStatus,
)
from store.domain.outbox import CaseDecided
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.case import (
    CaseClosed,
    CaseOutcome,
    ask_for_screenshot,
    check_reportable,
    decide_case,
    decline_case,
    keys_to_report,
    report_bad_key,
)
from store.services.reveal import reveal_keys
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, paid_order
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork, wallet_postings

CIPHER = FakeCipher()
BUYER, OTHER, AGENT = 1001, 1002, 900
BY_HAND = ReplacementRules(enabled=False)


async def revealed_order(
    db: FakeDatabase, clock: FakeClock, *, quantity: int = 1, stock: int = 5
) -> Order:
    order = await paid_order(db.unit_of_work, CIPHER, clock, quantity=quantity, stock=stock)
    await reveal_keys(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, cipher=CIPHER, now=clock.now()
    )
    return order


def sold_key(db: FakeDatabase, order: Order) -> int:
    return min(k.id for k in db.tables.card_keys.values() if k.order_id == order.id)


async def report(
    db: FakeDatabase,
    clock: FakeClock,
    order: Order,
    key_id: int,
    rules: ReplacementRules = ReplacementRules(),  # noqa: B008 (frozen: shared safely)
) -> CaseOutcome:
    return await report_bad_key(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="Li",
        order_id=order.id,
        key_id=key_id,
        reason=CaseReason.INVALID,
        screenshot=None,
        now=clock.now(),
        rules=rules,
        cipher=CIPHER,
    )


async def on_duty(db: FakeDatabase, clock: FakeClock, agent_id: int = AGENT) -> None:
    await set_duty(
        FakeUnitOfWork(db),
        agent_id=agent_id,
        display_name="Ann",
        on=True,
        now=clock.now(),
        rules=SupportRules(),
    )


async def decide(
    db: FakeDatabase,
    clock: FakeClock,
    case_id: int,
    decision: CaseStatus,
    refunder: FakeRefunder | None = None,
    agent_id: int = AGENT,
) -> CaseStatus:
    decided = await decide_case(
        db.unit_of_work,
        agent_id=agent_id,
        case_id=case_id,
        decision=decision,
        note="checked with the issuer",
        now=clock.now(),
        refunder=refunder or FakeRefunder(),
        cipher=CIPHER,
    )
    return decided.status


def test_a_key_s_label_tells_keys_apart_and_never_gives_a_short_one_away() -> None:
    assert key_label("ABCD-EFGH-IJKL", 2) == "#2 …KL" and key_label("1234", 1) == "#1"


async def test_only_keys_the_buyer_has_seen_can_be_reported(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    with pytest.raises(KeysNotAvailable, match="unrevealed"):
        await keys_to_report(FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, cipher=CIPHER)


async def test_the_keys_to_report_are_labels_not_keys(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await revealed_order(db, clock, quantity=2)
    uow = FakeUnitOfWork(db)
    labels = await keys_to_report(uow, user_id=BUYER, order_id=order.id, cipher=CIPHER)
    assert [k.masked for k in labels] == ["#1 …00", "#2 …01"] and uow.opened == ["read"]


async def test_a_report_refuses_another_buyers_order_or_a_key_not_in_it(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await revealed_order(db, clock)
    with pytest.raises(NotYourOrder):
        await check_reportable(
            FakeUnitOfWork(db), user_id=OTHER, order_id=order.id, key_id=sold_key(db, order)
        )
    with pytest.raises(KeysNotAvailable, match="not_in_order"):
        await check_reportable(FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, key_id=999)


async def test_the_report_s_last_step_waits_for_a_screenshot(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await revealed_order(db, clock)
    key_id = sold_key(db, order)
    await ask_for_screenshot(
        FakeUnitOfWork(db),
        user_id=BUYER,
        order_id=order.id,
        key_id=key_id,
        reason=CaseReason.WRONG_REGION,
        now=clock.now(),
    )
    uow = FakeUnitOfWork(db)
    async with uow.reading():
        assert await uow.states.get(BUYER) == AwaitingScreenshot(
            order.id, key_id, CaseReason.WRONG_REGION
        )


async def test_a_first_report_soon_after_paying_is_replaced_at_once(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await revealed_order(db, clock)
    bad = sold_key(db, order)
    outcome = await report(db, clock, order, bad)
    assert outcome.replaced and outcome.case.status is CaseStatus.REPLACED
    assert db.tables.card_keys[bad].status is KeyStatus.BAD
    replacement = outcome.case.replacement_key_id
    assert replacement is not None and db.tables.card_keys[replacement].status is KeyStatus.SOLD
    assert db.tables.tickets == {}


async def test_a_buyer_gets_one_automatic_replacement_per_cooldown(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await revealed_order(db, clock)
    first = await report(db, clock, order, sold_key(db, order))
    replacement = first.case.replacement_key_id
    assert first.replaced and replacement is not None
    outcome = await report(db, clock, order, replacement)
    assert not outcome.replaced and outcome.handoff is not None
    assert outcome.handoff.ticket.priority is TicketPriority.BAD_KEY


async def test_a_report_long_after_paying_goes_to_an_agent(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await revealed_order(db, clock)
    clock.advance(hours=25)
    outcome = await report(db, clock, order, sold_key(db, order))
    assert not outcome.replaced and outcome.case.status is CaseStatus.OPEN


async def test_a_report_the_rules_do_not_cover_is_queued_for_an_agent(clock: FakeClock) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    order = await revealed_order(db, clock)
    outcome = await report(db, clock, order, sold_key(db, order), BY_HAND)
    assert not outcome.replaced and outcome.case.status is CaseStatus.OPEN
    assert outcome.handoff is not None and outcome.handoff.agent is not None
    ticket = db.tables.tickets[outcome.handoff.ticket.id]
    assert (ticket.status, ticket.agent_id, ticket.case_id) == (
        TicketStatus.ASSIGNED,
        AGENT,
        outcome.case.id,
    )


async def test_only_the_agent_holding_the_buyer_decides_their_case(clock: FakeClock) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    await on_duty(db, clock, agent_id=OTHER)
    order = await revealed_order(db, clock)
    outcome = await report(db, clock, order, sold_key(db, order), BY_HAND)
    holder = db.tables.tickets[outcome.handoff.ticket.id].agent_id if outcome.handoff else None
    other = OTHER if holder == AGENT else AGENT
    with pytest.raises(NotYourOrder):
        await decide(db, clock, outcome.case.id, CaseStatus.REPLACED, agent_id=other)
    assert db.tables.cases[outcome.case.id].case.status is CaseStatus.OPEN


async def test_an_agent_replaces_a_key_and_the_buyer_is_told(clock: FakeClock) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    order = await revealed_order(db, clock)
    bad = sold_key(db, order)
    case_id = (await report(db, clock, order, bad, BY_HAND)).case.id
    assert await decide(db, clock, case_id, CaseStatus.REPLACED) is CaseStatus.REPLACED
    assert db.tables.card_keys[bad].status is KeyStatus.BAD
    assert (BUYER, CaseDecided(case_id)) in db.outbox()
    with pytest.raises(CaseClosed):
        await decide(db, clock, case_id, CaseStatus.DECLINED)


async def test_a_replacement_with_no_stock_left_is_refused_and_changes_nothing(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    order = await revealed_order(db, clock, stock=1)
    case_id = (await report(db, clock, order, sold_key(db, order), BY_HAND)).case.id
    with pytest.raises(OutOfStock):
        await decide(db, clock, case_id, CaseStatus.REPLACED)
    assert db.tables.cases[case_id].case.status is CaseStatus.OPEN


async def test_a_declined_case_keeps_the_agent_s_reason_sealed_and_shows_it_opened(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    order = await revealed_order(db, clock)
    case_id = (await report(db, clock, order, sold_key(db, order), BY_HAND)).case.id
    decided = await decline_case(
        db.unit_of_work,
        agent_id=AGENT,
        case_id=case_id,
        note="the key was redeemed on your account",
        now=clock.now(),
        cipher=CIPHER,
    )
    assert decided.status is CaseStatus.DECLINED
    assert decided.decision_note == "the key was redeemed on your account"
    stored = db.tables.cases[case_id]
    assert stored.case.decision_note == CIPHER.seal("the key was redeemed on your account")
    assert stored.decided_by == AGENT


async def test_a_bad_key_of_a_one_key_stars_order_is_refunded_through_telegram(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    order = await revealed_order(db, clock)
    bad = sold_key(db, order)
    case_id = (await report(db, clock, order, bad, BY_HAND)).case.id
    refunder = FakeRefunder()
    assert await decide(db, clock, case_id, CaseStatus.REFUNDED, refunder) is CaseStatus.REFUNDED
    assert refunder.refunded == [(BUYER, "charge-paid")]
    assert db.tables.refunds["charge-paid"].refund.status is RefundStatus.DONE
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDED
    assert db.tables.card_keys[bad].status is KeyStatus.BAD


async def test_a_bad_key_of_a_larger_order_is_refunded_to_the_wallet_at_its_price(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await on_duty(db, clock)
    order = await revealed_order(db, clock, quantity=2)
    case_id = (await report(db, clock, order, sold_key(db, order), BY_HAND)).case.id
    refunder = FakeRefunder()
    assert await decide(db, clock, case_id, CaseStatus.REFUNDED, refunder) is CaseStatus.REFUNDED
    [entry] = wallet_postings(db.tables)
    assert (entry.amount_minor, entry.reason) == (
        order.unit_price_minor,
        LedgerReason.BAD_KEY_REFUND,
    )
    assert refunder.calls == 0 and db.tables.orders[order.id].status is OrderStatus.PAID
