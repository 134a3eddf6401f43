"""Reconciliation with Telegram's own record of payments, on fakes."""

from __future__ import annotations

from store.domain.model import Order, OrderStatus, RefundStatus
from store.domain.order import HoldRules
from store.domain.outbox import AdminAlert, Delivery
from store.domain.payment import TopupRules
from store.services.order import reserve_keys
from store.services.reconciliation import (
    CHECKPOINT,
    OVERLAP,
    ReconciliationReport,
    reconcile_payments,
)
from store.services.refund import refund_order
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, paid_order, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeStarLedger, FakeUnitOfWork, PaymentRow

CIPHER = FakeCipher()
HOLD = HoldRules()
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50,))
BUYER = 1001


async def reconcile(
    db: FakeDatabase, ledger: FakeStarLedger, clock: FakeClock, refunder: FakeRefunder | None = None
) -> ReconciliationReport:
    return await reconcile_payments(
        db.unit_of_work,
        ledger,
        refunder or FakeRefunder(),
        now=clock.now(),
        rules=HOLD,
        topup=TOPUP,
    )


async def reserved(db: FakeDatabase, clock: FakeClock) -> Order:
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=2)
    reservation = await reserve_keys(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="",
        sku="STEAM-50",
        quantity=1,
        now=clock.now(),
        rules=HOLD,
    )
    return reservation.order


async def test_a_charge_the_bot_never_recorded_is_applied_once(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await reserved(db, clock)
    ledger = FakeStarLedger()
    ledger.pay("lost", BUYER, f"order:{order.id}", order.total_stars, clock.now())
    assert (await reconcile(db, ledger, clock)).charges_applied == 1
    assert db.tables.orders[order.id].status is OrderStatus.PAID
    assert (BUYER, Delivery(order.id)) in db.outbox()
    assert (await reconcile(db, ledger, clock)).charges_applied == 0


async def test_a_charge_paid_and_refunded_while_the_bot_was_down_is_recorded_not_delivered(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await reserved(db, clock)
    ledger = FakeStarLedger()
    ledger.pay("gone", BUYER, f"order:{order.id}", order.total_stars, clock.now())
    ledger.refund("gone", BUYER, order.total_stars, clock.now())
    refunder = FakeRefunder()
    await reconcile(db, ledger, clock, refunder)
    assert db.tables.orders[order.id].status is OrderStatus.AWAITING_PAYMENT
    assert refunder.calls == 0 and db.tables.payments["gone"].refunded_at == clock.now()


async def test_a_pending_refund_telegram_already_made_is_settled_without_asking_again(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    await refund_order(
        db.unit_of_work,
        user_id=BUYER,
        order_id=order.id,
        now=clock.now(),
        refunder=FakeRefunder("unreachable"),
        rules=None,
    )
    ledger = FakeStarLedger()
    ledger.pay("charge-paid", BUYER, f"order:{order.id}", order.total_stars, clock.now())
    ledger.refund("charge-paid", BUYER, order.total_stars, clock.now())
    refunder = FakeRefunder()
    report = await reconcile(db, ledger, clock, refunder)
    assert report.refunds_recorded == 1 and refunder.calls == 0
    assert db.tables.refunds["charge-paid"].refund.status is RefundStatus.DONE
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDED


async def test_a_refund_made_outside_the_shop_refunds_the_order_and_tells_the_admins(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    ledger = FakeStarLedger()
    ledger.pay("charge-paid", BUYER, f"order:{order.id}", order.total_stars, clock.now())
    ledger.refund("charge-paid", BUYER, order.total_stars, clock.now())
    assert (await reconcile(db, ledger, clock)).refunds_recorded == 1
    assert db.tables.orders[order.id].status is OrderStatus.REFUNDED
    alerts = [p.text for _, p in db.outbox() if isinstance(p, AdminAlert)]
    assert any("did not make" in text for text in alerts)
    assert (await reconcile(db, ledger, clock)).refunds_recorded == 0


async def test_the_next_run_starts_a_little_before_where_the_last_one_got_to(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    ledger = FakeStarLedger()
    for n in range(OVERLAP + 50):  # charges the shop recorded as they came
        ledger.pay(f"t{n}", 7, "topup:7:50", 50, clock.now())
        db.tables.payments[f"t{n}"] = PaymentRow(
            n + 1, f"t{n}", 7, None, "topup", "XTR", 50, "topup:7:50", clock.now(), "topup"
        )
    first = await reconcile(db, ledger, clock)
    assert (first.read, first.charges_applied) == (OVERLAP + 50, 0)
    assert db.tables.checkpoints[CHECKPOINT] == OVERLAP + 50
    ledger.asked.clear()
    ledger.pay("new", 7, "topup:7:50", 50, clock.now())
    second = await reconcile(db, ledger, clock)
    assert ledger.asked[0] == 50 and second.charges_applied == 1
    assert db.tables.checkpoints[CHECKPOINT] == OVERLAP + 51
