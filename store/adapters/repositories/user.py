"""Buyers, admins and agents as Telegram users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import users
from store.domain.model import Language, User


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def ensure(
        self, user_id: int, first_name: str, now: datetime, language: Language | None = None
    ) -> None:
        """Create the user on first contact; never overwrites what is already known."""
        await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                users,
                id=user_id,
                first_name=first_name[:128],
                language=language.value if language else None,
                created_at=now,
            )
        )

    async def get(self, user_id: int) -> User | None:
        row = (await self._c.execute(select(users).where(users.c.id == user_id))).first()
        if row is None:
            return None
        language = Language(row.language) if row.language else None
        return User(id=row.id, first_name=row.first_name, language=language)

    async def set_language(self, user_id: int, language: Language) -> None:
        await self._c.execute(
            update(users).where(users.c.id == user_id).values(language=language.value)
        )

    async def lock(self, user_id: int) -> None:
        """Serialise balance changes for one user (PostgreSQL row lock; SQLite's write lock)."""
        await self._c.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
