"""The transparency log's storage: numbering entries, their leaf hashes, signed checkpoints, the
trace of a key, and giving keys imported before trace codes their provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from store.adapters.tables import (
    batches,
    card_key_events,
    card_keys,
    checkpoints,
    orders,
    products,
    suppliers,
)
from store.adapters.tables import tlog_checkpoints as _checkpoints
from store.domain.clock import as_utc
from store.domain.provenance import (
    LOG_NAME,
    AuditRow,
    KeyProvenance,
    KeyTrace,
    LoggedKey,
    StoredCheckpoint,
    TraceEvent,
    entry_leaf,
    log_entry,
)

SEQUENCE_CHUNK = 5_000


class SqlTransparencyLogRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def lock(self, now: datetime) -> None:
        """Hold the log's sequencer lock to the end of the transaction: on PostgreSQL its
        `checkpoints` row FOR UPDATE; on SQLite the write transaction is the lock already."""
        if self._dialect != "postgresql":
            return
        await self._c.execute(
            postgresql.insert(checkpoints)
            .values(name=LOG_NAME, value=0, updated_at=now)
            .on_conflict_do_nothing()
        )
        await self._c.execute(
            select(checkpoints.c.value).where(checkpoints.c.name == LOG_NAME).with_for_update()
        )

    async def size(self) -> int:
        """Entries numbered so far: the next index to give."""
        top = (await self._c.execute(select(func.max(card_key_events.c.seq)))).scalar_one()
        return 0 if top is None else int(top) + 1

    async def sequence(self, now: datetime) -> int:
        """Give every entry without an index the next ones, in event order; the log's new size.

        Call under `lock`: indices are contiguous and never given twice."""
        size = await self.size()
        numbering = (
            update(card_key_events)
            .where(card_key_events.c.id == bindparam("event_id"))
            .values(seq=bindparam("index"))
        )
        while True:
            ids = list(
                (
                    await self._c.execute(
                        select(card_key_events.c.id)
                        .where(
                            and_(
                                card_key_events.c.seq.is_(None),
                                card_key_events.c.entry.is_not(None),
                            )
                        )
                        .order_by(card_key_events.c.id)
                        .limit(SEQUENCE_CHUNK)
                    )
                ).scalars()
            )
            if not ids:
                return size
            await self._c.execute(
                numbering,
                [{"event_id": i, "index": size + n} for n, i in enumerate(ids)],
            )
            size += len(ids)

    async def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """The stored leaf hashes of indices [start, end), in order."""
        rows = await self._c.execute(
            select(card_key_events.c.leaf_hash)
            .where(and_(card_key_events.c.seq >= start, card_key_events.c.seq < end))
            .order_by(card_key_events.c.seq)
        )
        return [bytes.fromhex(h) for h in rows.scalars()]

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        stored = self._checkpoints().order_by(_checkpoints.c.size.desc()).limit(1)
        row = (await self._c.execute(stored)).first()
        return _checkpoint(row) if row else None

    async def checkpoints(self) -> list[StoredCheckpoint]:
        rows = await self._c.execute(self._checkpoints().order_by(_checkpoints.c.size))
        return [_checkpoint(r) for r in rows]

    def _checkpoints(self) -> Select[tuple[int, str, str, datetime]]:
        return select(
            _checkpoints.c.size,
            _checkpoints.c.root_hash,
            _checkpoints.c.note,
            _checkpoints.c.signed_at,
        )

    async def add_checkpoint(self, size: int, root_hash: str, note: str, now: datetime) -> None:
        await self._c.execute(
            insert(_checkpoints).values(size=size, root_hash=root_hash, note=note, signed_at=now)
        )

    async def audit_rows(self, start: int, end: int) -> list[AuditRow]:
        """The rows of indices [start, end) with their keys' columns, in index order."""
        return await self._audit_rows(
            and_(card_key_events.c.seq >= start, card_key_events.c.seq < end),
            card_key_events.c.seq,
        )

    async def pending_rows(self) -> list[AuditRow]:
        """Entries written but not yet given an index, in event order."""
        return await self._audit_rows(
            and_(card_key_events.c.seq.is_(None), card_key_events.c.entry.is_not(None)),
            card_key_events.c.id,
        )

    async def _audit_rows(
        self, where: ColumnElement[bool], order: ColumnElement[Any]
    ) -> list[AuditRow]:
        rows = await self._c.execute(
            select(
                card_key_events.c.seq,
                card_key_events.c.id,
                card_key_events.c.card_key_id,
                card_key_events.c.event,
                card_key_events.c.at,
                card_key_events.c.entry,
                card_key_events.c.leaf_hash,
                card_keys.c.trace_code,
                card_keys.c.key_commitment,
                card_keys.c.log_head,
            )
            .select_from(
                card_key_events.outerjoin(
                    card_keys, card_keys.c.id == card_key_events.c.card_key_id
                )
            )
            .where(where)
            .order_by(order)
        )
        return [
            AuditRow(
                -1 if r.seq is None else int(r.seq),
                r.id,
                r.card_key_id,
                r.event,
                as_utc(r.at),
                r.entry,
                r.leaf_hash,
                r.trace_code,
                r.key_commitment,
                r.log_head,
            )
            for r in rows
        ]

    async def unlogged_count(self) -> int:
        """Events of keys still without provenance: `backfill_provenance` has them to write."""
        return (
            await self._c.execute(select(func.count()).where(card_key_events.c.entry.is_(None)))
        ).scalar_one()

    async def head_entry(self, trace_code: str) -> tuple[int, str, str] | None:
        """(event id, entry, key salt) of the key's latest entry, or None."""
        row = (
            await self._c.execute(
                select(card_key_events.c.id, card_key_events.c.entry, card_keys.c.trace_salt)
                .select_from(
                    card_keys.join(
                        card_key_events,
                        card_key_events.c.leaf_hash == card_keys.c.log_head,
                    )
                )
                .where(
                    and_(
                        card_keys.c.trace_code == trace_code,
                        card_key_events.c.card_key_id == card_keys.c.id,
                    )
                )
            )
        ).first()
        return (row.id, row.entry, row.trace_salt) if row else None

    async def index_of(self, event_id: int) -> int | None:
        seq = (
            await self._c.execute(
                select(card_key_events.c.seq).where(card_key_events.c.id == event_id)
            )
        ).scalar_one_or_none()
        return None if seq is None else int(seq)

    async def trace(self, trace_code: str, viewer_id: int | None) -> KeyTrace | None:
        key = (
            await self._c.execute(
                select(
                    card_keys.c.id,
                    card_keys.c.sku,
                    card_keys.c.order_id,
                    card_keys.c.status,
                    products.c.name_zh,
                    products.c.name_zh_hant,
                    products.c.name_en,
                    suppliers.c.public_name,
                    batches.c.id.label("batch_id"),
                    batches.c.imported_at,
                    batches.c.proof_sha256,
                    batches.c.manifest_signed,
                )
                .select_from(
                    card_keys.join(batches, batches.c.id == card_keys.c.batch_id)
                    .join(products, products.c.sku == card_keys.c.sku)
                    .join(suppliers, suppliers.c.id == batches.c.supplier_id)
                )
                .where(card_keys.c.trace_code == trace_code)
            )
        ).first()
        if key is None:
            return None
        events = [
            TraceEvent(r.event, as_utc(r.at))
            for r in await self._c.execute(
                select(card_key_events.c.event, card_key_events.c.at)
                .where(card_key_events.c.card_key_id == key.id)
                .order_by(card_key_events.c.id)
            )
        ]
        own = None
        if viewer_id is not None and key.order_id is not None:
            own = (
                await self._c.execute(
                    select(orders.c.reference).where(
                        and_(orders.c.id == key.order_id, orders.c.user_id == viewer_id)
                    )
                )
            ).scalar_one_or_none()
        return KeyTrace(
            trace_code=trace_code,
            sku=key.sku,
            name_zh=key.name_zh,
            name_zh_hant=key.name_zh_hant,
            name_en=key.name_en,
            supplier_public_name=key.public_name,
            batch_id=key.batch_id,
            batch_imported_at=as_utc(key.imported_at),
            has_proof=key.proof_sha256 is not None,
            signed=bool(key.manifest_signed),
            events=events,
            sold_times=sum(1 for e in events if e.event == "sold"),
            own_order_reference=own,
        )

    async def keys_without_provenance(self, limit: int) -> list[tuple[int, str]]:
        """(key id, ciphertext) of keys imported before trace codes, oldest first."""
        rows = await self._c.execute(
            select(card_keys.c.id, card_keys.c.ciphertext)
            .where(card_keys.c.trace_code.is_(None))
            .order_by(card_keys.c.id)
            .limit(limit)
        )
        return [(r.id, r.ciphertext) for r in rows]

    async def give_provenance(self, key_id: int, provenance: KeyProvenance) -> int:
        """Give a key from before trace codes its code, salt and commitment, and write the
        entries of its events so far in event order (each at its own time); how many."""
        result = await self._c.execute(
            update(card_keys)
            .where(and_(card_keys.c.id == key_id, card_keys.c.trace_code.is_(None)))
            .values(
                trace_code=provenance.trace_code,
                trace_salt=provenance.trace_salt,
                key_commitment=provenance.key_commitment,
            )
            .returning(card_keys.c.log_head, card_keys.c.sku, card_keys.c.batch_id)
        )
        row = result.first()
        if row is None:  # given meanwhile
            return 0
        # Read after the UPDATE: on PostgreSQL it waited for any transaction still writing an
        # event of this key, so none is missed.
        events = await self._c.execute(
            select(
                card_key_events.c.id,
                card_key_events.c.event,
                card_key_events.c.order_id,
                card_key_events.c.at,
            )
            .where(and_(card_key_events.c.card_key_id == key_id, card_key_events.c.entry.is_(None)))
            .order_by(card_key_events.c.id)
        )
        head = row.log_head
        written = []
        for event in events:
            key = LoggedKey(
                key_id,
                provenance.trace_code,
                provenance.trace_salt,
                provenance.key_commitment,
                head,
                row.sku,
                row.batch_id,
            )
            entry = log_entry(key, event.event, event.order_id, as_utc(event.at))
            head = entry_leaf(entry)
            written.append({"event_id": event.id, "entry": entry, "leaf": head})
        if written:
            await self._c.execute(
                update(card_key_events)
                .where(card_key_events.c.id == bindparam("event_id"))
                .values(entry=bindparam("entry"), leaf_hash=bindparam("leaf")),
                written,
            )
            await self._c.execute(
                update(card_keys).where(card_keys.c.id == key_id).values(log_head=head)
            )
        return len(written)


def _checkpoint(row: Row[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(int(row.size), row.root_hash, row.note, as_utc(row.signed_at))
