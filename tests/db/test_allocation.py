"""Reserving keys: race-free on SQLite and PostgreSQL, capped per buyer, released on expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import card_keys
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import OutOfStock, TooManyOpenOrders
from store.domain.model import OrderStatus
from store.domain.order import HoldRules
from store.services.order import expire_reservations, reserve_keys
from tests.conftest import FakeClock
from tests.factories import stocked_shop

RULES = HoldRules(minutes=15, max_open=3)


async def test_fifty_buyers_racing_for_the_last_ten_keys_get_ten_orders_and_no_key_twice(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=10)

    async def buy(user_id: int) -> int | None:
        try:
            reservation = await reserve_keys(
                uow(),
                user_id=user_id,
                first_name="",
                sku="STEAM-50",
                quantity=1,
                now=clock.now(),
                rules=RULES,
            )
        except OutOfStock:
            return None
        return reservation.order.id

    results = await asyncio.gather(*(buy(2000 + n) for n in range(50)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 10
    async with uow() as tx:
        rows = (await tx.connection.execute(select(card_keys.c.id, card_keys.c.order_id))).all()
    holders = [row.order_id for row in rows]
    assert sorted(holders) == sorted(winners)  # every key held by exactly one winning order
    assert len(set(holders)) == 10


async def test_an_order_for_more_than_the_stock_holds_nothing(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    with pytest.raises(OutOfStock) as refused:
        await reserve_keys(
            uow(),
            user_id=1,
            first_name="",
            sku="STEAM-50",
            quantity=5,
            now=clock.now(),
            rules=RULES,
        )
    assert refused.value.available == 3
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 3
        assert (await tx.orders.for_user(1, 0, 10))[1] == 0


async def test_a_buyer_cannot_hold_more_than_the_open_reservation_cap(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    for sku in ("A-1", "A-2", "A-3", "A-4"):
        await stocked_shop(uow, cipher, clock, sku=sku, stock=2)
    for sku in ("A-1", "A-2", "A-3"):
        await reserve_keys(
            uow(), user_id=1, first_name="", sku=sku, quantity=1, now=clock.now(), rules=RULES
        )
    with pytest.raises(TooManyOpenOrders):
        await reserve_keys(
            uow(), user_id=1, first_name="", sku="A-4", quantity=1, now=clock.now(), rules=RULES
        )


async def test_buy_pressed_again_with_an_open_hold_shows_that_order_and_holds_nothing_more(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=5)
    first = await reserve_keys(
        uow(), user_id=1, first_name="", sku="STEAM-50", quantity=1, now=clock.now(), rules=RULES
    )
    again = await reserve_keys(
        uow(), user_id=1, first_name="", sku="STEAM-50", quantity=2, now=clock.now(), rules=RULES
    )
    assert again.existing and again.order.id == first.order.id and not first.existing
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 4
        assert (await tx.orders.for_user(1, 0, 10))[1] == 1


async def test_a_lapsed_reservation_releases_its_keys_and_says_expired(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    reservation = await reserve_keys(
        uow(), user_id=1, first_name="", sku="STEAM-50", quantity=2, now=clock.now(), rules=RULES
    )
    assert await expire_reservations(uow(), now=clock.now() + timedelta(minutes=14)) == []
    expired = await expire_reservations(uow(), now=clock.advance(minutes=15))
    assert expired == [reservation.order.id]
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 2
        order = await tx.orders.get(reservation.order.id)
    assert order is not None and order.status is OrderStatus.EXPIRED
