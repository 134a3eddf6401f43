"""Where a user is in a multi-step flow (e.g. reporting a bad key), kept across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import upsert
from store.adapters.tables import conversation_states
from store.domain.flow import FlowState, flow_record, parse_flow


class SqlConversationStateRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def get(self, user_id: int) -> FlowState | None:
        """The user's step, if any; one that does not parse raises `BadPayload`."""
        row = (
            await self._c.execute(
                select(conversation_states).where(conversation_states.c.user_id == user_id)
            )
        ).first()
        return parse_flow(row.state, row.data) if row else None

    async def put(self, user_id: int, flow: FlowState, now: datetime) -> None:
        state, data = flow_record(flow)
        values = {"user_id": user_id, "state": state, "data": data, "updated_at": now}
        await self._c.execute(upsert(self._dialect, conversation_states, ["user_id"], values))

    async def clear(self, user_id: int) -> None:
        await self._c.execute(
            delete(conversation_states).where(conversation_states.c.user_id == user_id)
        )
