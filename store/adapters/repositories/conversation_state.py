"""Where a user is in a multi-step flow (e.g. reporting a bad key), kept across restarts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import upsert
from store.adapters.tables import conversation_states


class SqlConversationStateRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None:
        row = (
            await self._c.execute(
                select(conversation_states).where(conversation_states.c.user_id == user_id)
            )
        ).first()
        return (row.state, json.loads(row.data)) if row else None

    async def put(self, user_id: int, state: str, data: dict[str, Any], now: datetime) -> None:
        values = {"user_id": user_id, "state": state, "data": json.dumps(data), "updated_at": now}
        await self._c.execute(upsert(self._dialect, conversation_states, ["user_id"], values))

    async def clear(self, user_id: int) -> None:
        await self._c.execute(
            delete(conversation_states).where(conversation_states.c.user_id == user_id)
        )
