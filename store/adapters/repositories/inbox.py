"""The inbox: every Telegram update, recorded before getUpdates confirms it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import inbox
from store.domain.model import StoredUpdate

PENDING, DONE, FAILED = "pending", "done", "failed"


class SqlInboxRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def record(self, update_id: int, kind: str, payload: str, now: datetime) -> bool:
        """Store an update; false when it is already here (Telegram sent it again)."""
        result = await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                inbox,
                update_id=update_id,
                kind=kind[:24],
                payload=payload,
                status=PENDING,
                attempts=0,
                received_at=now,
            )
        )
        return result.rowcount == 1

    async def pending(self, limit: int, after: int = -1) -> list[StoredUpdate]:
        rows = await self._c.execute(
            select(inbox.c.update_id, inbox.c.kind, inbox.c.payload, inbox.c.attempts)
            .where(and_(inbox.c.status == PENDING, inbox.c.update_id > after))
            .order_by(inbox.c.update_id)
            .limit(limit)
        )
        return [StoredUpdate(r.update_id, r.kind, r.payload, r.attempts) for r in rows]

    async def get(self, update_ids: Sequence[int]) -> list[StoredUpdate]:
        rows = await self._c.execute(
            select(inbox.c.update_id, inbox.c.kind, inbox.c.payload, inbox.c.attempts)
            .where(and_(inbox.c.update_id.in_(list(update_ids)), inbox.c.status == PENDING))
            .order_by(inbox.c.update_id)
        )
        return [StoredUpdate(r.update_id, r.kind, r.payload, r.attempts) for r in rows]

    async def attempted(self, update_id: int) -> None:
        await self._c.execute(
            update(inbox)
            .where(inbox.c.update_id == update_id)
            .values(attempts=inbox.c.attempts + 1)
        )

    async def finish(self, update_id: int, now: datetime, *, failed: bool = False) -> None:
        """Handled (or given up on): the payload, which may hold what a user typed, is dropped."""
        await self._c.execute(
            update(inbox)
            .where(and_(inbox.c.update_id == update_id, inbox.c.status == PENDING))
            .values(status=FAILED if failed else DONE, handled_at=now, payload="")
        )

    async def forget_handled(self, before: datetime) -> int:
        result = await self._c.execute(
            delete(inbox).where(and_(inbox.c.status != PENDING, inbox.c.handled_at < before))
        )
        return int(result.rowcount or 0)
