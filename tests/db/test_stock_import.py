"""Importing card keys: encrypted at rest, duplicates refused across the whole shop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.card_key_cipher import CardKeyCipher
from store.errors import ImportRefused
from store.service.catalog import load_catalog
from store.service.stock import ALREADY_IN_STOCK, ImportSummary, import_card_keys, stock_status
from store.tables import card_keys
from store.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.factories import catalog, key_file, product, stocked_shop


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
        uow(), sku="A", parsed=key_file("K-1", "K-2"), source="t", cipher=cipher, now=clock.now()
    )
    with pytest.raises(ImportRefused) as refused:
        await import_card_keys(
            uow(),
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
        uow(),
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
        uow(), sku="STEAM-50", parsed=key_file("OLD-1"), source="t", cipher=cipher, now=clock.now()
    )
    rotated = CardKeyCipher(
        [
            "a brand new passphrase, also long enough!!",
            "test passphrase that is long enough for kamibot!",
        ]
    )
    with pytest.raises(ImportRefused):
        await import_card_keys(
            uow(),
            sku="STEAM-50",
            parsed=key_file("OLD-1"),
            source="t",
            cipher=rotated,
            now=clock.now(),
        )
