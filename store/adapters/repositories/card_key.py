"""Card keys: import, race-free claiming, release, sale, and their history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, case, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from store.adapters.tables import batches, card_key_events, card_keys, products
from store.domain.batch_manifest import NO_PROVENANCE, BatchProvenance
from store.domain.clock import as_utc_or_none
from store.domain.model import BatchStatus, KeyStatus, StockLevel
from store.domain.supplier import HOUSE_SUPPLIER

_CHUNK = 500


def _staged(batch_id: int, sku: str, limit: int) -> Select[tuple[int]]:
    """Up to `limit` staged keys of a batch, through the (sku, status, id) index."""
    return (
        select(card_keys.c.id)
        .where(
            and_(
                card_keys.c.sku == sku,
                card_keys.c.status == KeyStatus.STAGED,
                card_keys.c.batch_id == batch_id,
            )
        )
        .order_by(card_keys.c.id)
        .limit(limit)
    )


class SqlCardKeyRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def known_fingerprints(self, fingerprints: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(fingerprints), _CHUNK):
            chunk = fingerprints[start : start + _CHUNK]
            rows = await self._c.execute(
                select(card_keys.c.fingerprint).where(card_keys.c.fingerprint.in_(chunk))
            )
            found.update(rows.scalars())
        return found

    async def start_batch(
        self,
        sku: str,
        source: str,
        key_count: int,
        imported_by: int | None,
        now: datetime,
        supplier_id: str = HOUSE_SUPPLIER,
        provenance: BatchProvenance = NO_PROVENANCE,
    ) -> int:
        """A new batch, `staging`: its keys are written but not yet for sale."""
        batch_id = (
            await self._c.execute(
                insert(batches)
                .values(
                    sku=sku,
                    source=source[:255],
                    key_count=key_count,
                    imported_by=imported_by,
                    imported_at=now,
                    status=BatchStatus.STAGING.value,
                    updated_at=now,
                    supplier_id=supplier_id,
                    cost_minor=provenance.cost_minor,
                    proof_sha256=provenance.proof_sha256,
                    manifest_sha256=provenance.manifest_sha256,
                    manifest_signed=provenance.signed,
                )
                .returning(batches.c.id)
            )
        ).scalar_one()
        return int(batch_id)

    async def stage(
        self, batch_id: int, sku: str, keys: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Write (ciphertext, fingerprint) pairs into a staging batch; none is sellable yet."""
        rows = [
            {
                "sku": sku,
                "batch_id": batch_id,
                "ciphertext": ciphertext,
                "fingerprint": fingerprint,
                "status": KeyStatus.STAGED.value,
                "created_at": now,
            }
            for ciphertext, fingerprint in keys
        ]
        if rows:
            await self._c.execute(insert(card_keys), rows)
        await self._c.execute(
            update(batches).where(batches.c.id == batch_id).values(updated_at=now)
        )

    async def set_batch_status(self, batch_id: int, status: BatchStatus, now: datetime) -> None:
        await self._c.execute(
            update(batches).where(batches.c.id == batch_id).values(status=status, updated_at=now)
        )

    async def publish(self, batch_id: int, sku: str, limit: int, now: datetime) -> int:
        """Put up to `limit` of a batch's staged keys on sale, with their history; how many.

        Set-based (the history rows are written by INSERT … SELECT, then the same keys are
        updated), and found through the (sku, status, id) index: staged keys are few.
        """
        staged = _staged(batch_id, sku, limit)
        chunk = staged.subquery()
        await self._c.execute(
            insert(card_key_events).from_select(
                ["card_key_id", "event", "at"],
                select(chunk.c.id, literal("imported"), literal(now, card_key_events.c.at.type)),
            )
        )
        result = await self._c.execute(
            update(card_keys)
            .where(
                and_(
                    card_keys.c.id.in_(staged.scalar_subquery()),
                    card_keys.c.status == KeyStatus.STAGED,
                )
            )
            .values(status=KeyStatus.AVAILABLE.value)
        )
        return int(result.rowcount or 0)

    async def discard_staged(self, batch_id: int, sku: str, limit: int) -> int:
        """Delete up to `limit` staged keys of an abandoned batch; how many."""
        staged = _staged(batch_id, sku, limit)
        result = await self._c.execute(
            delete(card_keys).where(card_keys.c.id.in_(staged.scalar_subquery()))
        )
        return int(result.rowcount or 0)

    async def batches_in(self, status: BatchStatus) -> list[tuple[int, str, datetime | None]]:
        """(batch id, sku, last progress) of every batch in this status."""
        rows = await self._c.execute(
            select(batches.c.id, batches.c.sku, batches.c.updated_at)
            .where(batches.c.status == status)
            .order_by(batches.c.id)
        )
        return [(r.id, r.sku, as_utc_or_none(r.updated_at)) for r in rows]

    async def claim(self, sku: str, order_id: int, quantity: int, now: datetime) -> list[int]:
        """Reserve up to `quantity` available keys for an order in one conditional statement.

        The inner SELECT picks candidates; the outer WHERE re-checks `status='available'`, so
        a key another transaction took in between is skipped rather than sold twice; the caller
        checks that exactly `quantity` came back. On PostgreSQL the candidates are locked with
        FOR UPDATE SKIP LOCKED so racing buyers take different keys; on SQLite the write
        transaction began with BEGIN IMMEDIATE, so no other writer runs in between.
        """
        candidates = (
            select(card_keys.c.id)
            .where(and_(card_keys.c.sku == sku, card_keys.c.status == KeyStatus.AVAILABLE))
            .order_by(card_keys.c.id)
            .limit(quantity)
        )
        claim = update(card_keys).values(status=KeyStatus.RESERVED.value, order_id=order_id)
        if self._dialect == "postgresql":
            # A materialised CTE runs once. As an IN-subquery PostgreSQL may rescan it per row,
            # and SKIP LOCKED then skips the rows this very statement just updated, claiming
            # more than `quantity` keys.
            picked = (
                candidates.with_for_update(skip_locked=True)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            claim = claim.where(card_keys.c.id == picked.c.id)
        else:
            claim = claim.where(card_keys.c.id.in_(candidates.scalar_subquery()))
        result = await self._c.execute(
            claim.where(card_keys.c.status == KeyStatus.AVAILABLE).returning(card_keys.c.id)
        )
        ids = list(result.scalars())
        await self._record(ids, "reserved", order_id, now)
        return ids

    async def release(self, order_id: int, now: datetime) -> int:
        result = await self._c.execute(
            update(card_keys)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.RESERVED))
            .values(status=KeyStatus.AVAILABLE.value, order_id=None)
            .returning(card_keys.c.id)
        )
        ids = list(result.scalars())
        await self._record(ids, "released", order_id, now)
        return len(ids)

    async def held_for(self, order_id: int) -> int:
        return (
            await self._c.execute(
                select(func.count()).where(
                    and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.RESERVED)
                )
            )
        ).scalar_one()

    async def sell(self, order_id: int, now: datetime) -> int:
        result = await self._c.execute(
            update(card_keys)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.RESERVED))
            .values(status=KeyStatus.SOLD.value, sold_at=now)
            .returning(card_keys.c.id)
        )
        ids = list(result.scalars())
        await self._record(ids, "sold", order_id, now)
        return len(ids)

    async def sold_ciphertexts(self, order_id: int) -> list[str]:
        rows = await self._c.execute(
            select(card_keys.c.ciphertext)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD))
            .order_by(card_keys.c.id)
        )
        return list(rows.scalars())

    async def sold_keys(self, order_id: int) -> list[tuple[int, str]]:
        """(key id, ciphertext) of the keys an order holds, in the order they were sold."""
        rows = await self._c.execute(
            select(card_keys.c.id, card_keys.c.ciphertext)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD))
            .order_by(card_keys.c.id)
        )
        return [(r.id, r.ciphertext) for r in rows]

    async def return_to_stock(self, order_id: int, now: datetime) -> int:
        """A refunded order's unrevealed keys go back on sale, their history saying why."""
        result = await self._c.execute(
            update(card_keys)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD))
            .values(status=KeyStatus.AVAILABLE.value, order_id=None, sold_at=None)
            .returning(card_keys.c.id)
        )
        ids = list(result.scalars())
        await self._record(ids, "refunded", order_id, now)
        return len(ids)

    async def mark_bad(self, key_id: int, order_id: int, now: datetime) -> bool:
        """A sold key confirmed (or replaced) as not working: kept with its order, never resold."""
        result = await self._c.execute(
            update(card_keys)
            .where(
                and_(
                    card_keys.c.id == key_id,
                    card_keys.c.order_id == order_id,
                    card_keys.c.status == KeyStatus.SOLD,
                )
            )
            .values(status=KeyStatus.BAD.value)
        )
        if result.rowcount == 1:
            await self._record([key_id], "bad", order_id, now)
        return result.rowcount == 1

    async def record_reveal(self, order_id: int, now: datetime) -> None:
        ids = (
            await self._c.execute(
                select(card_keys.c.id).where(
                    and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD)
                )
            )
        ).scalars()
        await self._record(list(ids), "revealed", order_id, now)

    async def count_available(self, sku: str, *, up_to: int | None = None) -> int:
        """Available keys of a product; with `up_to`, counting stops there (cheap on big stock)."""
        keys = select(card_keys.c.id).where(
            and_(card_keys.c.sku == sku, card_keys.c.status == KeyStatus.AVAILABLE)
        )
        if up_to is not None:
            keys = keys.limit(up_to)
        counted = select(func.count()).select_from(keys.subquery())
        return (await self._c.execute(counted)).scalar_one()

    async def stock_levels(self) -> list[StockLevel]:
        def counted(status: KeyStatus) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((card_keys.c.status == status, 1), else_=0)), 0)

        refunded_once = (
            select(card_key_events.c.id)
            .where(
                and_(
                    card_key_events.c.card_key_id == card_keys.c.id,
                    card_key_events.c.event == "refunded",
                )
            )
            .exists()
        )
        returned = func.coalesce(
            func.sum(
                case((and_(card_keys.c.status == KeyStatus.AVAILABLE, refunded_once), 1), else_=0)
            ),
            0,
        )
        rows = await self._c.execute(
            select(
                products.c.sku,
                products.c.name_en,
                products.c.low_stock_threshold,
                counted(KeyStatus.AVAILABLE).label("available"),
                counted(KeyStatus.RESERVED).label("reserved"),
                counted(KeyStatus.SOLD).label("sold"),
                counted(KeyStatus.BAD).label("bad"),
                returned.label("returned"),
            )
            .select_from(products.outerjoin(card_keys, card_keys.c.sku == products.c.sku))
            .group_by(products.c.sku, products.c.name_en, products.c.low_stock_threshold)
            .order_by(products.c.sku)
        )
        return [
            StockLevel(
                r.sku,
                r.name_en,
                int(r.available),
                int(r.reserved),
                int(r.sold),
                r.low_stock_threshold,
                bad=int(r.bad),
                returned=int(r.returned),
            )
            for r in rows
        ]

    async def history(self, card_key_id: int) -> list[tuple[str, int | None, datetime]]:
        rows = await self._c.execute(
            select(card_key_events.c.event, card_key_events.c.order_id, card_key_events.c.at)
            .where(card_key_events.c.card_key_id == card_key_id)
            .order_by(card_key_events.c.id)
        )
        return [(r.event, r.order_id, r.at) for r in rows]

    async def _record(
        self, ids: Iterable[int], event: str, order_id: int | None, now: datetime
    ) -> None:
        rows = [{"card_key_id": i, "event": event, "order_id": order_id, "at": now} for i in ids]
        if rows:
            await self._c.execute(insert(card_key_events), rows)
