"""Card keys: import, race-free claiming, release, sale, and their history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from store.adapters.tables import batches, card_key_events, card_keys, orders, products
from store.domain.batch_manifest import NO_PROVENANCE, BatchProvenance
from store.domain.clock import as_utc_or_none
from store.domain.model import BatchStatus, KeyStatus, StockLevel
from store.domain.provenance import LoggedKey, StagedKey, entry_leaf, log_entry
from store.domain.supplier import HOUSE_SUPPLIER, SellOrder

_CHUNK = 500
_LOGGED = (
    card_keys.c.id,
    card_keys.c.trace_code,
    card_keys.c.trace_salt,
    card_keys.c.key_commitment,
    card_keys.c.log_head,
    card_keys.c.sku,
    card_keys.c.batch_id,
)
"""What a key's next log entry is made from: RETURNING it with the status change that makes the
event costs no extra statement."""


def _logged(result: Result[Any]) -> list[LoggedKey]:
    keys = (
        LoggedKey(r.id, r.trace_code, r.trace_salt, r.key_commitment, r.log_head, r.sku, r.batch_id)
        for r in result
    )
    return sorted(keys, key=lambda k: k.id)


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
    def __init__(
        self,
        connection: AsyncConnection,
        dialect: str,
        sell_order: SellOrder = SellOrder.OLDEST_BATCH,
    ) -> None:
        self._c = connection
        self._dialect = dialect
        self._sell_order = sell_order

    async def known_fingerprints(self, fingerprints: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(fingerprints), _CHUNK):
            chunk = fingerprints[start : start + _CHUNK]
            rows = await self._c.execute(
                select(card_keys.c.fingerprint).where(card_keys.c.fingerprint.in_(chunk))
            )
            found.update(rows.scalars())
        return found

    async def sold_fingerprints(self, fingerprints: Sequence[str]) -> set[str]:
        """Of these, the fingerprints of keys this shop ever sold: sold or found bad now, or
        sold once and back on sale (or frozen) after a refund."""
        ever_sold = (
            select(card_key_events.c.id)
            .where(
                and_(
                    card_key_events.c.card_key_id == card_keys.c.id,
                    card_key_events.c.event == "sold",
                )
            )
            .exists()
        )
        found: set[str] = set()
        for start in range(0, len(fingerprints), _CHUNK):
            chunk = fingerprints[start : start + _CHUNK]
            rows = await self._c.execute(
                select(card_keys.c.fingerprint).where(
                    and_(
                        card_keys.c.fingerprint.in_(chunk),
                        card_keys.c.status.in_([KeyStatus.SOLD, KeyStatus.BAD]) | ever_sold,
                    )
                )
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
        self, batch_id: int, sku: str, keys: Sequence[StagedKey], now: datetime
    ) -> None:
        """Write keys, with their trace codes and commitments, into a staging batch; none is
        sellable yet."""
        rows = [
            {
                "sku": sku,
                "batch_id": batch_id,
                "ciphertext": key.ciphertext,
                "fingerprint": key.fingerprint,
                "status": KeyStatus.STAGED.value,
                "created_at": now,
                "trace_code": key.provenance.trace_code,
                "trace_salt": key.provenance.trace_salt,
                "key_commitment": key.provenance.key_commitment,
            }
            for key in keys
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

        Found through the (sku, status, id) index (staged keys are few), and locked on
        PostgreSQL; their `imported` entries are written in one statement, and one executemany
        puts them on sale and sets their log heads.
        """
        staged = _staged(batch_id, sku, limit).with_only_columns(*_LOGGED)
        if self._dialect == "postgresql":
            staged = staged.with_for_update()
        keys = _logged(await self._c.execute(staged))
        await self._log(keys, "imported", None, now, going_on_sale=True)
        return len(keys)

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
        candidates = self._candidates(sku, quantity)
        claim = update(card_keys).values(status=KeyStatus.RESERVED.value, order_id=order_id)
        if self._dialect == "postgresql":
            # A materialised CTE runs once. As an IN-subquery PostgreSQL may rescan it per row,
            # and SKIP LOCKED then skips the rows this very statement just updated, claiming
            # more than `quantity` keys.
            picked = (
                candidates.with_for_update(skip_locked=True, of=card_keys)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            claim = claim.where(card_keys.c.id == picked.c.id)
        else:
            claim = claim.where(card_keys.c.id.in_(candidates.scalar_subquery()))
        result = await self._c.execute(
            claim.where(card_keys.c.status == KeyStatus.AVAILABLE).returning(*_LOGGED)
        )
        keys = _logged(result)
        await self._log(keys, "reserved", order_id, now)
        return [k.id for k in keys]

    def _candidates(self, sku: str, quantity: int) -> Select[tuple[int]]:
        """Available keys of a product in the sell order: by batch then id, through the
        (sku, status, batch_id, id) index; by cost, joined to the batches."""
        available = and_(card_keys.c.sku == sku, card_keys.c.status == KeyStatus.AVAILABLE)
        if self._sell_order is SellOrder.CHEAPEST_COST:
            return (
                select(card_keys.c.id)
                .join(batches, batches.c.id == card_keys.c.batch_id)
                .where(available)
                .order_by(
                    func.coalesce(batches.c.cost_minor, 0), card_keys.c.batch_id, card_keys.c.id
                )
                .limit(quantity)
            )
        return (
            select(card_keys.c.id)
            .where(available)
            .order_by(card_keys.c.batch_id, card_keys.c.id)
            .limit(quantity)
        )

    async def freeze_supplier(self, supplier_id: str, now: datetime) -> int:
        """The supplier's unsold stock, available or held for an unpaid order, frozen in one
        statement with its history; how many keys.

        On PostgreSQL the orders holding its keys are locked first: a payment under way
        finishes (its keys sold) before the freeze, and one that comes after finds its hold
        short and takes keys from another supplier. Keys that change hands meanwhile are
        caught by the one UPDATE, which re-checks each row's status as it writes it.
        """
        of_supplier = card_keys.c.batch_id.in_(
            select(batches.c.id).where(batches.c.supplier_id == supplier_id).scalar_subquery()
        )
        if self._dialect == "postgresql":
            holding = select(card_keys.c.order_id).where(
                and_(of_supplier, card_keys.c.status == KeyStatus.RESERVED)
            )
            await self._c.execute(
                select(orders.c.id)
                .where(orders.c.id.in_(holding.scalar_subquery()))
                .order_by(orders.c.id)
                .with_for_update()
            )
        result = await self._c.execute(
            update(card_keys)
            .where(
                and_(
                    of_supplier,
                    card_keys.c.status.in_([KeyStatus.AVAILABLE, KeyStatus.RESERVED]),
                )
            )
            .values(status=KeyStatus.FROZEN.value, order_id=None)
            .returning(card_keys.c.id)
        )
        ids = sorted(result.scalars())
        await self._record(ids, "frozen", None, now)
        return len(ids)

    async def settle_frozen(self, supplier_id: str, release: bool, now: datetime) -> int:
        """A reinstated supplier's frozen keys back on sale (`release`) or written off for
        good, each with its history; how many."""
        to = KeyStatus.AVAILABLE if release else KeyStatus.WRITTEN_OFF
        result = await self._c.execute(
            update(card_keys)
            .where(
                and_(
                    card_keys.c.batch_id.in_(
                        select(batches.c.id)
                        .where(batches.c.supplier_id == supplier_id)
                        .scalar_subquery()
                    ),
                    card_keys.c.status == KeyStatus.FROZEN,
                )
            )
            .values(status=to.value)
            .returning(card_keys.c.id)
        )
        ids = sorted(result.scalars())
        await self._record(ids, "unfrozen" if release else "written_off", None, now)
        return len(ids)

    async def supplier_of(self, card_key_id: int) -> str | None:
        """The supplier of the key's batch."""
        return (
            await self._c.execute(
                select(batches.c.supplier_id)
                .join(card_keys, card_keys.c.batch_id == batches.c.id)
                .where(card_keys.c.id == card_key_id)
            )
        ).scalar_one_or_none()

    async def release(self, order_id: int, now: datetime) -> int:
        result = await self._c.execute(
            update(card_keys)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.RESERVED))
            .values(status=KeyStatus.AVAILABLE.value, order_id=None)
            .returning(*_LOGGED)
        )
        keys = _logged(result)
        await self._log(keys, "released", order_id, now)
        return len(keys)

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
            .returning(*_LOGGED)
        )
        keys = _logged(result)
        await self._log(keys, "sold", order_id, now)
        return len(keys)

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
            .returning(*_LOGGED)
        )
        keys = _logged(result)
        await self._log(keys, "refunded", order_id, now)
        return len(keys)

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
            .returning(*_LOGGED)
        )
        keys = _logged(result)
        await self._log(keys, "bad", order_id, now)
        return len(keys) == 1

    async def record_reveal(self, order_id: int, now: datetime) -> None:
        """A reveal changes no status, so on PostgreSQL the keys are locked (FOR UPDATE) lest two
        reveals at once both link to the same log head and fork the key's chain."""
        sold = select(*_LOGGED).where(
            and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD)
        )
        if self._dialect == "postgresql":
            sold = sold.with_for_update()
        await self._log(_logged(await self._c.execute(sold)), "revealed", order_id, now)

    async def trace_codes(self, order_id: int) -> list[str | None]:
        """The trace code of each key the order holds, in `sold_keys` order (None for a key
        imported before trace codes, until it is backfilled)."""
        rows = await self._c.execute(
            select(card_keys.c.trace_code)
            .where(and_(card_keys.c.order_id == order_id, card_keys.c.status == KeyStatus.SOLD))
            .order_by(card_keys.c.id)
        )
        return list(rows.scalars())

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
                counted(KeyStatus.FROZEN).label("frozen"),
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
                frozen=int(r.frozen),
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
        """Record an event of keys known by id: their log columns are read first (one more
        statement than `_log` with a RETURNING); the caller has them locked already."""
        wanted = list(ids)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            keys = _logged(await self._c.execute(select(*_LOGGED).where(card_keys.c.id.in_(chunk))))
            await self._log(keys, event, order_id, now)

    async def _log(
        self,
        keys: Sequence[LoggedKey],
        event: str,
        order_id: int | None,
        now: datetime,
        *,
        going_on_sale: bool = False,
    ) -> None:
        """The event's history rows with their transparency-log entries, in one statement, in
        the event's own transaction; the keys' log heads follow by a trigger (migration 0016).
        A key from before trace codes gets its entry from `backfill_provenance`."""
        if not keys:
            return
        rows = []
        for key in keys:
            entry = leaf = None
            if key.trace_code is not None:
                entry = log_entry(key, event, order_id, now)
                leaf = entry_leaf(entry)
            rows.append(
                {
                    "card_key_id": key.id,
                    "event": event,
                    "order_id": order_id,
                    "at": now,
                    "entry": entry,
                    "leaf_hash": leaf,
                }
            )
        await self._c.execute(insert(card_key_events), rows)
        if going_on_sale:
            on_sale = (
                update(card_keys)
                .where(
                    and_(
                        card_keys.c.id == bindparam("key_id"),
                        card_keys.c.status == KeyStatus.STAGED,
                    )
                )
                .values(status=KeyStatus.AVAILABLE.value)
            )
            await self._c.execute(on_sale, [{"key_id": k.id} for k in keys])
