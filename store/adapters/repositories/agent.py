"""Agents: who is on duty, with how much room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import agents, tickets
from store.domain.clock import as_utc_or_none
from store.domain.model import Agent, TicketStatus
from store.domain.support import default_alias

_open = (
    select(func.count())
    .where(and_(tickets.c.agent_id == agents.c.user_id, tickets.c.status == TicketStatus.ASSIGNED))
    .correlate(agents)
    .scalar_subquery()
)


_last = (
    select(func.max(tickets.c.assigned_at))
    .where(tickets.c.agent_id == agents.c.user_id)
    .correlate(agents)
    .scalar_subquery()
)


def _agent(row: Any) -> Agent:
    last = as_utc_or_none(row.last)
    return Agent(
        row.user_id,
        row.display_name,
        row.on_duty,
        row.capacity,
        row.active_ticket_id,
        row.n,
        last,
        row.alias,
    )


class SqlAgentRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def ensure(self, user_id: int, display_name: str, capacity: int, now: datetime) -> None:
        """A new agent is numbered after those before them ("07"): their alias until they
        choose one (two agents met at the same instant may share a number, never a name)."""
        known = (await self._c.execute(select(func.count()).select_from(agents))).scalar_one()
        await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                agents,
                user_id=user_id,
                alias=default_alias(known + 1),
                display_name=display_name[:64] or f"#{user_id}",
                on_duty=False,
                capacity=capacity,
                duty_changed_at=now,
            )
        )

    async def get(self, user_id: int) -> Agent | None:
        row = (
            await self._c.execute(
                select(agents, _open.label("n"), _last.label("last")).where(
                    agents.c.user_id == user_id
                )
            )
        ).first()
        return _agent(row) if row else None

    async def on_duty(self) -> list[Agent]:
        rows = await self._c.execute(
            select(agents, _open.label("n"), _last.label("last"))
            .where(agents.c.on_duty.is_(True))
            .order_by(agents.c.user_id)
        )
        return [_agent(r) for r in rows]

    async def lock_all(self) -> None:
        """Serialise assignment (PostgreSQL row locks; SQLite's single writer already does)."""
        await self._c.execute(select(agents.c.user_id).with_for_update())

    async def set_duty(self, user_id: int, on: bool, now: datetime) -> None:
        await self._c.execute(
            update(agents)
            .where(agents.c.user_id == user_id)
            .values(on_duty=on, duty_changed_at=now)
        )

    async def set_alias(self, user_id: int, alias: str) -> bool:
        result = await self._c.execute(
            update(agents).where(agents.c.user_id == user_id).values(alias=alias)
        )
        return result.rowcount == 1

    async def set_active(self, user_id: int, ticket_id: int | None) -> None:
        await self._c.execute(
            update(agents).where(agents.c.user_id == user_id).values(active_ticket_id=ticket_id)
        )
