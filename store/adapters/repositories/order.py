"""Orders and their status changes, always conditional on the status they leave."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import orders, products
from store.domain.clock import as_utc, as_utc_or_none
from store.domain.model import Order, OrderStatus, PaymentMethod
from store.domain.reference import new_reference

_columns = [*orders.c, products.c.name_zh, products.c.name_en, products.c.name_zh_hant]


def _order(row: Any) -> Order:
    return Order(
        id=row.id,
        user_id=row.user_id,
        sku=row.sku,
        quantity=row.quantity,
        unit_price_minor=row.unit_price_minor,
        total_minor=row.total_minor,
        total_stars=row.total_stars,
        status=OrderStatus(row.status),
        payment_method=PaymentMethod(row.payment_method) if row.payment_method else None,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        paid_at=as_utc_or_none(row.paid_at),
        delivered_at=as_utc_or_none(row.delivered_at),
        revealed_at=as_utc_or_none(row.revealed_at),
        refunded_at=as_utc_or_none(row.refunded_at),
        product_name_zh=row.name_zh,
        product_name_en=row.name_en,
        notice_message_id=row.notice_message_id,
        reference=row.reference,
        product_name_zh_hant=row.name_zh_hant,
    )


class SqlOrderRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def add(
        self,
        *,
        user_id: int,
        sku: str,
        quantity: int,
        unit_price_minor: int,
        total_minor: int,
        total_stars: int,
        created_at: datetime,
        expires_at: datetime,
        notice_message_id: int | None = None,
    ) -> int:
        """A new order, awaiting payment until `expires_at`, under a fresh reference.

        A reference another order holds already (a chance in billions) is skipped for another
        one: ON CONFLICT DO NOTHING, as a failed insert would end a PostgreSQL transaction.
        """
        while True:
            result = await self._c.execute(
                insert_ignoring_conflict(
                    self._dialect,
                    orders,
                    user_id=user_id,
                    sku=sku,
                    quantity=quantity,
                    unit_price_minor=unit_price_minor,
                    total_minor=total_minor,
                    total_stars=total_stars,
                    status=OrderStatus.AWAITING_PAYMENT.value,
                    created_at=created_at,
                    expires_at=expires_at,
                    notice_message_id=notice_message_id,
                    reference=new_reference(),
                ).returning(orders.c.id)
            )
            order_id = result.scalar_one_or_none()
            if order_id is not None:
                return int(order_id)

    async def by_reference(self, reference: str) -> Order | None:
        """The order this reference names (as `parse_reference` writes it), if any."""
        row = (
            await self._c.execute(
                select(*_columns)
                .select_from(orders.join(products, products.c.sku == orders.c.sku))
                .where(orders.c.reference == reference)
            )
        ).first()
        return _order(row) if row else None

    async def get(self, order_id: int) -> Order | None:
        row = (
            await self._c.execute(
                select(*_columns)
                .select_from(orders.join(products, products.c.sku == orders.c.sku))
                .where(orders.c.id == order_id)
            )
        ).first()
        return _order(row) if row else None

    async def lock(self, order_id: int, *, skip_locked: bool = False) -> Order | None:
        """Read an order and hold it until the transaction ends: the first step of every change.

        On PostgreSQL this is a row lock (FOR UPDATE OF orders), so a payment, a cancel, the
        expiry job and a refund of one order run one after another and each sees what the
        previous one committed. SQLite's write transactions (BEGIN IMMEDIATE) already run one at
        a time. With `skip_locked`, an order another transaction holds reads as None.
        """
        row = (
            await self._c.execute(
                select(*_columns)
                .select_from(orders.join(products, products.c.sku == orders.c.sku))
                .where(orders.c.id == order_id)
                .with_for_update(of=orders, skip_locked=skip_locked)
            )
        ).first()
        return _order(row) if row else None

    async def set_notice_message(self, order_id: int, message_id: int) -> None:
        await self._c.execute(
            update(orders)
            .where(and_(orders.c.id == order_id, orders.c.notice_message_id.is_(None)))
            .values(notice_message_id=message_id)
        )

    async def open_hold(self, user_id: int, sku: str, now: datetime) -> int | None:
        """The buyer's newest unpaid order of this product whose keys are still held."""
        row = (
            await self._c.execute(
                select(orders.c.id)
                .where(
                    and_(
                        orders.c.user_id == user_id,
                        orders.c.sku == sku,
                        orders.c.status == OrderStatus.AWAITING_PAYMENT,
                        orders.c.expires_at > now,
                    )
                )
                .order_by(orders.c.id.desc())
                .limit(1)
            )
        ).first()
        return int(row.id) if row else None

    async def for_user(self, user_id: int, offset: int, limit: int) -> tuple[list[Order], int]:
        total = (
            await self._c.execute(select(func.count()).where(orders.c.user_id == user_id))
        ).scalar_one()
        rows = await self._c.execute(
            select(*_columns)
            .select_from(orders.join(products, products.c.sku == orders.c.sku))
            .where(orders.c.user_id == user_id)
            .order_by(orders.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_order(r) for r in rows], total

    async def count_open(self, user_id: int, now: datetime) -> int:
        return (
            await self._c.execute(
                select(func.count()).where(
                    and_(
                        orders.c.user_id == user_id,
                        orders.c.status == OrderStatus.AWAITING_PAYMENT,
                        orders.c.expires_at > now,
                    )
                )
            )
        ).scalar_one()

    async def lapsed(self, now: datetime, limit: int) -> list[int]:
        rows = await self._c.execute(
            select(orders.c.id)
            .where(
                and_(orders.c.status == OrderStatus.AWAITING_PAYMENT, orders.c.expires_at <= now)
            )
            .order_by(orders.c.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def awaiting_stock(self, sku: str) -> list[Order]:
        rows = await self._c.execute(
            select(*_columns)
            .select_from(orders.join(products, products.c.sku == orders.c.sku))
            .where(and_(orders.c.sku == sku, orders.c.status == OrderStatus.AWAITING_STOCK))
            .order_by(orders.c.id)
        )
        return [_order(r) for r in rows]

    async def move(
        self,
        order_id: int,
        leaving: Iterable[OrderStatus],
        to: OrderStatus,
        *,
        paid_at: datetime | None = None,
        payment_method: PaymentMethod | None = None,
        expires_at: datetime | None = None,
        delivered_at: datetime | None = None,
        refunded_at: datetime | None = None,
    ) -> bool:
        """Change status only if the order is still in one of `leaving`, setting whichever of
        the other fields are given; true if it changed."""
        changes: dict[str, object] = {"status": to.value}
        if paid_at is not None:
            changes["paid_at"] = paid_at
        if payment_method is not None:
            changes["payment_method"] = payment_method.value
        if expires_at is not None:
            changes["expires_at"] = expires_at
        if delivered_at is not None:
            changes["delivered_at"] = delivered_at
        if refunded_at is not None:
            changes["refunded_at"] = refunded_at
        where = and_(orders.c.id == order_id, orders.c.status.in_([s.value for s in leaving]))
        result = await self._c.execute(update(orders).where(where).values(changes))
        return result.rowcount == 1

    async def mark_revealed(self, order_id: int, now: datetime) -> bool | None:
        """Record a reveal: True the first time, False after that, None if it has no keys now.

        Conditional on the status, so a reveal racing a refund cannot show refunded keys.
        """
        revealable = and_(
            orders.c.id == order_id,
            orders.c.status.in_([OrderStatus.PAID.value, OrderStatus.DELIVERED.value]),
        )
        first = await self._c.execute(
            update(orders)
            .where(and_(revealable, orders.c.revealed_at.is_(None)))
            .values(revealed_at=now)
        )
        if first.rowcount == 1:
            return True
        still = await self._c.execute(select(orders.c.id).where(revealable))
        return False if still.first() else None

    async def set_expiry(self, order_id: int, expires_at: datetime) -> None:
        await self._c.execute(
            update(orders).where(orders.c.id == order_id).values(expires_at=expires_at)
        )

    async def paid_or_refunded_since(self, since: datetime) -> list[Order]:
        """Orders paid or refunded at `since` or later, with their product names, by id."""
        rows = await self._c.execute(
            select(*_columns)
            .select_from(orders.join(products, products.c.sku == orders.c.sku))
            .where(or_(orders.c.paid_at >= since, orders.c.refunded_at >= since))
            .order_by(orders.c.id)
        )
        return [_order(r) for r in rows]
