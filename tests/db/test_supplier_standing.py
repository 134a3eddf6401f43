"""A suspended supplier's stock is never sold, even to buyers racing the suspension; a resale
attempt suspends the supplier and replacements come from another; reinstatement releases or
writes off the frozen keys. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import batches, card_key_events, card_keys, orders
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.errors import ImportRefused, OutOfStock
from store.domain.model import CaseReason, KeyStatus
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.domain.supplier import HOUSE_SUPPLIER, SellOrder, SupplierRules, SupplierStatus
from store.services.case import report_bad_key
from store.services.order import reserve_keys
from store.services.payment import confirm_payment
from store.services.reveal import reveal_keys
from store.services.stock import ALREADY_SOLD, ImportSummary, import_card_keys
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
from tests.db.test_cli import CATALOG, run
from tests.db.test_suppliers import keys_file
from tests.factories import FakeRefunder, key_file, keys, stocked_shop

SKU = "STEAM-50"
HOLD = HoldRules(minutes=15, max_open=3)


async def add(uow: UnitOfWorkFactory, clock: FakeClock, id: str) -> None:
    await add_supplier(
        uow,
        id=id,
        name=id,
        public_name=None,
        contact="",
        public_key=None,
        actor="t",
        now=clock.now(),
    )


async def supply(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, supplier: str, *lines: str
) -> None:
    await import_card_keys(
        uow,
        sku=SKU,
        parsed=key_file(*lines),
        source=f"{supplier}.txt",
        cipher=cipher,
        now=clock.now(),
        supplier_id=supplier,
    )


async def two_suppliers(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, each: int, acme: int = 0
) -> None:
    """`each` keys from the house, imported first (so sold first), and `each` (or `acme`) from
    acme."""
    await stocked_shop(uow, cipher, clock, stock=0)
    await supply(uow, cipher, clock, HOUSE_SUPPLIER, *keys("H", each))
    await add(uow, clock, "acme")
    await supply(uow, cipher, clock, "acme", *keys("A", acme or each))


async def statuses(uow: UnitOfWorkFactory) -> Counter[tuple[str, str]]:
    """(supplier, key status) → how many keys."""
    async with uow().reading() as tx:
        rows = await tx.connection.execute(
            select(batches.c.supplier_id, card_keys.c.status).join(
                batches, batches.c.id == card_keys.c.batch_id
            )
        )
        return Counter((r.supplier_id, r.status) for r in rows)


async def buy(
    uow: UnitOfWorkFactory,
    clock: FakeClock,
    user_id: int,
    before_paying: Callable[[], Awaitable[None]] | None = None,
) -> int | None:
    """Hold one key and pay for it; the order id if it was delivered."""
    try:
        reservation = await reserve_keys(
            uow(), user_id=user_id, first_name="", sku=SKU, quantity=1, now=clock.now(), rules=HOLD
        )
    except OutOfStock:
        return None
    if before_paying is not None:
        await before_paying()
    outcome = await confirm_payment(
        uow,
        user_id=user_id,
        payload=f"order:{reservation.order.id}",
        currency="XTR",
        amount=reservation.order.total_stars,
        charge_id=f"charge-{user_id}",
        now=clock.now(),
        rules=HOLD,
        topup=TopupRules(star_value_minor=10, allowed_stars=(50,)),
        refunder=FakeRefunder(),
    )
    return reservation.order.id if outcome.delivered else None


async def suppliers_of_sold_keys(uow: UnitOfWorkFactory) -> Counter[str]:
    async with uow().reading() as tx:
        rows = await tx.connection.execute(
            select(batches.c.supplier_id)
            .join(card_keys, card_keys.c.batch_id == batches.c.id)
            .where(card_keys.c.status == KeyStatus.SOLD)
        )
        return Counter(rows.scalars())


async def test_fifty_buyers_for_ten_keys_never_get_the_suspended_suppliers_keys(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await two_suppliers(uow, cipher, clock, each=10)
    await suspend_supplier(uow, id=HOUSE_SUPPLIER, reason="test", actor="t", now=clock.now())
    results = await asyncio.gather(*(buy(uow, clock, 2000 + n) for n in range(50)))
    assert len([r for r in results if r is not None]) == 10
    assert await statuses(uow) == Counter({(HOUSE_SUPPLIER, "frozen"): 10, ("acme", "sold"): 10})


async def test_no_key_of_a_supplier_is_sold_once_its_suspension_raced_in(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    """Thirty buyers hold and pay while the house, whose batch sells first, is suspended among
    them (acme has enough for all). Five hold a house key and pay only after the suspension:
    their holds were frozen, so they are paid with acme's keys. Whatever the others took before
    it committed is sold or frozen; every payment is delivered whole, and none sells a house key
    after it."""
    await two_suppliers(uow, cipher, clock, each=20, acme=40)
    held, enough_held, suspended = 0, asyncio.Event(), asyncio.Event()
    sold_when_suspended: list[int] = []

    async def wait_for_the_suspension() -> None:
        nonlocal held
        held += 1
        if held == 5:
            enough_held.set()
        await suspended.wait()

    async def suspend() -> None:
        await enough_held.wait()
        await suspend_supplier(uow, id=HOUSE_SUPPLIER, reason="race", actor="t", now=clock.now())
        sold_when_suspended.append((await suppliers_of_sold_keys(uow))[HOUSE_SUPPLIER])
        suspended.set()

    slow = [buy(uow, clock, 3000 + n, wait_for_the_suspension) for n in range(5)]
    fast = [buy(uow, clock, 3100 + n) for n in range(25)]
    results, _ = await asyncio.gather(asyncio.gather(*slow, *fast), suspend())
    delivered = [r for r in results if r is not None]
    assert len(delivered) == 30
    counts = await statuses(uow)
    sold_by_house = counts[(HOUSE_SUPPLIER, "sold")]
    assert sold_when_suspended == [sold_by_house]
    assert counts[(HOUSE_SUPPLIER, "available")] == counts[(HOUSE_SUPPLIER, "reserved")] == 0
    assert sold_by_house + counts[(HOUSE_SUPPLIER, "frozen")] == 20
    assert sold_by_house + counts[("acme", "sold")] == 30
    assert sum(counts.values()) == 60
    async with uow().reading() as tx:
        for order_id in results[:5]:
            assert order_id is not None
            [(key_id, _)] = await tx.card_keys.sold_keys(order_id)
            assert await tx.card_keys.supplier_of(key_id) == "acme"
        paid = (
            await tx.connection.execute(select(orders.c.id).where(orders.c.status == "paid"))
        ).scalars()
        assert sorted(paid) == sorted(delivered)
    # after the suspension, buyers get acme's keys and only those, until they run out
    more = await asyncio.gather(*(buy(uow, clock, 4000 + n) for n in range(45)))
    assert len([r for r in more if r is not None]) == 40 - counts[("acme", "sold")]
    assert (await suppliers_of_sold_keys(uow))[HOUSE_SUPPLIER] == sold_by_house


async def test_a_resale_attempt_suspends_the_supplier_freezes_it_and_replacements_come_from_another(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=0)
    await add(uow, clock, "acme")
    await add(uow, clock, "beta")
    await supply(uow, cipher, clock, "acme", "A-1", "A-2", "A-3")
    await supply(uow, cipher, clock, "beta", "B-1", "B-2")
    order_id = await buy(uow, clock, 1001)  # acme's A-1: its batch is the oldest
    assert order_id is not None
    await reveal_keys(uow(), user_id=1001, order_id=order_id, cipher=cipher, now=clock.now())

    with pytest.raises(ImportRefused) as refused:
        await supply(uow, cipher, clock, "acme", "A-9", "A-1")
    summary = refused.value.summary
    assert isinstance(summary, ImportSummary) and summary.refused_by_reason == {ALREADY_SOLD: 1}
    report = await supplier_report(uow, id="acme", now=clock.now())
    assert report.supplier.status is SupplierStatus.SUSPENDED
    assert (report.events[-1].actor, report.frozen) == (SYSTEM, 2)
    assert "resale attempt: 1 key(s)" in report.events[-1].reason
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available(SKU) == 2  # beta's only
        [sold] = await tx.card_keys.sold_keys(order_id)
        frozen_events = (
            await tx.connection.execute(
                select(card_key_events.c.card_key_id).where(card_key_events.c.event == "frozen")
            )
        ).scalars()
        assert len(list(frozen_events)) == 2

    outcome = await report_bad_key(
        uow(),
        user_id=1001,
        first_name="Li",
        order_id=order_id,
        key_id=sold[0],
        reason=CaseReason.INVALID,
        screenshot=None,
        now=clock.now(),
        rules=ReplacementRules(),
        cipher=cipher,
    )
    assert outcome.replaced and outcome.case.replacement_key_id is not None
    async with uow().reading() as tx:
        assert await tx.card_keys.supplier_of(outcome.case.replacement_key_id) == "beta"
    assert await statuses(uow) == Counter(
        {("acme", "bad"): 1, ("acme", "frozen"): 2, ("beta", "sold"): 1, ("beta", "available"): 1}
    )


@pytest.mark.parametrize(
    ("frozen", "after"),
    [(FrozenStock.RELEASE, "available"), (FrozenStock.WRITE_OFF, "written_off")],
)
async def test_reinstating_releases_the_frozen_keys_or_writes_them_off(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, frozen: FrozenStock, after: str
) -> None:
    await two_suppliers(uow, cipher, clock, each=3)
    await suspend_supplier(uow, id="acme", reason="checking", actor="t", now=clock.now())
    done = await reinstate_supplier(
        uow, id="acme", reason="cleared", frozen=frozen, actor="t", now=clock.now()
    )
    assert done.settled == 3
    assert await statuses(uow) == Counter({(HOUSE_SUPPLIER, "available"): 3, ("acme", after): 3})
    async with uow().reading() as tx:
        available = await tx.card_keys.count_available(SKU)
        [level] = await tx.card_keys.stock_levels()
    assert available == (6 if frozen is FrozenStock.RELEASE else 3)
    assert level.frozen == 0


async def test_the_invalid_rate_suspends_the_supplier_on_the_database(
    engine: AsyncEngine, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    uow = UnitOfWorkFactory(engine, SupplierRules(max_invalid_rate=0.25, min_sample=4))
    await stocked_shop(uow, cipher, clock, stock=0)
    await add(uow, clock, "acme")
    await supply(uow, cipher, clock, "acme", *keys("A", 6))
    sold = [await buy(uow, clock, 5000 + n) for n in range(4)]
    suspended = []
    for order_id in sold:
        assert order_id is not None
        async with uow() as tx:
            [(key_id, _)] = await tx.card_keys.sold_keys(order_id)
            await tx.card_keys.mark_bad(key_id, order_id, clock.now())
            suspended.append(
                await note_bad_key(tx, card_key_id=key_id, now=clock.now(), rules=tx.supplier_rules)
            )
            await tx.commit()
        if suspended[-1] is not None:
            break
    assert [s is not None for s in suspended] == [False, True]  # 1/4 is the ceiling, 2/4 over
    assert await statuses(uow) == Counter(
        {("acme", "bad"): 2, ("acme", "sold"): 2, ("acme", "frozen"): 2}
    )


def test_an_admin_suspends_and_reinstates_a_supplier_from_the_command_line(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    run(environ, "supplier", "add", "acme", "--name", "Acme")
    run(environ, "stock", "import", "WIN11-PRO", keys_file(tmp_path, "a.txt", "A-1", "A-2"),
        "--supplier", "acme")  # fmt: skip
    assert run(environ, "supplier", "suspend", "acme", "--reason", "checking a batch") == (
        0,
        "Suspended supplier acme: 2 unsold key(s) frozen.\n",
    )
    shown = run(environ, "supplier", "show", "acme")[1]
    assert "acme: Acme (public: Acme), suspended" in shown
    assert "frozen (not for sale while suspended): 2" in shown
    assert "Last 30 days: sold 0, confirmed bad 0, invalid rate n/a" in shown
    assert "suspended  checking a batch  (by cli)" in shown
    said = run(
        environ, "supplier", "reinstate", "acme", "--reason", "fine", "--frozen", "write-off"
    )
    assert said == (0, "Reinstated supplier acme: 2 frozen key(s) written off.\n")
    shown = run(environ, "supplier", "show", "acme")[1]
    assert "acme: Acme (public: Acme), active" in shown and "frozen (" not in shown


@pytest.mark.parametrize(
    ("sell_order", "first"),
    [(SellOrder.OLDEST_BATCH, "acme"), (SellOrder.CHEAPEST_COST, "beta")],
)
async def test_the_sell_order_picks_whose_keys_go_first(
    engine: AsyncEngine, cipher: CardKeyCipher, clock: FakeClock, sell_order: SellOrder, first: str
) -> None:
    uow = UnitOfWorkFactory(engine, SupplierRules(sell_order=sell_order))
    await stocked_shop(uow, cipher, clock, stock=0)
    for supplier, cost in (("acme", 4200), ("beta", 3900)):
        await add(uow, clock, supplier)
        await import_card_keys(
            uow,
            sku=SKU,
            parsed=key_file(*keys(supplier.upper(), 3)),
            source=f"{supplier}.txt",
            cipher=cipher,
            now=clock.now(),
            supplier_id=supplier,
            cost_minor=cost,
        )
    bought = await asyncio.gather(*(buy(uow, clock, 6000 + n) for n in range(3)))
    assert all(bought)
    assert await suppliers_of_sold_keys(uow) == Counter({first: 3})
