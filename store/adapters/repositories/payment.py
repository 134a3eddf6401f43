"""Payments, recorded under their unique Telegram charge id before anything acts on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import payments
from store.domain.clock import as_utc_or_none
from store.domain.model import Payment


class SqlPaymentRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def record(
        self,
        *,
        charge_id: str,
        user_id: int,
        order_id: int | None,
        purpose: str,
        currency: str,
        amount: int,
        payload: str,
        now: datetime,
        outcome: str | None = None,
    ) -> bool:
        """Insert the payment; false when this charge id was already recorded (a duplicate)."""
        result = await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                payments,
                charge_id=charge_id,
                user_id=user_id,
                order_id=order_id,
                purpose=purpose,
                currency=currency,
                amount=amount,
                payload=payload[:128],
                received_at=now,
                outcome=outcome,
            )
        )
        return result.rowcount == 1

    async def charge_for_order(self, order_id: int) -> str | None:
        """The charge that paid this order (a second charge of it is refunded, never this)."""
        row = (
            await self._c.execute(
                select(payments.c.charge_id)
                .where(
                    and_(
                        payments.c.order_id == order_id,
                        payments.c.purpose == "order",
                        payments.c.outcome.in_(["applied", "awaiting"]),
                    )
                )
                .order_by(payments.c.id)
                .limit(1)
            )
        ).first()
        return row.charge_id if row else None

    async def set_outcome(self, charge_id: str, outcome: str) -> None:
        await self._c.execute(
            update(payments).where(payments.c.charge_id == charge_id).values(outcome=outcome)
        )

    async def known(self, charge_ids: Sequence[str]) -> set[str]:
        """Which of these charges are recorded."""
        found: set[str] = set()
        for start in range(0, len(charge_ids), 500):
            chunk = list(charge_ids[start : start + 500])
            rows = await self._c.execute(
                select(payments.c.charge_id).where(payments.c.charge_id.in_(chunk))
            )
            found.update(rows.scalars())
        return found

    async def get(self, charge_id: str) -> Payment | None:
        row = (
            await self._c.execute(select(payments).where(payments.c.charge_id == charge_id))
        ).first()
        if row is None:
            return None
        return Payment(
            charge_id=row.charge_id,
            user_id=row.user_id,
            order_id=row.order_id,
            amount=row.amount,
            outcome=row.outcome,
            refunded_at=as_utc_or_none(row.refunded_at),
        )

    async def refunded_at(self, charge_id: str) -> datetime | None:
        row = (
            await self._c.execute(
                select(payments.c.refunded_at).where(payments.c.charge_id == charge_id)
            )
        ).first()
        return as_utc_or_none(row.refunded_at) if row else None

    async def mark_refunded(self, charge_id: str, now: datetime) -> bool:
        result = await self._c.execute(
            update(payments)
            .where(and_(payments.c.charge_id == charge_id, payments.c.refunded_at.is_(None)))
            .values(refunded_at=now)
        )
        return result.rowcount == 1
