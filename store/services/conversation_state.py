"""A user's place in a multi-step flow (the bad-key report), kept in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.adapters.unit_of_work import UnitOfWork


async def current_flow(uow: UnitOfWork, *, user_id: int) -> tuple[str, dict[str, Any]] | None:
    async with uow:
        return await uow.states.get(user_id)


async def enter_flow(
    uow: UnitOfWork, *, user_id: int, state: str, data: dict[str, Any], now: datetime
) -> None:
    async with uow:
        await uow.states.put(user_id, state, data, now)
        await uow.commit()


async def leave_flow(uow: UnitOfWork, *, user_id: int) -> None:
    async with uow:
        await uow.states.clear(user_id)
        await uow.commit()
