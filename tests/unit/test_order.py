"""Reserving keys, expiring and cancelling holds, and reading a buyer's orders, on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from store.domain.errors import (
    NotYourOrder,
    OrderChanged,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
    QuantityNotAllowed,
    TooManyOpenOrders,
)
from store.domain.model import KeyStatus, OrderStatus, Reservation
from store.domain.order import HoldRules
from store.domain.outbox import ADMINS_CHAT, LowStock
from store.domain.reference import parse_reference
from store.services.order import (
    cancel_order,
    expire_reservations,
    get_order,
    list_orders,
    move_order,
    reserve_keys,
)
from tests.conftest import FakeClock
from tests.factories import stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
BUYER, OTHER = 1001, 1002


async def shop(clock: FakeClock, stock: int = 5, **changes: Any) -> FakeDatabase:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=stock, **changes)
    return db


async def reserve(
    db: FakeDatabase,
    clock: FakeClock,
    quantity: int = 1,
    *,
    user_id: int = BUYER,
    sku: str = "STEAM-50",
    rules: HoldRules | None = None,
) -> Reservation:
    return await reserve_keys(
        FakeUnitOfWork(db),
        user_id=user_id,
        first_name="Li",
        sku=sku,
        quantity=quantity,
        now=clock.now(),
        rules=rules or HoldRules(),
    )


def keys_by_status(db: FakeDatabase) -> dict[KeyStatus, int]:
    counted: dict[KeyStatus, int] = {}
    for key in db.tables.card_keys.values():
        counted[key.status] = counted.get(key.status, 0) + 1
    return counted


async def test_a_reservation_holds_keys_until_it_expires(clock: FakeClock) -> None:
    db = await shop(clock)
    reservation = await reserve(db, clock, 2)
    assert reservation.order.status is OrderStatus.AWAITING_PAYMENT and not reservation.existing
    assert keys_by_status(db) == {KeyStatus.RESERVED: 2, KeyStatus.AVAILABLE: 3}

    clock.advance(minutes=14)
    assert await expire_reservations(FakeUnitOfWork(db), now=clock.now()) == []
    clock.advance(minutes=2)
    assert await expire_reservations(FakeUnitOfWork(db), now=clock.now()) == [reservation.order.id]
    assert keys_by_status(db) == {KeyStatus.AVAILABLE: 5}
    assert db.tables.orders[reservation.order.id].status is OrderStatus.EXPIRED


async def test_reserving_more_than_the_stock_holds_nothing(clock: FakeClock) -> None:
    db = await shop(clock, stock=2)
    with pytest.raises(OutOfStock) as refused:
        await reserve(db, clock, 3)
    assert refused.value.available == 2
    assert db.tables.orders == {} and keys_by_status(db) == {KeyStatus.AVAILABLE: 2}


async def test_a_quantity_beyond_the_products_limit_is_refused(clock: FakeClock) -> None:
    db = await shop(clock, order_limit=2)
    with pytest.raises(QuantityNotAllowed) as refused:
        await reserve(db, clock, 3)
    assert refused.value.limit == 2 and db.tables.orders == {}


async def test_an_unknown_or_inactive_product_cannot_be_reserved(clock: FakeClock) -> None:
    db = await shop(clock, active=False)
    for sku in ("STEAM-50", "NOPE"):
        with pytest.raises(ProductNotFound):
            await reserve(db, clock, sku=sku)


async def test_a_buyer_already_holding_keys_of_the_product_is_shown_that_order_again(
    clock: FakeClock,
) -> None:
    db = await shop(clock)
    first = await reserve(db, clock, 2)
    again = await reserve(db, clock, 1)
    assert again.existing and again.order.id == first.order.id and again.order.quantity == 2
    assert keys_by_status(db)[KeyStatus.RESERVED] == 2


async def test_a_buyer_may_hold_only_so_many_unpaid_orders(clock: FakeClock) -> None:
    db = await shop(clock)
    await stocked_shop(db.unit_of_work, CIPHER, clock, sku="OTHER", stock=2)
    await reserve(db, clock, rules=HoldRules(max_open=1))
    with pytest.raises(TooManyOpenOrders):
        await reserve(db, clock, sku="OTHER", rules=HoldRules(max_open=1))
    assert len(db.tables.orders) == 1


async def test_stock_falling_below_its_threshold_alerts_the_admins_once(clock: FakeClock) -> None:
    db = await shop(clock, stock=4, low_stock_threshold=3)
    await reserve(db, clock, 1)  # 3 left: not below
    assert db.outbox() == []
    await reserve(db, clock, 1, user_id=OTHER)  # 2 left
    await reserve(db, clock, 1, user_id=OTHER + 1)  # 1 left: already alerted
    assert db.outbox() == [(ADMINS_CHAT, LowStock(sku="STEAM-50"))]


async def test_a_cancelled_order_gives_its_keys_back_at_once(clock: FakeClock) -> None:
    db = await shop(clock)
    order = (await reserve(db, clock, 2)).order
    cancelled = await cancel_order(
        FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, now=clock.now()
    )
    assert cancelled.status is OrderStatus.CANCELLED
    assert keys_by_status(db) == {KeyStatus.AVAILABLE: 5}


async def test_an_order_is_shown_only_to_its_owner(clock: FakeClock) -> None:
    db = await shop(clock)
    order = (await reserve(db, clock)).order
    uow = FakeUnitOfWork(db)
    shown = await get_order(uow, user_id=BUYER, order_id=order.id)
    assert shown.product_name_en == "Steam Wallet ¥50" and uow.opened == ["read"]
    with pytest.raises(NotYourOrder):
        await get_order(FakeUnitOfWork(db), user_id=OTHER, order_id=order.id)
    with pytest.raises(OrderNotFound):
        await get_order(FakeUnitOfWork(db), user_id=BUYER, order_id=order.id + 1)


async def test_a_buyers_orders_are_listed_newest_first_a_page_at_a_time(clock: FakeClock) -> None:
    db = await shop(clock, stock=20)
    made = []
    for _ in range(3):
        made.append((await reserve(db, clock)).order.id)
        await cancel_order(FakeUnitOfWork(db), user_id=BUYER, order_id=made[-1], now=clock.now())
    await reserve(db, clock, user_id=OTHER)
    first = await list_orders(FakeUnitOfWork(db), user_id=BUYER, page=0, page_size=2)
    assert [o.id for o in first.items] == made[::-1][:2] and first.pages == 2
    last = await list_orders(FakeUnitOfWork(db), user_id=BUYER, page=1, page_size=2)
    assert [o.id for o in last.items] == [made[0]] and not last.has_next


async def test_an_order_moves_only_as_the_rules_allow(clock: FakeClock) -> None:
    db = await shop(clock)
    order = (await reserve(db, clock)).order
    uow = FakeUnitOfWork(db)
    async with uow:
        with pytest.raises(OrderChanged):
            await move_order(uow, order, OrderStatus.DELIVERED)  # never paid
        expired = await move_order(uow, order, OrderStatus.EXPIRED)
        with pytest.raises(OrderChanged):  # the order is no longer what the caller read
            await move_order(uow, order, OrderStatus.PAID)
    assert expired.status is OrderStatus.EXPIRED
    assert db.tables.orders[order.id].status is OrderStatus.AWAITING_PAYMENT  # not committed


async def test_each_order_gets_its_own_reference_and_is_found_by_it(clock: FakeClock) -> None:
    db = await shop(clock)
    first = (await reserve(db, clock)).order
    second = (await reserve(db, clock, user_id=BUYER + 1)).order
    assert parse_reference(first.reference) == first.reference != second.reference
    async with FakeUnitOfWork(db).reading() as tx:
        assert (await tx.orders.by_reference(first.reference)) == first
        assert await tx.orders.by_reference("ZZZZ-ZZZZ") is None
