"""The wallet ledger: append-only entries; a balance is their sum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import ledger_entries, orders
from store.domain.clock import as_utc
from store.domain.model import LedgerEntry, LedgerReason


class SqlLedgerRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def balance(self, user_id: int) -> int:
        total = (
            await self._c.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
                    ledger_entries.c.user_id == user_id
                )
            )
        ).scalar_one()
        return int(total)

    async def append(
        self,
        user_id: int,
        amount_minor: int,
        reason: LedgerReason,
        idempotency_key: str,
        now: datetime,
        order_id: int | None = None,
        *,
        stars: int | None = None,
        note: str | None = None,
    ) -> bool:
        """Add an entry; false when an entry with this idempotency key already exists."""
        result = await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                ledger_entries,
                user_id=user_id,
                amount_minor=amount_minor,
                reason=reason.value,
                idempotency_key=idempotency_key[:128],
                order_id=order_id,
                stars=stars,
                note=None if note is None else note[:255],
                created_at=now,
            )
        )
        return result.rowcount == 1

    async def credited_for_order(self, order_id: int) -> int:
        """What the wallet has already been given back for an order (partial refunds)."""
        total = (
            await self._c.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
                    and_(ledger_entries.c.order_id == order_id, ledger_entries.c.amount_minor > 0)
                )
            )
        ).scalar_one()
        return int(total)

    async def recent(self, user_id: int, limit: int) -> list[LedgerEntry]:
        rows = await self._c.execute(
            select(ledger_entries, orders.c.reference)
            .select_from(
                ledger_entries.outerjoin(orders, orders.c.id == ledger_entries.c.order_id)
            )
            .where(ledger_entries.c.user_id == user_id)
            .order_by(ledger_entries.c.id.desc())
            .limit(limit)
        )
        return [
            LedgerEntry(
                id=r.id,
                amount_minor=r.amount_minor,
                reason=LedgerReason(r.reason),
                created_at=as_utc(r.created_at),
                order_id=r.order_id,
                stars=r.stars,
                note=r.note,
                order_reference=r.reference,
            )
            for r in rows
        ]
