"""Refunds: the buyer's self-service, an agent's, and the Stars refund state machine, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import NotYourOrder, RefundFailed, RefundNotAllowed
from store.domain.model import KeyStatus, Language, LedgerReason, Order, OrderStatus, RefundStatus
from store.domain.order import HoldRules
from store.domain.outbox import ADMINS_CHAT, AdminAlert, Refunded
from store.domain.refund import RefundRules
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.order import reserve_keys
from store.services.payment import pay_with_wallet
from store.services.queue import ask_for_human
from store.services.refund import (
    REFUND_LEASE,
    preview_refund_for_agent,
    refund_order,
    refund_order_for_agent,
    resume_refunds,
)
from store.services.reveal import reveal_keys
from store.services.ticket import refund_from_card
from store.services.user import choose_language
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, paid_order, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork, wallet_postings

CIPHER = FakeCipher()
BUYER, AGENT = 1001, 900
SELF_SERVICE = RefundRules()


async def refund(
    db: FakeDatabase,
    clock: FakeClock,
    order: Order,
    refunder: FakeRefunder,
    rules: RefundRules | None = SELF_SERVICE,
    user_id: int = BUYER,
) -> RefundStatus:
    outcome = await refund_order(
        db.unit_of_work,
        user_id=user_id,
        order_id=order.id,
        now=clock.now(),
        refunder=refunder,
        rules=rules,
    )
    return outcome.status


def statuses(db: FakeDatabase) -> list[KeyStatus]:
    return [k.status for _, k in sorted(db.tables.card_keys.items())]


async def test_a_stars_refund_goes_back_through_telegram_and_the_keys_return_to_stock(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock, quantity=2, stock=3)
    refunder = FakeRefunder()
    assert await refund(db, clock, order, refunder) is RefundStatus.DONE
    assert refunder.refunded == [(BUYER, "charge-paid")]
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDED
    assert statuses(db) == [KeyStatus.AVAILABLE] * 3
    assert db.tables.payments["charge-paid"].refunded_at == clock.now()


async def test_a_refund_while_telegram_is_out_of_reach_waits_and_the_job_finishes_it(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    assert await refund(db, clock, order, FakeRefunder("unreachable")) is RefundStatus.PENDING
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDING
    refunder = FakeRefunder()
    assert await resume_refunds(db.unit_of_work, refunder, now=clock.now()) == 1
    assert refunder.refunded == [(BUYER, "charge-paid")]
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDED
    assert db.outbox()[-1] == (BUYER, Refunded(stars=order.total_stars, order_id=order.id))


async def test_a_refund_the_job_already_claimed_is_not_taken_again_until_its_lease_runs_out(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    await refund(db, clock, order, FakeRefunder("unreachable"))
    db.tables.refunds["charge-paid"].claimed_at = clock.now()  # a run that died holding it
    refunder = FakeRefunder()
    assert await resume_refunds(db.unit_of_work, refunder, now=clock.now()) == 0
    clock.advance(seconds=REFUND_LEASE.total_seconds() + 1)
    assert await resume_refunds(db.unit_of_work, refunder, now=clock.now()) == 1


async def test_a_refund_telegram_refuses_puts_the_order_back_and_tells_the_admins(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    with pytest.raises(RefundFailed):
        await refund(db, clock, order, FakeRefunder("refuse"))
    assert db.tables.orders[order.id].status is OrderStatus.PAID
    assert db.tables.refunds["charge-paid"].refund.status is RefundStatus.FAILED
    chat, alert = db.outbox()[-1]
    assert chat == ADMINS_CHAT and isinstance(alert, AdminAlert)
    assert await refund(db, clock, order, FakeRefunder()) is RefundStatus.DONE  # asked again


async def test_revealed_keys_or_an_old_order_are_not_refunded_without_questions(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    clock.advance(days=8)
    with pytest.raises(RefundNotAllowed, match="window"):
        await refund(db, clock, order, FakeRefunder())
    await reveal_keys(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, cipher=CIPHER, now=clock.now()
    )
    with pytest.raises(RefundNotAllowed, match="revealed"):
        await refund(db, clock, order, FakeRefunder())
    assert db.tables.orders[order.id].status is OrderStatus.PAID


async def test_an_agents_refund_of_revealed_keys_retires_them_for_good(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock, stock=1)
    await reveal_keys(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, cipher=CIPHER, now=clock.now()
    )
    assert await refund(db, clock, order, FakeRefunder(), rules=None) is RefundStatus.DONE
    assert statuses(db) == [KeyStatus.BAD]  # shown once: never sold again


async def test_an_order_paid_from_the_wallet_is_refunded_to_the_wallet(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=2)
    order = (
        await reserve_keys(
            FakeUnitOfWork(db),
            user_id=BUYER,
            first_name="Li",
            sku="STEAM-50",
            quantity=1,
            now=clock.now(),
            rules=HoldRules(),
        )
    ).order
    await credit_wallet(
        FakeUnitOfWork(db),
        user_id=BUYER,
        amount_minor=order.total_minor,
        reason="cash",
        idempotency_key="k",
        now=clock.now(),
    )
    await pay_with_wallet(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, now=clock.now(), rules=HoldRules()
    )
    refunder = FakeRefunder()
    assert await refund(db, clock, order, refunder) is RefundStatus.DONE
    assert refunder.calls == 0
    last = wallet_postings(db.tables)[-1]
    assert (last.reason, last.amount_minor) == (LedgerReason.REFUND, order.total_minor)
    assert sum(e.amount_minor for e in wallet_postings(db.tables)) == order.total_minor


async def test_a_refunded_order_is_not_refunded_twice(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    refunder = FakeRefunder()
    await refund(db, clock, order, refunder)
    with pytest.raises(RefundNotAllowed):
        await refund(db, clock, order, refunder, rules=None)
    assert refunder.calls == 1


async def test_an_agent_refunds_only_an_order_of_a_buyer_whose_conversation_they_hold(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    with pytest.raises(NotYourOrder):
        await refund_order_for_agent(
            db.unit_of_work,
            agent_id=AGENT,
            order_id=order.id,
            now=clock.now(),
            refunder=FakeRefunder(),
        )
    assert db.tables.orders[order.id].status is OrderStatus.PAID


async def test_an_agents_refund_says_which_language_to_tell_the_buyer_in(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    await choose_language(
        db.unit_of_work(), user_id=BUYER, first_name="Li", language=Language.ZH, now=clock.now()
    )
    await set_duty(
        db.unit_of_work(),
        agent_id=AGENT,
        display_name="Mei",
        on=True,
        now=clock.now(),
        rules=SupportRules(),
    )
    await ask_for_human(
        db.unit_of_work(), user_id=BUYER, first_name="Li", now=clock.now(), cipher=CIPHER
    )
    outcome = await refund_order_for_agent(
        db.unit_of_work, agent_id=AGENT, order_id=order.id, now=clock.now(), refunder=FakeRefunder()
    )
    assert outcome.buyer_language is Language.ZH
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDED


async def agent_holds_buyer(db: FakeDatabase, clock: FakeClock) -> None:
    await set_duty(
        db.unit_of_work(),
        agent_id=AGENT,
        display_name="Mei",
        on=True,
        now=clock.now(),
        rules=SupportRules(),
    )
    await ask_for_human(
        db.unit_of_work(), user_id=BUYER, first_name="Li", now=clock.now(), cipher=CIPHER
    )


async def test_an_agents_refund_preview_names_the_stars_and_whether_keys_were_seen(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    with pytest.raises(NotYourOrder):
        await preview_refund_for_agent(
            db.unit_of_work(), agent_id=AGENT, order_id=order.id, now=clock.now()
        )
    await agent_holds_buyer(db, clock)
    preview = await preview_refund_for_agent(
        db.unit_of_work(), agent_id=AGENT, order_id=order.id, now=clock.now()
    )
    assert (preview.wallet_minor, preview.revealed) == (None, False)
    assert db.tables.orders[order.id].status is OrderStatus.PAID  # a preview changes nothing


async def test_an_agents_refund_from_the_card_returns_the_card_as_it_now_reads(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    await agent_holds_buyer(db, clock)
    done = await refund_from_card(
        db.unit_of_work,
        agent_id=AGENT,
        order_id=order.id,
        now=clock.now(),
        refunder=FakeRefunder(),
        cipher=CIPHER,
    )
    assert done.outcome.status is RefundStatus.DONE and done.card is not None
    [shown] = done.card.context.orders
    assert shown.status is OrderStatus.REFUNDED
    with pytest.raises(RefundNotAllowed):
        await preview_refund_for_agent(
            db.unit_of_work(), agent_id=AGENT, order_id=order.id, now=clock.now()
        )
