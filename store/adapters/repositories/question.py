"""Questions the FAQ matcher saw, and what buyers said of its answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import questions


class SqlQuestionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(
        self,
        user_id: int,
        language: str,
        action: str,
        entry_id: str | None,
        score: int,
        now: datetime,
        text: str = "",
    ) -> int:
        """`text` comes sealed, cut by the service to fit the column (a cut token is lost)."""
        result = await self._c.execute(
            insert(questions)
            .values(
                user_id=user_id,
                language=language,
                action=action,
                entry_id=entry_id,
                score=score,
                text=text,
                asked_at=now,
            )
            .returning(questions.c.id)
        )
        return int(result.scalar_one())

    async def get_text(self, question_id: int, user_id: int) -> str | None:
        row = (
            await self._c.execute(
                select(questions.c.text).where(
                    and_(questions.c.id == question_id, questions.c.user_id == user_id)
                )
            )
        ).first()
        return str(row.text) if row else None

    async def choose(self, question_id: int, user_id: int, entry_id: str) -> bool:
        """A "did you mean" choice settles the same question; it is not a new one."""
        result = await self._c.execute(
            update(questions)
            .where(and_(questions.c.id == question_id, questions.c.user_id == user_id))
            .values(action="answer", entry_id=entry_id)
        )
        return result.rowcount == 1

    async def set_helpful(self, question_id: int, user_id: int, helpful: bool) -> bool:
        result = await self._c.execute(
            update(questions)
            .where(and_(questions.c.id == question_id, questions.c.user_id == user_id))
            .values(helpful=helpful)
        )
        return result.rowcount == 1

    async def counts_since(self, since: datetime) -> dict[str, int]:
        rows = await self._c.execute(
            select(questions.c.action, func.count())
            .where(questions.c.asked_at >= since)
            .group_by(questions.c.action)
        )
        return {action: int(n) for action, n in rows}

    async def feedback_by_entry(self) -> list[tuple[str, int, int]]:
        """(entry, helpful, not helpful) for every answered entry that got feedback."""
        helpful = func.sum(func.cast(questions.c.helpful.is_(True), type_=questions.c.score.type))
        unhelpful = func.sum(
            func.cast(questions.c.helpful.is_(False), type_=questions.c.score.type)
        )
        rows = await self._c.execute(
            select(questions.c.entry_id, helpful, unhelpful)
            .where(and_(questions.c.entry_id.is_not(None), questions.c.helpful.is_not(None)))
            .group_by(questions.c.entry_id)
        )
        return [(entry, int(yes or 0), int(no or 0)) for entry, yes, no in rows]
