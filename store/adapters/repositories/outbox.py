"""The outbox: messages decided inside a transaction and sent after it, at least once."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import outbox
from store.domain.errors import BadPayload
from store.domain.outbox import OutboxItem, OutboxPayload, parse_payload, payload_body

log = logging.getLogger(__name__)
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class SqlOutboxRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def add(
        self, payload: OutboxPayload, chat_id: int, dedupe_key: str, now: datetime
    ) -> bool:
        result = await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                outbox,
                kind=payload.kind.value,
                chat_id=chat_id,
                order_id=getattr(payload, "order_id", None),  # to find an order's messages
                body=payload_body(payload),
                dedupe_key=dedupe_key[:128],
                status=PENDING,
                attempts=0,
                created_at=now,
            )
        )
        return result.rowcount == 1

    async def claim(self, now: datetime, stale_before: datetime, limit: int) -> list[OutboxItem]:
        """Take pending items (and ones a crashed sender left claimed) for sending."""
        ready = or_(
            outbox.c.status == PENDING,
            and_(outbox.c.status == SENDING, outbox.c.claimed_at < stale_before),
        )
        candidates = select(outbox.c.id).where(ready).order_by(outbox.c.id).limit(limit)
        claim = update(outbox).values(
            status=SENDING, claimed_at=now, attempts=outbox.c.attempts + 1
        )
        if self._dialect == "postgresql":  # materialised: see SqlCardKeyRepository.claim
            picked = (
                candidates.with_for_update(skip_locked=True)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            claim = claim.where(outbox.c.id == picked.c.id)
        else:
            claim = claim.where(outbox.c.id.in_(candidates.scalar_subquery()))
        rows = await self._c.execute(
            claim.where(ready).returning(
                outbox.c.id, outbox.c.kind, outbox.c.chat_id, outbox.c.body, outbox.c.attempts
            )
        )
        items: list[OutboxItem] = []
        unreadable: list[int] = []
        for r in rows.all():
            try:
                items.append(OutboxItem(r.id, r.chat_id, parse_payload(r.kind, r.body), r.attempts))
            except BadPayload as error:
                log.warning("outbox item %s refused, never sent: %s", r.id, error)
                unreadable.append(r.id)
        if unreadable:  # sending something we cannot read could only be wrong
            await self._c.execute(
                update(outbox).where(outbox.c.id.in_(unreadable)).values(status=FAILED)
            )
        return sorted(items, key=lambda item: item.id)

    async def finish(self, item_id: int, now: datetime, *, failed: bool = False) -> None:
        await self._c.execute(
            update(outbox)
            .where(and_(outbox.c.id == item_id, outbox.c.status == SENDING))
            .values(status=FAILED if failed else SENT, sent_at=now)
        )

    async def retry_later(self, item_id: int) -> None:
        await self._c.execute(
            update(outbox)
            .where(and_(outbox.c.id == item_id, outbox.c.status == SENDING))
            .values(status=PENDING)
        )
