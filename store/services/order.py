"""Reserving keys for an order, expiring reservations, and reading a buyer's orders."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.domain.errors import (
    NotYourOrder,
    OrderChanged,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
    QuantityNotAllowed,
    TooManyOpenOrders,
)
from store.domain.model import (
    Order,
    OrderStatus,
    Page,
    PaymentMethod,
    Product,
    Reservation,
)
from store.domain.order import (
    HoldRules,
    hold_lapsed,
    may_hold_another,
    may_move,
    quantity_allowed,
)
from store.domain.outbox import ADMINS_CHAT, LowStock, OrderExpired
from store.domain.stock import low_stock
from store.services.ports import UnitOfWork


async def reserve_keys(
    uow: UnitOfWork,
    *,
    user_id: int,
    first_name: str,
    sku: str,
    quantity: int,
    now: datetime,
    rules: HoldRules,
    notice_message_id: int | None = None,
) -> Reservation:
    """Create an order that holds `quantity` keys until it is paid or its hold lapses.

    `notice_message_id` is the buyer's message that becomes the order's summary: the delivery
    later edits that same message into "your keys are ready", so a delivery repeated after a
    crash is the same edit again, never a second message. A buyer who already holds keys of
    this product (say, the reply to an earlier Buy was lost in a crash) is shown that order
    again instead of holding more stock.
    """
    async with uow:
        product = await uow.catalog.product(sku, with_stock=False)  # the claim checks stock
        if product is None or not product.active:
            raise ProductNotFound(sku)
        if not quantity_allowed(quantity, product):
            raise QuantityNotAllowed(product.order_limit)
        await uow.users.ensure(user_id, first_name, now)
        held = await uow.orders.open_hold(user_id, sku, now)
        if held is not None:
            existing = await uow.orders.get(held)
            balance = await uow.ledger.balance(user_id)
            await uow.commit()
            assert existing is not None
            return Reservation(
                order=existing, product=product, balance_minor=balance, existing=True
            )
        if not may_hold_another(await uow.orders.count_open(user_id, now), rules):
            raise TooManyOpenOrders(rules.max_open)
        order_id = await uow.orders.add(
            user_id=user_id,
            sku=sku,
            quantity=quantity,
            unit_price_minor=product.price_minor,
            total_minor=product.price_minor * quantity,
            total_stars=product.price_stars * quantity,
            created_at=now,
            expires_at=now + timedelta(minutes=rules.minutes),
            notice_message_id=notice_message_id,
        )
        claimed = await uow.card_keys.claim(sku, order_id, quantity, now)
        if len(claimed) != quantity:
            raise OutOfStock(available=len(claimed))  # leaving `async with` rolls back
        await note_stock_level(uow, product, now)
        order = await uow.orders.get(order_id)
        balance = await uow.ledger.balance(user_id)
        await uow.commit()
    assert order is not None
    return Reservation(order=order, product=product, balance_minor=balance)


async def note_stock_level(uow: UnitOfWork, product: Product, now: datetime) -> None:
    """Alert admins once when a product's stock falls below its threshold; re-arm on restock."""
    sku, threshold = product.sku, product.low_stock_threshold
    if low_stock(await uow.card_keys.count_available(sku, up_to=threshold), threshold):
        if await uow.catalog.set_low_stock_alerted(sku, True):
            await uow.outbox.add(LowStock(sku), ADMINS_CHAT, f"low:{sku}:{now.isoformat()}", now)
    else:
        await uow.catalog.set_low_stock_alerted(sku, False)


