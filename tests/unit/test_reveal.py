"""Revealing a paid order's keys to its owner, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import KeysNotAvailable, NotYourOrder
from store.domain.order import HoldRules
from store.services.order import reserve_keys
from store.services.reveal import reveal_keys
from tests.conftest import FakeClock
from tests.factories import keys, paid_order, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
BUYER, OTHER = 1001, 1002


async def test_the_owner_sees_the_keys_in_clear_and_the_first_reveal_is_recorded(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock, quantity=2)
    shown = await reveal_keys(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, cipher=CIPHER, now=clock.now()
    )
    assert shown.first_reveal and shown.keys == keys("STEAM-50", 2)
    assert shown.redeem_en == "Redeem in Steam"
    assert db.tables.orders[order.id].revealed_at == clock.now()
    events = [event for _, event, _, _ in db.tables.key_events]
    assert events.count("revealed") == 2


async def test_a_second_reveal_shows_the_same_keys_and_records_nothing_more(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    first_at = clock.now()
    await reveal_keys(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, cipher=CIPHER, now=first_at
    )
    again = await reveal_keys(
        FakeUnitOfWork(db),
        user_id=BUYER,
        order_id=order.id,
        cipher=CIPHER,
        now=clock.advance(hours=1),
    )
    assert not again.first_reveal and again.keys == keys("STEAM-50", 1)
    assert db.tables.orders[order.id].revealed_at == first_at
    assert [event for _, event, _, _ in db.tables.key_events].count("revealed") == 1


async def test_an_unpaid_order_has_no_keys_to_show(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock)
    reservation = await reserve_keys(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="Li",
        sku="STEAM-50",
        quantity=1,
        now=clock.now(),
        rules=HoldRules(),
    )
    with pytest.raises(KeysNotAvailable, match="awaiting_payment"):
        await reveal_keys(
            FakeUnitOfWork(db),
            user_id=BUYER,
            order_id=reservation.order.id,
            cipher=CIPHER,
            now=clock.now(),
        )
    assert db.tables.orders[reservation.order.id].revealed_at is None


async def test_nobody_else_sees_an_orders_keys(clock: FakeClock) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    with pytest.raises(NotYourOrder):
        await reveal_keys(
            FakeUnitOfWork(db), user_id=OTHER, order_id=order.id, cipher=CIPHER, now=clock.now()
        )
    assert db.tables.orders[order.id].revealed_at is None
