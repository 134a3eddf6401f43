"""The inbox: Telegram updates recorded before they are confirmed, and marked once handled."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.services.ports import KeyCipher, NewUnitOfWork

KEEP_HANDLED = timedelta(days=2)
"""Handled updates are forgotten after this (their payloads are dropped at once)."""


@dataclass(frozen=True)
class InboxUpdate:
    update_id: int
    update: dict[str, Any]
    attempts: int


def update_kind(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "unknown")


async def record_updates(
    new_uow: NewUnitOfWork,
    *,
    updates: Sequence[Mapping[str, Any]],
    cipher: KeyCipher,
    now: datetime,
) -> list[InboxUpdate]:
    """Durably record a batch of updates (sealed: they hold what users typed); returns those
    not seen before, in order. Only after this may they be confirmed to Telegram."""
    fresh: list[InboxUpdate] = []
    async with new_uow() as uow:
        for update in updates:
            update_id = int(update["update_id"])
            sealed = cipher.seal(json.dumps(update, ensure_ascii=False, separators=(",", ":")))
            if await uow.inbox.record(update_id, update_kind(update), sealed, now):
                fresh.append(InboxUpdate(update_id, dict(update), 0))
        await uow.commit()
    return fresh


async def unhandled_updates(
    new_uow: NewUnitOfWork, *, cipher: KeyCipher, after: int = -1, limit: int = 200
) -> list[InboxUpdate]:
    """Updates recorded but not yet handled (a crash came in between), oldest first."""
    async with new_uow().reading() as uow:
        stored = await uow.inbox.pending(limit, after)
    return [
        InboxUpdate(row.update_id, json.loads(cipher.open(row.payload)), row.attempts)
        for row in stored
    ]


async def finish_update(
    new_uow: NewUnitOfWork, *, update_id: int, now: datetime, failed: bool = False
) -> None:
    async with new_uow() as uow:
        await uow.inbox.finish(update_id, now, failed=failed)
        await uow.commit()


async def note_attempt(new_uow: NewUnitOfWork, *, update_id: int) -> None:
    async with new_uow() as uow:
        await uow.inbox.attempted(update_id)
        await uow.commit()


async def forget_handled_updates(new_uow: NewUnitOfWork, *, now: datetime) -> int:
    async with new_uow() as uow:
        forgotten = await uow.inbox.forget_handled(now - KEEP_HANDLED)
        await uow.commit()
    return forgotten