async def move_order(
    uow: UnitOfWork,
    order: Order,
    to: OrderStatus,
    *,
    paid_at: datetime | None = None,
    payment_method: PaymentMethod | None = None,
    expires_at: datetime | None = None,
    refunded_at: datetime | None = None,
) -> Order:
    """The one way an order changes status, inside the caller's transaction.

    The caller has locked the order (`uow.orders.lock`), so `order.status` is what the row holds;
    the move must be allowed by `ORDER_MOVES`, and the update is conditional on that status all
    the same. Anything else is a bug, and rolls the whole transaction back.
    """
    if not may_move(order.status, to):
        raise OrderChanged(f"order {order.id}: {order.status.value} cannot become {to.value}")
    if not await uow.orders.move(
        order.id,
        [order.status],
        to,
        paid_at=paid_at,
        payment_method=payment_method,
        expires_at=expires_at,
        refunded_at=refunded_at,
    ):
        raise OrderChanged(f"order {order.id} was not {order.status.value} any more")
    moved = await uow.orders.get(order.id)
    assert moved is not None
    return moved


async def locked_order(uow: UnitOfWork, order_id: int, user_id: int) -> Order:
    """Inside an open unit of work: lock the order if it is this buyer's, else the refusal."""
    return await owned_order(uow, order_id, user_id, lock=True)


async def expire_reservations(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> list[int]:
    """Release the keys of every unpaid order whose hold has lapsed; returns their ids.

    Each buyer is told through the outbox: the order's summary becomes "expired", with Order
    again, without waiting for the buyer to come back. An order that a payment holds locked
    right now is skipped: the payment decides it, and the next run sees what it decided.
    """
    expired: list[int] = []
    async with uow:
        for order_id in await uow.orders.lapsed(now, limit):
            order = await uow.orders.lock(order_id, skip_locked=True)
            if order is None or not hold_lapsed(order, now):
                continue
            await move_order(uow, order, OrderStatus.EXPIRED)
            await uow.card_keys.release(order_id, now)
            # an order may lapse again after a late payment re-held it: a key per lapse
            key = f"expired:{order_id}:{now.isoformat()}"
            await uow.outbox.add(OrderExpired(order_id), order.user_id, key, now)
            expired.append(order_id)
        await uow.commit()
    return expired


async def list_orders(
    uow: UnitOfWork, *, user_id: int, page: int, page_size: int = 5
) -> Page[Order]:
    async with uow.reading():
        items, total = await uow.orders.for_user(user_id, max(page, 0) * page_size, page_size)
    pages = max(1, -(-total // page_size))
    return Page(items=items, page=min(max(page, 0), pages - 1), pages=pages)


async def owned_order(uow: UnitOfWork, order_id: int, user_id: int, *, lock: bool = False) -> Order:
    """Inside an open unit of work: the order (locked, with `lock`) if it is this buyer's, else
    the refusal."""
    order = await (uow.orders.lock(order_id) if lock else uow.orders.get(order_id))
    if order is None:
        raise OrderNotFound(order_id)
    if order.user_id != user_id:
        raise NotYourOrder(order_id)
    return order


async def order_id_of(uow: UnitOfWork, *, reference: str) -> int:
    """The id of the order this reference names (as `parse_reference` writes it), for a
    service that takes an id and checks whose order it is; an unknown one is not found."""
    async with uow.reading():
        order = await uow.orders.by_reference(reference)
    if order is None:
        raise OrderNotFound(reference)
    return order.id


async def get_order(uow: UnitOfWork, *, user_id: int, order_id: int) -> Order:
    """The order, only for its owner; anyone else is told it is not theirs."""
    async with uow.reading():
        return await owned_order(uow, order_id, user_id)


async def cancel_order(uow: UnitOfWork, *, user_id: int, order_id: int, now: datetime) -> Order:
    """The buyer gives up an unpaid order; its keys go back to stock at once.

    An order paid meanwhile is left as it is (the payment won the race), and returned so.
    """
    async with uow:
        order = await locked_order(uow, order_id, user_id)
        if order.status is OrderStatus.AWAITING_PAYMENT:
            order = await move_order(uow, order, OrderStatus.CANCELLED)
            await uow.card_keys.release(order_id, now)
        await uow.commit()
    return order
