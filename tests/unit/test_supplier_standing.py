"""Suppliers answer for their keys: the sell order, suspension freezing stock, resale refused,
the invalid rate, reinstatement and the deposit gate; pure rules and services on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import ImportRefused, OutOfStock
from store.domain.model import BatchStatus, KeyStatus, OrderStatus
from store.domain.order import HoldRules
from store.domain.outbox import ADMINS_CHAT, AdminAlert
from store.domain.payment import TopupRules
from store.domain.supplier import (
    HOUSE_SUPPLIER,
    SellOrder,
    SupplierRefused,
    SupplierRules,
    SupplierStanding,
    SupplierStatus,
    deposit_sufficient,
    invalid_rate_crossed,
)
from store.services.order import reserve_keys
from store.services.payment import confirm_payment
from store.services.refund import refund_order
from store.services.stock import (
    ALREADY_IN_STOCK,
    ALREADY_SOLD,
    ImportSummary,
    import_card_keys,
    recover_imports,
    release_waiting_batches,
)
from store.services.supplier import (
    SYSTEM,
    FrozenStock,
    add_supplier,
    note_bad_key,
    reinstate_supplier,
    supplier_report,
    suspend_supplier,
)
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, key_file, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
HOLD = HoldRules(max_open=50)
SKU = "STEAM-50"


# --- the pure rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sold", "bad", "crossed"),
    [
        (19, 19, False),
        (20, 1, False),
        (20, 2, True),
        (100, 5, False),
        (100, 6, True),
        (0, 0, False),
    ],
)
def test_the_invalid_rate_suspends_only_above_the_ceiling_and_with_enough_sales(
    sold: int, bad: int, crossed: bool
) -> None:
    rules = SupplierRules(max_invalid_rate=0.05, min_sample=20)
    assert invalid_rate_crossed(SupplierStanding(sold, bad), rules) is crossed


def test_the_invalid_rate_is_none_before_anything_was_sold() -> None:
    assert SupplierStanding(0, 0).invalid_rate is None
    assert SupplierStanding(40, 2).invalid_rate == 0.05


def test_a_deposit_below_the_minimum_holds_back_any_supplier_but_the_house() -> None:
    rules = SupplierRules(min_deposit_minor=10_000)
    assert not deposit_sufficient("acme", 9_999, rules)
    assert deposit_sufficient("acme", 10_000, rules)
    assert deposit_sufficient(HOUSE_SUPPLIER, 0, rules)


# --- on fakes ------------------------------------------------------------------------------


async def supplier(db: FakeDatabase, clock: FakeClock, id: str) -> None:
    await add_supplier(
        db.unit_of_work,
        id=id,
        name=id.title(),
        public_name=None,
        contact="",
        public_key=None,
        actor="test",
        now=clock.now(),
    )


async def supply(
    db: FakeDatabase,
    clock: FakeClock,
    supplier_id: str,
    *keys: str,
    cost_minor: int | None = None,
) -> ImportSummary:
    return await import_card_keys(
        db.unit_of_work,
        sku=SKU,
        parsed=key_file(*keys),
        source=f"{supplier_id}.txt",
        cipher=CIPHER,
        now=clock.now(),
        supplier_id=supplier_id,
        cost_minor=cost_minor,
    )


async def two_suppliers(db: FakeDatabase, clock: FakeClock) -> None:
    """STEAM-50 with two keys from the house (imported first) and two from acme."""
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    await supply(db, clock, HOUSE_SUPPLIER, "H-1", "H-2")
    await supplier(db, clock, "acme")
    await supply(db, clock, "acme", "A-1", "A-2")


def keys_of(db: FakeDatabase, supplier_id: str) -> list[KeyStatus]:
    batches = {b.id for b in db.tables.batches.values() if b.supplier_id == supplier_id}
    return [k.status for k in db.tables.card_keys.values() if k.batch_id in batches]


def supplier_of_order(db: FakeDatabase, order_id: int) -> set[str]:
    return {
        db.tables.batches[k.batch_id].supplier_id
        for k in db.tables.card_keys.values()
        if k.order_id == order_id
    }


async def hold(db: FakeDatabase, clock: FakeClock, quantity: int = 1, user_id: int = 1001) -> int:
    reservation = await reserve_keys(
        FakeUnitOfWork(db),
        user_id=user_id,
        first_name="Li",
        sku=SKU,
        quantity=quantity,
        now=clock.now(),
        rules=HOLD,
    )
    return reservation.order.id


async def pay(db: FakeDatabase, clock: FakeClock, order_id: int, user_id: int = 1001) -> bool:
    order = db.tables.orders[order_id]
    outcome = await confirm_payment(
        db.unit_of_work,
        user_id=user_id,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=order.total_stars,
        charge_id=f"charge-{order_id}",
        now=clock.now(),
        rules=HOLD,
        topup=TopupRules(star_value_minor=10, allowed_stars=(50,)),
        refunder=FakeRefunder(),
    )
    return outcome.delivered


async def test_the_oldest_batch_sells_first_whoever_supplied_it(clock: FakeClock) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    first, second = await hold(db, clock, 2), await hold(db, clock, 1, user_id=1002)
    assert supplier_of_order(db, first) == {HOUSE_SUPPLIER}
    assert supplier_of_order(db, second) == {"acme"}


async def test_the_cheapest_batch_sells_first_when_the_sell_order_says_so(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    db.supplier_rules = SupplierRules(sell_order=SellOrder.CHEAPEST_COST)
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    await supplier(db, clock, "acme")
    await supplier(db, clock, "beta")
    await supply(db, clock, "acme", "A-1", cost_minor=4200)
    await supply(db, clock, "beta", "B-1", cost_minor=3900)
    assert supplier_of_order(db, await hold(db, clock)) == {"beta"}


async def test_a_suspension_freezes_the_suppliers_unsold_keys_and_they_are_not_stock(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    suspension = await suspend_supplier(
        db.unit_of_work, id=HOUSE_SUPPLIER, reason="tested", actor="cli", now=clock.now()
    )
    assert suspension.frozen == 2
    assert keys_of(db, HOUSE_SUPPLIER) == [KeyStatus.FROZEN] * 2
    async with FakeUnitOfWork(db).reading() as uow:
        assert await uow.card_keys.count_available(SKU) == 2
        [level] = await uow.card_keys.stock_levels()
        product = await uow.catalog.product(SKU)
    assert (level.available, level.frozen) == (2, 2)
    assert product is not None and product.in_stock == 2
    assert [h for _, h, _, _ in db.tables.key_events].count("frozen") == 2
    [(chat, alert)] = [(c, p) for c, p in db.outbox() if isinstance(p, AdminAlert)]
    assert chat == ADMINS_CHAT and "Supplier house is suspended" in alert.text


async def test_a_held_order_of_a_suspended_supplier_is_paid_with_another_suppliers_keys(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    order_id = await hold(db, clock, 2)
    assert supplier_of_order(db, order_id) == {HOUSE_SUPPLIER}
    await suspend_supplier(
        db.unit_of_work, id=HOUSE_SUPPLIER, reason="tested", actor="cli", now=clock.now()
    )
    assert await pay(db, clock, order_id)
    assert supplier_of_order(db, order_id) == {"acme"}
    assert keys_of(db, HOUSE_SUPPLIER) == [KeyStatus.FROZEN] * 2


async def test_an_order_finding_only_frozen_keys_is_out_of_stock(clock: FakeClock) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    await suspend_supplier(db.unit_of_work, id="acme", reason="x", actor="cli", now=clock.now())
    with pytest.raises(OutOfStock) as refused:
        await hold(db, clock, 3)
    assert refused.value.available == 2


async def test_a_key_already_in_stock_is_refused_as_such_and_suspends_nobody(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    with pytest.raises(ImportRefused) as refused:
        await supply(db, clock, "acme", "A-1", "A-9")
    summary = refused.value.summary
    assert isinstance(summary, ImportSummary)
    assert summary.refused_by_reason == {ALREADY_IN_STOCK: 1} and summary.suspension is None
    assert db.tables.suppliers["acme"].status is SupplierStatus.ACTIVE


async def test_a_resale_attempt_refuses_the_file_whole_and_suspends_the_supplier_at_once(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    await supply(db, clock, "acme", "A-3")
    order_id = await hold(db, clock, 3)  # H-1, H-2, then acme's A-1
    assert await pay(db, clock, order_id)
    with pytest.raises(ImportRefused) as refused:
        await import_card_keys(
            db.unit_of_work,
            sku=SKU,
            parsed=key_file("N-1", "A-1", "A-2"),
            source="again.txt",
            cipher=CIPHER,
            now=clock.now(),
            supplier_id="acme",
            all_or_nothing=False,  # even a partial import is refused whole
        )
    summary = refused.value.summary
    assert isinstance(summary, ImportSummary) and summary.imported == 0
    assert summary.refused_by_reason == {ALREADY_SOLD: 1, ALREADY_IN_STOCK: 1}
    assert summary.suspension is not None and summary.suspension.frozen == 2
    assert db.tables.suppliers["acme"].status is SupplierStatus.SUSPENDED
    event = db.tables.supplier_events[-1]
    assert (event.status, event.actor) == (SupplierStatus.SUSPENDED, SYSTEM)
    assert "resale attempt: 1 key(s) of file 'again.txt' (lines 2)" in event.reason
    assert sorted(keys_of(db, "acme")) == sorted([KeyStatus.SOLD, *[KeyStatus.FROZEN] * 2])
    assert not any(k.fingerprint == CIPHER.fingerprint("N-1") for k in db.tables.card_keys.values())


async def test_a_key_sold_then_refunded_counts_as_already_sold(clock: FakeClock) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    order_id = await hold(db, clock, 2)
    assert await pay(db, clock, order_id)
    await refund_order(
        db.unit_of_work,
        user_id=1001,
        order_id=order_id,
        now=clock.now(),
        refunder=FakeRefunder(),
        rules=None,
    )
    assert db.tables.orders[order_id].status is OrderStatus.REFUNDED
    await supplier(db, clock, "beta")
    with pytest.raises(ImportRefused) as refused:
        await supply(db, clock, "beta", "H-1")
    assert isinstance(refused.value.summary, ImportSummary)
    assert refused.value.summary.refused_by_reason == {ALREADY_SOLD: 1}
    assert db.tables.suppliers["beta"].status is SupplierStatus.SUSPENDED


async def test_the_house_importing_a_sold_key_again_is_only_refused(clock: FakeClock) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    assert await pay(db, clock, await hold(db, clock))
    with pytest.raises(ImportRefused) as refused:
        await supply(db, clock, HOUSE_SUPPLIER, "H-1")
    assert isinstance(refused.value.summary, ImportSummary)
    assert refused.value.summary.refused_by_reason == {ALREADY_SOLD: 1}
    assert db.tables.suppliers[HOUSE_SUPPLIER].status is SupplierStatus.ACTIVE


async def sold_keys(db: FakeDatabase, clock: FakeClock, count: int) -> list[tuple[int, int]]:
    """`count` keys of acme sold, one order each: (order id, key id)."""
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    await supplier(db, clock, "acme")
    await supply(db, clock, "acme", *(f"A-{n}" for n in range(count)))
    sold = []
    for n in range(count):
        order_id = await hold(db, clock, user_id=3000 + n)
        assert await pay(db, clock, order_id, user_id=3000 + n)
        [key] = [k for k in db.tables.card_keys.values() if k.order_id == order_id]
        sold.append((order_id, key.id))
    return sold


async def confirm_bad(
    db: FakeDatabase, clock: FakeClock, order_id: int, key_id: int, rules: SupplierRules
) -> bool:
    async with FakeUnitOfWork(db) as uow:
        assert await uow.card_keys.mark_bad(key_id, order_id, clock.now())
        suspension = await note_bad_key(uow, card_key_id=key_id, now=clock.now(), rules=rules)
        await uow.commit()
    return suspension is not None


async def test_crossing_the_invalid_rate_with_enough_sales_suspends_the_supplier(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    rules = SupplierRules(max_invalid_rate=0.1, min_sample=10)
    sold = await sold_keys(db, clock, 10)
    assert not await confirm_bad(db, clock, *sold[0], rules)  # 1/10: at the ceiling
    assert await confirm_bad(db, clock, *sold[1], rules)  # 2/10: over it
    event = db.tables.supplier_events[-1]
    assert event.actor == SYSTEM and event.reason.startswith("invalid rate 2/10 (20.0%)")
    assert not await confirm_bad(db, clock, *sold[2], rules)  # suspended already


async def test_sales_outside_the_window_do_not_count(clock: FakeClock) -> None:
    db = FakeDatabase()
    rules = SupplierRules(max_invalid_rate=0.1, min_sample=2, window_days=30)
    sold = await sold_keys(db, clock, 3)
    clock.advance(days=31)
    assert not await confirm_bad(db, clock, *sold[0], rules)  # sold before the window
    report = await supplier_report(db.unit_of_work, id="acme", now=clock.now())
    assert (report.standing.sold, report.standing.bad) == (0, 0)
    assert report.standing.invalid_rate is None


async def test_too_few_sales_never_suspend(clock: FakeClock) -> None:
    db = FakeDatabase()
    sold = await sold_keys(db, clock, 3)
    for order_id, key_id in sold:
        assert not await confirm_bad(db, clock, order_id, key_id, SupplierRules(min_sample=20))
    report = await supplier_report(db.unit_of_work, id="acme", now=clock.now())
    assert (report.standing.sold, report.standing.bad, report.standing.invalid_rate) == (3, 3, 1.0)


@pytest.mark.parametrize(
    ("frozen", "after"),
    [(FrozenStock.RELEASE, KeyStatus.AVAILABLE), (FrozenStock.WRITE_OFF, KeyStatus.WRITTEN_OFF)],
)
async def test_reinstating_a_supplier_releases_or_writes_off_its_frozen_keys(
    clock: FakeClock, frozen: FrozenStock, after: KeyStatus
) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    await suspend_supplier(db.unit_of_work, id="acme", reason="x", actor="cli", now=clock.now())
    done = await reinstate_supplier(
        db.unit_of_work, id="acme", reason="cleared", frozen=frozen, actor="cli", now=clock.now()
    )
    assert done.settled == 2 and done.supplier.status is SupplierStatus.ACTIVE
    assert keys_of(db, "acme") == [after] * 2
    event = "unfrozen" if frozen is FrozenStock.RELEASE else "written_off"
    assert [e for _, e, _, _ in db.tables.key_events].count(event) == 2
    report = await supplier_report(db.unit_of_work, id="acme", now=clock.now())
    assert [(e.status, e.reason) for e in report.events][-2:] == [
        (SupplierStatus.SUSPENDED, "x"),
        (SupplierStatus.ACTIVE, "cleared"),
    ]


async def test_an_active_supplier_cannot_be_reinstated_nor_suspended_twice(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await two_suppliers(db, clock)
    with pytest.raises(SupplierRefused, match="not suspended"):
        await reinstate_supplier(
            db.unit_of_work,
            id="acme",
            reason="r",
            frozen=FrozenStock.RELEASE,
            actor="cli",
            now=clock.now(),
        )
    await suspend_supplier(db.unit_of_work, id="acme", reason="x", actor="cli", now=clock.now())
    with pytest.raises(SupplierRefused, match="suspended already"):
        await suspend_supplier(db.unit_of_work, id="acme", reason="x", actor="cli", now=clock.now())


async def test_a_batch_waits_off_sale_until_the_deposit_suffices(clock: FakeClock) -> None:
    db = FakeDatabase()
    db.supplier_rules = SupplierRules(min_deposit_minor=10_000)
    await two_suppliers(db, clock)  # acme's batch waits; the house needs no deposit
    assert keys_of(db, HOUSE_SUPPLIER) == [KeyStatus.AVAILABLE] * 2
    assert keys_of(db, "acme") == [KeyStatus.STAGED] * 2
    [waiting] = [b for b in db.tables.batches.values() if b.supplier_id == "acme"]
    assert waiting.status is BatchStatus.WAITING
    assert await release_waiting_batches(db.unit_of_work, "acme", clock.now()) == []
    db.supplier_rules = SupplierRules(min_deposit_minor=0)  # as if topped up
    assert await release_waiting_batches(db.unit_of_work, "acme", clock.now()) == [waiting.id]
    assert keys_of(db, "acme") == [KeyStatus.AVAILABLE] * 2
    assert db.tables.batches[waiting.id].status is BatchStatus.LIVE


async def test_a_waiting_import_is_reported_as_waiting(clock: FakeClock) -> None:
    db = FakeDatabase()
    db.supplier_rules = SupplierRules(min_deposit_minor=1)
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    await supplier(db, clock, "acme")
    summary = await supply(db, clock, "acme", "A-1")
    assert summary.waiting and summary.imported == 1
    # a waiting batch is no dead import: recovery leaves it be
    assert await recover_imports(db.unit_of_work, now=clock.advance(minutes=5)) == 0
    assert keys_of(db, "acme") == [KeyStatus.STAGED]
