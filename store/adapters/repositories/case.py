"""After-sales cases: bad-key reports and what was decided."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import cases, orders
from store.domain.clock import as_utc, as_utc_or_none
from store.domain.model import Case, CaseReason, CaseStatus


def _case(row: Any) -> Case:
    return Case(
        id=row.id,
        user_id=row.user_id,
        order_id=row.order_id,
        card_key_id=row.card_key_id,
        reason=CaseReason(row.reason),
        status=CaseStatus(row.status),
        screenshot=row.screenshot,
        decision_note=row.decision_note,
        replacement_key_id=row.replacement_key_id,
        created_at=as_utc(row.created_at),
        decided_at=as_utc_or_none(row.decided_at),
        order_reference=row.reference,
    )


# a case with its order's reference
_shown = select(cases, orders.c.reference).select_from(
    cases.join(orders, orders.c.id == cases.c.order_id)
)


class SqlCaseRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(
        self,
        *,
        user_id: int,
        order_id: int,
        card_key_id: int,
        reason: CaseReason,
        created_at: datetime,
        screenshot: str | None = None,
    ) -> int:
        """A new report on a key, open until decided."""
        result = await self._c.execute(
            insert(cases)
            .values(
                user_id=user_id,
                order_id=order_id,
                card_key_id=card_key_id,
                reason=reason.value,
                status=CaseStatus.OPEN.value,
                screenshot=screenshot,
                created_at=created_at,
            )
            .returning(cases.c.id)
        )
        return int(result.scalar_one())

    async def get(self, case_id: int) -> Case | None:
        row = (await self._c.execute(_shown.where(cases.c.id == case_id))).first()
        return _case(row) if row else None

    async def for_user(self, user_id: int, limit: int) -> list[Case]:
        rows = await self._c.execute(
            _shown.where(cases.c.user_id == user_id).order_by(cases.c.id.desc()).limit(limit)
        )
        return [_case(r) for r in rows]

    async def reports_on_key(self, card_key_id: int) -> int:
        return (
            await self._c.execute(select(func.count()).where(cases.c.card_key_id == card_key_id))
        ).scalar_one()

    async def replacements_since(self, user_id: int, since: datetime) -> int:
        return (
            await self._c.execute(
                select(func.count()).where(
                    and_(
                        cases.c.user_id == user_id,
                        cases.c.status == CaseStatus.REPLACED,
                        cases.c.decided_at >= since,
                    )
                )
            )
        ).scalar_one()

    async def keys_reported(self, order_id: int) -> set[int]:
        """Keys of this order that a buyer reported as not working (whatever was decided)."""
        rows = await self._c.execute(
            select(cases.c.card_key_id).where(cases.c.order_id == order_id)
        )
        return set(rows.scalars())

    async def settle_open_for_order(self, order_id: int, status: CaseStatus, now: datetime) -> int:
        """The order was refunded whole: its open cases are settled by that."""
        result = await self._c.execute(
            update(cases)
            .where(and_(cases.c.order_id == order_id, cases.c.status == CaseStatus.OPEN))
            .values(status=status.value, decided_at=now)
        )
        return int(result.rowcount or 0)

    async def reopen(self, case_id: int) -> None:
        """A refund decided on this case was refused by Telegram: it is open again."""
        await self._c.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(status=CaseStatus.OPEN.value, decided_at=None, decided_by=None)
        )

    async def decide(
        self,
        case_id: int,
        status: CaseStatus,
        now: datetime,
        *,
        decided_by: int | None = None,
        decision_note: str | None = None,
        replacement_key_id: int | None = None,
    ) -> bool:
        """Settle an open case once; false when it was already decided. `decision_note` comes
        sealed; `decided_by` None is the shop's own rule."""
        changes: dict[str, object] = {"status": status.value, "decided_at": now}
        if decided_by is not None:
            changes["decided_by"] = decided_by
        if decision_note is not None:
            changes["decision_note"] = decision_note
        if replacement_key_id is not None:
            changes["replacement_key_id"] = replacement_key_id
        result = await self._c.execute(
            update(cases)
            .where(and_(cases.c.id == case_id, cases.c.status == CaseStatus.OPEN))
            .values(changes)
        )
        return result.rowcount == 1
