"""Reconciliation with Telegram's own record of payments (getStarTransactions)."""

from __future__ import annotations

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import OrderStatus
from store.domain.order import HoldRules
from store.domain.outbox import AdminAlert
from store.domain.payment import TopupRules
from store.services.order import reserve_keys
from store.services.outbox import claim_outbox
from store.services.payment import confirm_payment
from store.services.reconciliation import PAGE, ReconciliationReport, reconcile_payments
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, stocked_shop
from tests.fakes import FakeStarLedger
from tests.invariants import read_books

HOLD = HoldRules(max_open=50)
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50,))


async def _reserve(uow: UnitOfWorkFactory, clock: FakeClock, buyer: int = 1) -> int:
    reservation = await reserve_keys(
        uow(), user_id=buyer, first_name="", sku="STEAM-50", quantity=1, now=clock.now(), rules=HOLD
    )
    return reservation.order.id


async def _paid_through_the_bot(
    uow: UnitOfWorkFactory, clock: FakeClock, order_id: int, charge_id: str
) -> None:
    """The successful_payment update arrived and was handled, as it normally is."""
    await confirm_payment(
        uow,
        user_id=1,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480,
        charge_id=charge_id,
        now=clock.now(),
        rules=HOLD,
        topup=TOPUP,
        refunder=FakeRefunder(),
    )


async def _reconcile(
    uow: UnitOfWorkFactory, ledger: FakeStarLedger, refunder: FakeRefunder, clock: FakeClock
) -> ReconciliationReport:
    return await reconcile_payments(uow, ledger, refunder, now=clock.now(), rules=HOLD, topup=TOPUP)


async def _status(uow: UnitOfWorkFactory, order_id: int) -> OrderStatus:
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None
    return order.status


async def test_a_charge_the_bot_never_recorded_is_applied_and_delivered(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _reserve(uow, clock)
    ledger = FakeStarLedger()
    ledger.pay("lost-1", 1, f"order:{order_id}", 480, clock.now())  # its update died with the bot
    report = await _reconcile(uow, ledger, FakeRefunder(), clock)
    assert report.charges_applied == 1
    assert await _status(uow, order_id) is OrderStatus.PAID
    assert "delivery" in {i.kind for i in await claim_outbox(uow(), now=clock.now())}
    again = await _reconcile(uow, ledger, FakeRefunder(), clock)
    assert again.charges_applied == 0  # applied once, however often it is read
    assert (await read_books(uow)).breaches() == {}


async def test_a_charge_found_late_for_an_order_paid_meanwhile_is_refunded(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _reserve(uow, clock)
    await _paid_through_the_bot(uow, clock, order_id, "seen")
    ledger = FakeStarLedger()
    ledger.pay("seen", 1, f"order:{order_id}", 480, clock.now())
    ledger.pay("second", 1, f"order:{order_id}", 480, clock.now())  # a second invoice, paid too
    refunder = FakeRefunder()
    await _reconcile(uow, ledger, refunder, clock)
    assert refunder.refunded == [(1, "second")]
    assert (await read_books(uow)).breaches() == {}


async def test_a_charge_paid_and_refunded_while_the_bot_was_down_is_recorded_not_delivered(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _reserve(uow, clock)
    ledger = FakeStarLedger()
    ledger.pay("gone", 1, f"order:{order_id}", 480, clock.now())
    ledger.refund("gone", 1, 480, clock.now())
    refunder = FakeRefunder()
    await _reconcile(uow, ledger, refunder, clock)
    assert await _status(uow, order_id) is OrderStatus.AWAITING_PAYMENT
    assert refunder.calls == 0
    async with uow().reading() as tx:
        recorded = await tx.payments.get("gone")
    assert recorded is not None and recorded.refunded_at is not None
    assert (await read_books(uow)).breaches() == {}


async def test_a_refund_made_outside_the_shop_is_recorded_and_the_admins_are_told(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await _reserve(uow, clock)
    await _paid_through_the_bot(uow, clock, order_id, "paid")
    ledger = FakeStarLedger()
    ledger.pay("paid", 1, f"order:{order_id}", 480, clock.now())
    ledger.refund("paid", 1, 480, clock.now())  # the owner refunded it by hand
    report = await _reconcile(uow, ledger, FakeRefunder(), clock)
    assert report.refunds_recorded == 1
    assert await _status(uow, order_id) is OrderStatus.REFUNDED
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 1  # never shown: back on sale
    claimed = await claim_outbox(uow(), now=clock.now())
    alerts = [i.payload.text for i in claimed if isinstance(i.payload, AdminAlert)]
    assert any("did not make" in alert for alert in alerts)
    assert (await _reconcile(uow, ledger, FakeRefunder(), clock)).refunds_recorded == 0
    assert (await read_books(uow)).breaches() == {}


async def test_reconciliation_pages_through_the_record_and_resumes_from_where_it_got_to(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=0)
    ledger = FakeStarLedger()
    for n in range(PAGE * 2 + 30):  # top-ups the bot never saw
        ledger.pay(f"t{n}", 1000 + n, f"topup:{1000 + n}:50", 50, clock.now())
    first = await _reconcile(uow, ledger, FakeRefunder(), clock)
    assert first.read == PAGE * 2 + 30 and first.charges_applied == PAGE * 2 + 30
    assert ledger.asked == [0, PAGE, PAGE * 2]
    ledger.asked.clear()
    ledger.pay("new", 7, "topup:7:50", 50, clock.now())
    second = await _reconcile(uow, ledger, FakeRefunder(), clock)
    assert second.charges_applied == 1 and ledger.asked[0] > 0  # not from the start again
    async with uow().reading() as tx:
        assert await tx.ledger.balance(7) == 500
        assert await tx.ledger.balance(1000) == 500  # credited once, not once per run
    assert (await read_books(uow)).breaches() == {}
