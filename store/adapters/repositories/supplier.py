"""Suppliers, their standing over time, and their stock by product."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import batches, card_keys, supplier_events, suppliers
from store.domain.clock import as_utc
from store.domain.model import BatchStatus, KeyStatus
from store.domain.supplier import (
    Supplier,
    SupplierEvent,
    SupplierStanding,
    SupplierStatus,
    SupplierStock,
)


def _supplier(row: Any) -> Supplier:
    return Supplier(
        id=row.id,
        name=row.name,
        public_name=row.public_name,
        contact=row.contact,
        public_key=bytes(row.public_key) if row.public_key is not None else None,
        status=SupplierStatus(row.status),
        created_at=as_utc(row.created_at),
    )


def _event(row: Any) -> SupplierEvent:
    return SupplierEvent(
        row.supplier_id, SupplierStatus(row.status), row.reason, row.actor, as_utc(row.at)
    )


class SqlSupplierRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, supplier: Supplier, event: SupplierEvent) -> bool:
        if await self.get(supplier.id) is not None:
            return False
        await self._c.execute(
            insert(suppliers).values(
                id=supplier.id,
                name=supplier.name,
                public_name=supplier.public_name,
                contact=supplier.contact,
                public_key=supplier.public_key,
                status=supplier.status.value,
                created_at=supplier.created_at,
            )
        )
        await self._c.execute(
            insert(supplier_events).values(
                supplier_id=event.supplier_id,
                status=event.status.value,
                reason=event.reason,
                actor=event.actor,
                at=event.at,
            )
        )
        return True

    async def get(self, supplier_id: str) -> Supplier | None:
        row = (
            await self._c.execute(select(suppliers).where(suppliers.c.id == supplier_id))
        ).first()
        return _supplier(row) if row else None

    async def lock(self, supplier_id: str) -> bool:
        """Hold the supplier's row for this transaction (its money moves one at a time);
        False if there is no such supplier. SQLite's writer lock already serialises."""
        query = select(suppliers.c.id).where(suppliers.c.id == supplier_id)
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        return (await self._c.execute(query)).first() is not None

    async def all(self) -> list[Supplier]:
        rows = await self._c.execute(select(suppliers).order_by(suppliers.c.id))
        return [_supplier(row) for row in rows]

    async def events(self, supplier_id: str) -> list[SupplierEvent]:
        rows = await self._c.execute(
            select(supplier_events)
            .where(supplier_events.c.supplier_id == supplier_id)
            .order_by(supplier_events.c.id)
        )
        return [_event(row) for row in rows]

    async def stock(self, supplier_id: str) -> list[SupplierStock]:
        def counted(status: KeyStatus) -> Any:
            return func.sum(case((card_keys.c.status == status.value, 1), else_=0))

        rows = await self._c.execute(
            select(
                card_keys.c.sku,
                counted(KeyStatus.AVAILABLE).label("available"),
                counted(KeyStatus.RESERVED).label("held"),
                counted(KeyStatus.SOLD).label("sold"),
                counted(KeyStatus.BAD).label("bad"),
                counted(KeyStatus.FROZEN).label("frozen"),
            )
            .join(batches, batches.c.id == card_keys.c.batch_id)
            .where(batches.c.supplier_id == supplier_id)
            .group_by(card_keys.c.sku)
            .order_by(card_keys.c.sku)
        )
        return [
            SupplierStock(
                r.sku, int(r.available), int(r.held), int(r.sold), int(r.bad), int(r.frozen)
            )
            for r in rows
        ]

    async def change_status(self, event: SupplierEvent) -> bool:
        """Move the supplier to `event.status` and record why, unless it is there already."""
        result = await self._c.execute(
            update(suppliers)
            .where(and_(suppliers.c.id == event.supplier_id, suppliers.c.status != event.status))
            .values(status=event.status.value)
        )
        if result.rowcount != 1:
            return False
        await self._c.execute(
            insert(supplier_events).values(
                supplier_id=event.supplier_id,
                status=event.status.value,
                reason=event.reason,
                actor=event.actor,
                at=event.at,
            )
        )
        return True

    async def standing(self, supplier_id: str, since: datetime) -> SupplierStanding:
        """Its keys sold since then (still sold, or found bad since), and of them the bad."""
        row = (
            await self._c.execute(
                select(
                    func.count().label("sold"),
                    func.coalesce(
                        func.sum(case((card_keys.c.status == KeyStatus.BAD, 1), else_=0)), 0
                    ).label("bad"),
                )
                .select_from(card_keys.join(batches, batches.c.id == card_keys.c.batch_id))
                .where(
                    and_(
                        batches.c.supplier_id == supplier_id,
                        card_keys.c.status.in_([KeyStatus.SOLD, KeyStatus.BAD]),
                        card_keys.c.sold_at >= since,
                    )
                )
            )
        ).one()
        return SupplierStanding(int(row.sold), int(row.bad))

    async def waiting_batches(self, supplier_id: str) -> list[tuple[int, str]]:
        """(batch id, sku) of its batches waiting for a deposit, oldest first."""
        rows = await self._c.execute(
            select(batches.c.id, batches.c.sku)
            .where(
                and_(batches.c.supplier_id == supplier_id, batches.c.status == BatchStatus.WAITING)
            )
            .order_by(batches.c.id)
        )
        return [(r.id, r.sku) for r in rows]
