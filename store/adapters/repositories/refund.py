"""Stars refunds as a small state machine, keyed by the charge they give back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import refunds
from store.domain.clock import as_utc
from store.domain.model import OrderStatus, Refund, RefundReason, RefundStatus


def _refund(row: Any) -> Refund:
    return Refund(
        id=row.id,
        charge_id=row.charge_id,
        user_id=row.user_id,
        order_id=row.order_id,
        case_id=row.case_id,
        reason=RefundReason(row.reason),
        amount=row.amount,
        status=RefundStatus(row.status),
        order_status_before=OrderStatus(row.order_status_before)
        if row.order_status_before
        else None,
        attempts=row.attempts,
        requested_at=as_utc(row.requested_at),
    )


class SqlRefundRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def request(
        self,
        *,
        charge_id: str,
        user_id: int,
        amount: int,
        reason: RefundReason,
        now: datetime,
        order_id: int | None = None,
        case_id: int | None = None,
        order_status_before: OrderStatus | None = None,
    ) -> bool:
        """Record a refund to make; false when this charge already has one (asked twice)."""
        result = await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                refunds,
                charge_id=charge_id,
                user_id=user_id,
                order_id=order_id,
                case_id=case_id,
                reason=reason.value,
                amount=amount,
                status=RefundStatus.PENDING.value,
                order_status_before=order_status_before.value if order_status_before else None,
                attempts=0,
                requested_at=now,
            )
        )
        return result.rowcount == 1

    async def renew(
        self,
        charge_id: str,
        reason: RefundReason,
        case_id: int | None,
        order_status_before: OrderStatus,
        now: datetime,
    ) -> bool:
        """Ask again for a refund Telegram refused before; false unless it had `failed`."""
        result = await self._c.execute(
            update(refunds)
            .where(and_(refunds.c.charge_id == charge_id, refunds.c.status == RefundStatus.FAILED))
            .values(
                status=RefundStatus.PENDING.value,
                reason=reason.value,
                case_id=case_id,
                order_status_before=order_status_before.value,
                requested_at=now,
                claimed_at=None,
                finished_at=None,
            )
        )
        return result.rowcount == 1

    async def get(self, charge_id: str) -> Refund | None:
        found = await self._c.execute(select(refunds).where(refunds.c.charge_id == charge_id))
        row = found.first()
        return _refund(row) if row else None

    async def claim(self, charge_id: str, now: datetime, stale_before: datetime) -> Refund | None:
        """Take a pending refund to carry out; None if it is finished or another has it."""
        row = (
            await self._c.execute(
                update(refunds)
                .where(
                    and_(
                        refunds.c.charge_id == charge_id,
                        refunds.c.status == RefundStatus.PENDING,
                        or_(refunds.c.claimed_at.is_(None), refunds.c.claimed_at < stale_before),
                    )
                )
                .values(claimed_at=now, attempts=refunds.c.attempts + 1)
                .returning(*refunds.c)
            )
        ).first()
        return _refund(row) if row else None

    async def release(self, charge_id: str, error: str) -> None:
        """Telegram could not be reached: leave it pending for the job, noting why."""
        await self._c.execute(
            update(refunds)
            .where(and_(refunds.c.charge_id == charge_id, refunds.c.status == RefundStatus.PENDING))
            .values(claimed_at=None, last_error=error[:200])
        )

    async def finish(
        self, charge_id: str, status: RefundStatus, now: datetime, error: str | None = None
    ) -> bool:
        """Settle a pending refund once; false when it was already settled."""
        result = await self._c.execute(
            update(refunds)
            .where(and_(refunds.c.charge_id == charge_id, refunds.c.status == RefundStatus.PENDING))
            .values(status=status.value, finished_at=now, last_error=error[:200] if error else None)
        )
        return result.rowcount == 1

    async def pending(self, stale_before: datetime, limit: int) -> list[Refund]:
        """Pending refunds nobody is working on (never claimed, or claimed by a dead run)."""
        rows = await self._c.execute(
            select(refunds)
            .where(
                and_(
                    refunds.c.status == RefundStatus.PENDING,
                    or_(refunds.c.claimed_at.is_(None), refunds.c.claimed_at < stale_before),
                )
            )
            .order_by(refunds.c.id)
            .limit(limit)
        )
        return [_refund(r) for r in rows]

    async def for_order(self, order_id: int) -> list[Refund]:
        rows = await self._c.execute(
            select(refunds).where(refunds.c.order_id == order_id).order_by(refunds.c.id)
        )
        return [_refund(r) for r in rows]
