"""Loading card keys into stock, resuming imports that died, and stock levels, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import ImportRefused, ProductNotFound, UnknownSku
from store.domain.model import BatchStatus, KeyStatus, OrderStatus
from store.domain.order import HoldRules
from store.domain.outbox import Delivery
from store.domain.payment import TopupRules
from store.domain.provenance import StagedKey, new_provenance
from store.services.order import expire_reservations, reserve_keys
from store.services.payment import confirm_payment
from store.services.stock import (
    ABANDONED_AFTER,
    ALREADY_IN_STOCK,
    ImportSummary,
    import_card_keys,
    recover_imports,
    stock_status,
)
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, key_file, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()


async def load(
    db: FakeDatabase, clock: FakeClock, *lines: str, all_or_nothing: bool = True
) -> ImportSummary:
    return await import_card_keys(
        db.unit_of_work,
        sku="STEAM-50",
        parsed=key_file(*lines),
        source="keys.txt",
        cipher=CIPHER,
        now=clock.now(),
        all_or_nothing=all_or_nothing,
    )


def available(db: FakeDatabase) -> list[str]:
    return [
        CIPHER.decrypt(k.ciphertext)
        for _, k in sorted(db.tables.card_keys.items())
        if k.status is KeyStatus.AVAILABLE
    ]


async def test_an_import_puts_every_key_on_sale_encrypted(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    summary = await load(db, clock, "KEY-1", "KEY-2")
    assert (summary.imported, summary.refused) == (2, ())
    assert available(db) == ["KEY-1", "KEY-2"]
    assert all(k.ciphertext != "KEY-1" for k in db.tables.card_keys.values())
    [batch] = db.tables.batches.values()
    assert batch.status is BatchStatus.LIVE and batch.key_count == 2


async def test_a_key_already_in_stock_refuses_the_whole_file_by_default(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    await load(db, clock, "KEY-1")
    with pytest.raises(ImportRefused) as refused:
        await load(db, clock, "KEY-2", " KEY-1 ")
    summary = refused.value.summary
    assert isinstance(summary, ImportSummary) and summary.refused_by_reason == {ALREADY_IN_STOCK: 1}
    assert available(db) == ["KEY-1"]


async def test_an_import_that_is_not_all_or_nothing_takes_the_new_keys(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    await load(db, clock, "KEY-1")
    summary = await load(db, clock, "KEY-2", "KEY-1", all_or_nothing=False)
    assert summary.imported == 1 and [r.line for r in summary.refused] == [2]
    assert available(db) == ["KEY-1", "KEY-2"]


async def test_keys_for_an_unknown_product_are_refused() -> None:
    with pytest.raises(ProductNotFound):
        await load(FakeDatabase(), FakeClock(), "KEY-1")


async def test_keys_are_imported_into_the_product_whatever_the_case_of_its_sku(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    summary = await import_card_keys(
        db.unit_of_work,
        sku="steam-50",
        parsed=key_file("KEY-1"),
        source="keys.txt",
        cipher=CIPHER,
        now=clock.now(),
    )
    assert summary.sku == "STEAM-50" and available(db) == ["KEY-1"]


async def test_an_unknown_sku_is_refused_naming_the_nearest(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    with pytest.raises(UnknownSku) as refused:
        await import_card_keys(
            db.unit_of_work,
            sku="STEM-50",
            parsed=key_file("KEY-1"),
            source="keys.txt",
            cipher=CIPHER,
            now=clock.now(),
        )
    assert refused.value.nearest == ("STEAM-50",)


async def test_a_refused_import_counts_the_good_lines_a_partial_import_would_take(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    with pytest.raises(ImportRefused) as refused:
        await load(db, clock, "KEY-1", "", "KEY-2")
    assert isinstance(refused.value.summary, ImportSummary)
    assert refused.value.summary.acceptable == 2


async def test_new_stock_fulfils_an_order_paid_while_it_was_out(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=1)
    first = await reserve_keys(
        FakeUnitOfWork(db),
        user_id=1,
        first_name="",
        sku="STEAM-50",
        quantity=1,
        now=clock.now(),
        rules=HoldRules(),
    )
    clock.advance(minutes=20)  # its hold lapses; someone else takes the key meanwhile
    await expire_reservations(FakeUnitOfWork(db), now=clock.now())
    await reserve_keys(
        FakeUnitOfWork(db),
        user_id=3,
        first_name="",
        sku="STEAM-50",
        quantity=1,
        now=clock.now(),
        rules=HoldRules(),
    )
    await confirm_payment(
        db.unit_of_work,
        user_id=1,
        payload=f"order:{first.order.id}",
        currency="XTR",
        amount=first.order.total_stars,
        charge_id="ch",
        now=clock.now(),
        rules=HoldRules(),
        topup=TopupRules(10, (50,)),
        refunder=FakeRefunder(),
    )
    assert db.tables.orders[first.order.id].status is OrderStatus.AWAITING_STOCK
    summary = await load(db, clock, "KEY-NEW")
    assert summary.fulfilled_orders == (first.order.id,)
    assert db.tables.orders[first.order.id].status is OrderStatus.PAID
    assert (1, Delivery(first.order.id)) in db.outbox()


async def test_recovery_finishes_an_import_that_died_while_publishing(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    uow = FakeUnitOfWork(db)
    async with uow:  # an import that staged its keys and died half-way through publishing
        batch = await uow.card_keys.start_batch("STEAM-50", "keys.txt", 2, None, clock.now())
        await uow.card_keys.stage(
            batch,
            "STEAM-50",
            [StagedKey(CIPHER.encrypt(k), CIPHER.fingerprint(k), new_provenance(k)) for k in "AB"],
            clock.now(),
        )
        await uow.card_keys.set_batch_status(batch, BatchStatus.PUBLISHING, clock.now())
        await uow.commit()
    assert available(db) == []
    assert await recover_imports(db.unit_of_work, now=clock.now()) == 1
    assert available(db) == ["A", "B"] and db.tables.batches[batch].status is BatchStatus.LIVE


async def test_recovery_deletes_an_import_that_died_while_staging_once_it_is_stale(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=0)
    uow = FakeUnitOfWork(db)
    async with uow:
        batch = await uow.card_keys.start_batch("STEAM-50", "keys.txt", 1, None, clock.now())
        await uow.card_keys.stage(
            batch,
            "STEAM-50",
            [StagedKey(CIPHER.encrypt("A"), CIPHER.fingerprint("A"), new_provenance("A"))],
            clock.now(),
        )
        await uow.commit()
    assert await recover_imports(db.unit_of_work, now=clock.now()) == 0  # it may still be running
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() + 1)
    assert await recover_imports(db.unit_of_work, now=clock.now()) == 1
    assert db.tables.card_keys == {} and db.tables.batches[batch].status is BatchStatus.ABANDONED


async def test_stock_levels_count_each_status_by_product(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=3)
    await reserve_keys(
        FakeUnitOfWork(db),
        user_id=1,
        first_name="",
        sku="STEAM-50",
        quantity=1,
        now=clock.now(),
        rules=HoldRules(),
    )
    uow = FakeUnitOfWork(db)
    [level] = await stock_status(uow)
    assert (level.available, level.reserved, level.sold, level.low) == (2, 1, 0, False)
    assert uow.opened == ["read"]
