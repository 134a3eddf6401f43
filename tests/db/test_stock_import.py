"""Importing card keys: encrypted at rest, duplicates refused across the whole shop."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import card_keys
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import ImportRefused
from store.domain.model import BatchStatus
from store.domain.order import HoldRules
from store.domain.provenance import StagedKey, new_provenance
from store.services import stock
from store.services.catalog import load_catalog
from store.services.order import reserve_keys
from store.services.stock import (
    ALREADY_IN_STOCK,
    ImportSummary,
    import_card_keys,
    recover_imports,
    stock_status,
)
from tests.conftest import FakeClock
from tests.factories import catalog, key_file, keys, product, stocked_shop


async def test_keys_are_stored_encrypted_and_never_in_clear(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    async with uow() as tx:
        rows = (await tx.connection.execute(select(card_keys.c.ciphertext))).scalars().all()
    assert all(key not in row for key in stocked for row in rows)
    assert sorted(cipher.decrypt(row) for row in rows) == sorted(stocked)


async def test_a_key_already_in_stock_anywhere_refuses_the_whole_file(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await load_catalog(
        uow(), spec=catalog(product("A"), product("B")), star_value_minor=10, default_order_limit=10
    )
    await import_card_keys(
        uow, sku="A", parsed=key_file("K-1", "K-2"), source="t", cipher=cipher, now=clock.now()
    )
    with pytest.raises(ImportRefused) as refused:
        await import_card_keys(
            uow,
            sku="B",
            parsed=key_file("K-3", "K-2", "K-3"),
            source="t",
            cipher=cipher,
            now=clock.now(),
        )
    summary = refused.value.summary
    assert isinstance(summary, ImportSummary)
    assert [(r.line, r.reason) for r in summary.refused] == [
        (2, ALREADY_IN_STOCK),
        (3, "repeats an earlier line of this file"),
    ]
    levels = {level.sku: level.available for level in await stock_status(uow())}
    assert levels == {"A": 2, "B": 0}


async def test_a_partial_import_takes_the_good_lines(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=0)
    summary = await import_card_keys(
        uow,
        sku="STEAM-50",
        parsed=key_file("X-1", "", "X-2"),
        source="t",
        cipher=cipher,
        now=clock.now(),
        all_or_nothing=False,
    )
    assert summary.imported == 2 and summary.refused_by_reason == {"blank line": 1}


async def test_a_key_imported_under_an_older_passphrase_is_still_a_duplicate_after_rotation(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=0)
    await import_card_keys(
        uow, sku="STEAM-50", parsed=key_file("OLD-1"), source="t", cipher=cipher, now=clock.now()
    )
    rotated = CardKeyCipher(
        [
            "a brand new passphrase, also long enough!!",
            "test passphrase that is long enough for kamibot!",
        ]
    )
    with pytest.raises(ImportRefused):
        await import_card_keys(
            uow,
            sku="STEAM-50",
            parsed=key_file("OLD-1"),
            source="t",
            cipher=rotated,
            now=clock.now(),
        )


class Killed(Exception):
    """Stands for a kill -9 in the middle of an import."""


async def _staging_batches(uow: UnitOfWorkFactory) -> int:
    async with uow().reading() as tx:
        return len(await tx.card_keys.batches_in(BatchStatus.STAGING))


class Turns:
    """Stands in for the import's `asyncio.sleep(0)` between its chunks: the import stops
    there until the test has written, so the two take turns whatever the scheduler does."""

    def __init__(self) -> None:
        self.paused = asyncio.Event()
        self.go_on = asyncio.Event()

    async def sleep(self, _seconds: float) -> None:
        self.paused.set()
        await self.go_on.wait()
        self.go_on.clear()

    async def writes_between_chunks(self, importing: asyncio.Future[ImportSummary]) -> None:
        paused: asyncio.Future[Any] = asyncio.ensure_future(self.paused.wait())
        either: list[asyncio.Future[Any]] = [paused, importing]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not paused.done():  # the import ended (or failed) instead of pausing
            paused.cancel()
            importing.result()
            raise AssertionError("the import finished without pausing between its chunks")
        self.paused.clear()


async def test_a_long_import_lets_payments_write_between_its_short_transactions(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock, "STAGE_CHUNK", 10)  # 60 keys: six transactions
    await stocked_shop(uow, cipher, clock, stock=5)
    await load_catalog(
        uow(), spec=catalog(product("BIG")), star_value_minor=10, default_order_limit=10
    )
    turns = Turns()
    monkeypatch.setattr(stock, "asyncio", SimpleNamespace(sleep=turns.sleep))
    importing = asyncio.ensure_future(
        import_card_keys(
            uow,
            sku="BIG",
            parsed=key_file(*keys("BIG", 60)),
            source="t",
            cipher=cipher,
            now=clock.now(),
        )
    )
    written_meanwhile = 0
    for _ in range(3):  # between three of its chunks, with the import's batch still staging
        await turns.writes_between_chunks(importing)
        reservation = await reserve_keys(
            uow(),
            user_id=10 + written_meanwhile,
            first_name="",
            sku="STEAM-50",
            quantity=1,
            now=clock.now(),
            rules=HoldRules(max_open=99),
        )
        assert reservation.order.id
        if await _staging_batches(uow):
            written_meanwhile += 1
        turns.go_on.set()
    monkeypatch.setattr(stock, "asyncio", asyncio)
    turns.go_on.set()
    summary = await importing
    assert summary.imported == 60 and written_meanwhile == 3
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available("BIG") == 60


async def test_an_import_killed_while_writing_leaves_nothing_for_sale_and_is_cleared_later(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock, "STAGE_CHUNK", 10)
    await stocked_shop(uow, cipher, clock, stock=0)

    def die_after_the_first_chunk(done: int, total: int) -> None:
        if done < total:
            raise Killed

    with pytest.raises(Killed):
        await import_card_keys(
            uow,
            sku="STEAM-50",
            parsed=key_file(*keys("K", 30)),
            source="t",
            cipher=cipher,
            now=clock.now(),
            progress=die_after_the_first_chunk,
        )
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 0  # nothing half-imported sells
    assert await recover_imports(uow, now=clock.now()) == 0  # it might still be running
    assert await recover_imports(uow, now=clock.advance(minutes=3)) == 1
    again = await import_card_keys(
        uow,
        sku="STEAM-50",
        parsed=key_file(*keys("K", 30)),
        source="t",
        cipher=cipher,
        now=clock.now(),
    )
    assert again.imported == 30  # the dead import's keys were cleared, not kept as duplicates


async def test_an_import_killed_while_putting_keys_on_sale_is_finished_by_recovery(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=0)
    async with uow() as tx:  # what a kill during publishing leaves: every key written, none live
        batch = await tx.card_keys.start_batch("STEAM-50", "t", 3, None, clock.now())
        await tx.card_keys.stage(
            batch,
            "STEAM-50",
            [
                StagedKey(cipher.encrypt(k), cipher.fingerprint(k), new_provenance(k))
                for k in keys("P", 3)
            ],
            clock.now(),
        )
        await tx.card_keys.set_batch_status(batch, BatchStatus.PUBLISHING, clock.now())
        await tx.commit()
    assert await recover_imports(uow, now=clock.now()) == 1
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 3
        assert await tx.card_keys.batches_in(BatchStatus.LIVE)
        history = await tx.card_keys.history(1)
    assert [event for event, _, _ in history] == ["imported"]


async def test_stock_levels_add_up_with_keys_found_bad_and_keys_back_after_a_refund(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=6)
    orders = []
    for user_id in (1, 2, 3):
        reservation = await reserve_keys(
            uow(),
            user_id=user_id,
            first_name="",
            sku="STEAM-50",
            quantity=1,
            now=clock.now(),
            rules=HoldRules(),
        )
        orders.append(reservation.order.id)
    async with uow() as tx:
        for order_id in orders[:2]:
            await tx.card_keys.sell(order_id, clock.now())
        await tx.card_keys.return_to_stock(orders[0], clock.now())
        [(key_id, _)] = await tx.card_keys.sold_keys(orders[1])
        await tx.card_keys.mark_bad(key_id, orders[1], clock.now())
        await tx.commit()
    [level] = await stock_status(uow())
    assert (level.available, level.reserved, level.sold, level.bad) == (4, 1, 0, 1)
    assert (level.returned, level.stocked) == (1, 6)
