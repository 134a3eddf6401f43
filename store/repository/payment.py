"""Payments, recorded under their unique Telegram charge id before anything acts on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.repository.upsert import insert_ignoring_conflict
from store.tables import payments


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
            )
        )
        return result.rowcount == 1

    async def charge_for_order(self, order_id: int) -> str | None:
        row = (
            await self._c.execute(
                select(payments.c.charge_id).where(
                    and_(payments.c.order_id == order_id, payments.c.purpose == "order")
                )
            )
        ).first()
        return row.charge_id if row else None

    async def mark_refunded(self, charge_id: str, now: datetime) -> bool:
        result = await self._c.execute(
            update(payments)
            .where(and_(payments.c.charge_id == charge_id, payments.c.refunded_at.is_(None)))
            .values(refunded_at=now)
        )
        return result.rowcount == 1
