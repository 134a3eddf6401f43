"""Named positions that survive restarts (how far reconciliation has read, for one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import upsert
from store.adapters.tables import checkpoints


class SqlCheckpointRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def get(self, name: str) -> int:
        row = (
            await self._c.execute(select(checkpoints.c.value).where(checkpoints.c.name == name))
        ).first()
        return int(row.value) if row else 0

    async def set(self, name: str, value: int, now: datetime) -> None:
        await self._c.execute(
            upsert(
                self._dialect,
                checkpoints,
                ["name"],
                {"name": name, "value": value, "updated_at": now},
            )
        )
