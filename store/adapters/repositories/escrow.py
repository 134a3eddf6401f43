"""Escrow holds: one per sold key, held until its after-sales window ends, then settled once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import batches, card_keys, escrow_holds
from store.domain.clock import as_utc
from store.domain.ledger import Hold, SoldKey
from store.domain.model import KeyStatus

HELD = "held"


def _hold(r: Row[tuple[object, ...]]) -> Hold:
    return Hold(
        id=r.id,
        card_key_id=r.card_key_id,
        order_id=r.order_id,
        supplier_id=r.supplier_id,
        cost_minor=r.cost_minor,
        price_minor=r.price_minor,
        held_at=as_utc(r.held_at),
        status=r.status,
        case_id=r.case_id,
    )


class SqlEscrowRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def sold_keys(self, order_id: int, key_ids: Sequence[int] | None = None) -> list[SoldKey]:
        """The order's sold keys with their supplier and cost (a batch without one costs 0);
        `price_minor` is left 0 for the caller, who knows the order's prices."""
        query = (
            select(card_keys.c.id, batches.c.supplier_id, batches.c.cost_minor)
            .select_from(card_keys.join(batches, batches.c.id == card_keys.c.batch_id))
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD))
            .order_by(card_keys.c.id)
        )
        if key_ids is not None:
            query = query.where(card_keys.c.id.in_(list(key_ids)))
        return [
            SoldKey(r.id, r.supplier_id, int(r.cost_minor or 0), 0)
            for r in await self._c.execute(query)
        ]

    async def supplier_of(self, card_key_id: int) -> tuple[str, int]:
        """Whose key this is and what it cost them (0 when the batch recorded no cost)."""
        row = (
            await self._c.execute(
                select(batches.c.supplier_id, batches.c.cost_minor)
                .select_from(card_keys.join(batches, batches.c.id == card_keys.c.batch_id))
                .where(card_keys.c.id == card_key_id)
            )
        ).one()
        return row.supplier_id, int(row.cost_minor or 0)

    async def hold(self, order_id: int, keys: Sequence[SoldKey], now: datetime) -> None:
        rows = [
            {
                "card_key_id": k.card_key_id,
                "order_id": order_id,
                "supplier_id": k.supplier_id,
                "cost_minor": k.cost_minor,
                "price_minor": k.price_minor,
                "held_at": now,
                "status": HELD,
            }
            for k in keys
        ]
        if rows:
            await self._c.execute(insert(escrow_holds), rows)

    async def cancel(
        self,
        order_id: int,
        now: datetime,
        *,
        key_ids: Sequence[int] | None = None,
        case_id: int | None = None,
    ) -> list[Hold]:
        """Cancel the holds still held for an order (or these of its keys); the ones cancelled."""
        where = and_(escrow_holds.c.order_id == order_id, escrow_holds.c.status == HELD)
        if key_ids is not None:
            where = and_(where, escrow_holds.c.card_key_id.in_(list(key_ids)))
        rows = await self._c.execute(
            update(escrow_holds)
            .where(where)
            .values(status="cancelled", closed_at=now, case_id=case_id)
            .returning(*escrow_holds.c)
        )
        return sorted((_hold(r) for r in rows), key=lambda h: h.id)

    async def latest_for_key(self, order_id: int, card_key_id: int) -> Hold | None:
        row = (
            await self._c.execute(
                select(escrow_holds)
                .where(
                    and_(
                        escrow_holds.c.order_id == order_id,
                        escrow_holds.c.card_key_id == card_key_id,
                    )
                )
                .order_by(escrow_holds.c.id.desc())
                .limit(1)
            )
        ).first()
        return _hold(row) if row else None

    async def due(self, sold_before: datetime, limit: int) -> list[Hold]:
        """Holds still held for keys sold before this: their window is over."""
        rows = await self._c.execute(
            select(escrow_holds)
            .where(and_(escrow_holds.c.status == HELD, escrow_holds.c.held_at < sold_before))
            .order_by(escrow_holds.c.id)
            .limit(limit)
        )
        return [_hold(r) for r in rows]

    async def release(self, hold_ids: Sequence[int], now: datetime) -> list[int]:
        """Mark these holds released if still held; the ids this call released (settle once)."""
        if not hold_ids:
            return []
        rows = await self._c.execute(
            update(escrow_holds)
            .where(and_(escrow_holds.c.id.in_(list(hold_ids)), escrow_holds.c.status == HELD))
            .values(status="released", closed_at=now)
            .returning(escrow_holds.c.id)
        )
        return sorted(rows.scalars())

    async def held_for_supplier(self, supplier_id: str) -> int:
        total = (
            await self._c.execute(
                select(func.coalesce(func.sum(escrow_holds.c.cost_minor), 0)).where(
                    and_(escrow_holds.c.supplier_id == supplier_id, escrow_holds.c.status == HELD)
                )
            )
        ).scalar_one()
        return int(total)
