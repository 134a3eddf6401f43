"""Loading card keys into stock, and reading stock levels."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.domain.batch_manifest import BatchProvenance, manifest, signature_holds
from store.domain.errors import DuplicateRecord, ImportRefused, UnknownSku
from store.domain.model import BatchStatus, StockLevel
from store.domain.provenance import StagedKey, new_provenance
from store.domain.sku import matching_sku, nearest_skus
from store.domain.supplier import (
    HOUSE_SUPPLIER,
    Supplier,
    SupplierRefused,
    Suspension,
    answers_automatically,
    resale_reason,
)
from store.formats.key_file import KeyLine, ParsedKeyFile, RefusedLine
from store.services.order import note_stock_level
from store.services.payment import fulfil_paid_order
from store.services.ports import KeyCipher, NewUnitOfWork, UnitOfWork
from store.services.supplier import SYSTEM, may_put_on_sale, suspend_in, usable_supplier

ALREADY_IN_STOCK = "already in stock"
ALREADY_SOLD = "already sold"
"""A key this shop sold before: its supplier is suspended for the attempt (一票否决)."""


@dataclass(frozen=True)
class ImportSummary:
    sku: str
    imported: int
    refused: tuple[RefusedLine, ...]
    batch_id: int | None
    fulfilled_orders: tuple[int, ...] = field(default=())
    acceptable: int = 0
    """Of a refused file, the good lines that importing it in part would take."""
    waiting: bool = False
    """Written whole but not on sale: the supplier's deposit is short (`release_waiting_batches`
    publishes it once topped up)."""
    suspension: Suspension | None = None
    """The resale attempt that suspended the importing supplier, refusing the file whole."""

    @property
    def refused_by_reason(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.refused))


Progress = Callable[[int, int], None]

STAGE_CHUNK = 2_000
"""Keys written per transaction (encrypted before it opens): each holds SQLite's write lock for
tens of milliseconds; `make bench` measures what a payment waits meanwhile."""
PUBLISH_CHUNK = 2_000
ABANDONED_AFTER = timedelta(minutes=2)
"""A staging batch with no progress for this long belongs to an import that died."""


def batch_provenance(
    supplier: Supplier,
    keys: Sequence[KeyLine],
    cost_minor: int | None,
    proof: bytes | None,
    signature: bytes | None,
) -> BatchProvenance:
    """What the batch records of its origin. The manifest covers every key of the file; a
    supplier with a registered key must have signed it, else the batch is refused whole."""
    if cost_minor is not None and cost_minor < 0:
        raise SupplierRefused("a cost per key is a whole number of minor units, 0 or more")
    digest = manifest(line.key for line in keys)
    if supplier.public_key is not None:
        if signature is None:
            raise SupplierRefused(
                f"supplier {supplier.id} signs its batches: give --manifest-signature "
                f"(the manifest is {digest.hex()})"
            )
        if not signature_holds(supplier.public_key, digest, signature):
            raise SupplierRefused(
                f"the signature is not {supplier.id}'s over this file's manifest "
                f"({digest.hex()}): the batch is refused whole"
            )
    return BatchProvenance(
        cost_minor=cost_minor,
        proof_sha256=hashlib.sha256(proof).hexdigest() if proof is not None else None,
        manifest_sha256=digest.hex(),
        signed=supplier.public_key is not None,
    )


async def import_card_keys(
    new_uow: NewUnitOfWork,
    *,
    sku: str,
    parsed: ParsedKeyFile,
    source: str,
    cipher: KeyCipher,
    now: datetime,
    imported_by: int | None = None,
    all_or_nothing: bool = True,
    progress: Progress | None = None,
    supplier_id: str = HOUSE_SUPPLIER,
    cost_minor: int | None = None,
    proof: bytes | None = None,
    signature: bytes | None = None,
) -> ImportSummary:
    """Encrypt and store a file's keys as one batch, refusing any key already in the shop.

    All-or-nothing by default: one refused line refuses the whole file (ImportRefused carries
    the summary). The SKU is matched in any case, and the summary carries the catalog's
    spelling; an unknown one raises UnknownSku, naming the nearest. The batch is written in
    short transactions (`staging`: nothing for sale), then put on sale chunk by chunk
    (`publishing`), so the shop keeps taking payments meanwhile. An import killed while staging
    leaves nothing for sale (`recover_imports` deletes it); killed while publishing, it is
    finished by `recover_imports`. Orders paid while the product was out of stock are then
    fulfilled. The batch is `supplier_id`'s, which must exist and be active (SupplierRefused).
    """
    supplier = await usable_supplier(new_uow, id=supplier_id)
    keys = list(parsed.keys)
    provenance = batch_provenance(supplier, keys, cost_minor, proof, signature)
    refused = list(parsed.refused)
    report = progress or (lambda _done, _total: None)
    all_fingerprints = [cipher.fingerprints(k.key) for k in keys]
    async with new_uow().reading() as uow:  # no write lock while reading
        product = await uow.catalog.product(sku, with_stock=False)
        if product is None:
            skus = await uow.catalog.skus()
            matched = matching_sku(sku, skus)
            if matched is None:
                raise UnknownSku(sku, nearest_skus(sku, skus))
            sku = matched
        flat = [f for fs in all_fingerprints for f in fs]
        known = await uow.card_keys.known_fingerprints(flat)
        sold = await uow.card_keys.sold_fingerprints(flat) if known else set()
    accepted: list[tuple[KeyLine, str]] = []
    resold: list[int] = []
    for key_line, fingerprints in zip(keys, all_fingerprints, strict=True):
        if sold.intersection(fingerprints):
            refused.append(RefusedLine(key_line.line, ALREADY_SOLD))
            resold.append(key_line.line)
        elif known.intersection(fingerprints):
            refused.append(RefusedLine(key_line.line, ALREADY_IN_STOCK))
        else:
            accepted.append((key_line, fingerprints[0]))
    refused.sort(key=lambda r: r.line)
    if resold and answers_automatically(supplier.id):  # the house's own slip is only refused
        suspension = await _resale_attempt(new_uow, supplier, source, resold, now)
        raise ImportRefused(ImportSummary(sku, 0, tuple(refused), None, suspension=suspension))
    if refused and all_or_nothing:
        raise ImportRefused(ImportSummary(sku, 0, tuple(refused), None, acceptable=len(accepted)))
    if not accepted:
        return ImportSummary(sku, 0, tuple(refused), None)
    async with new_uow() as uow:
        batch_id = await uow.card_keys.start_batch(
            sku, source, len(accepted), imported_by, now, supplier_id, provenance
        )
        await uow.commit()
    try:
        for start in range(0, len(accepted), STAGE_CHUNK):
            chunk = accepted[start : start + STAGE_CHUNK]
            rows = [
                StagedKey(cipher.encrypt(line.key), fingerprint, new_provenance(line.key))
                for line, fingerprint in chunk
            ]
            async with new_uow() as uow:
                await uow.card_keys.stage(batch_id, sku, rows, now)
                await uow.commit()
            report(start + len(chunk), len(accepted))
            await asyncio.sleep(0)  # a chat import shares the bot's event loop: let it breathe
    except DuplicateRecord:  # another import took one of these keys a moment ago
        await _abandon(new_uow, batch_id, sku, now)
        raise ImportRefused(
            ImportSummary(sku, 0, (RefusedLine(0, "imported by someone else meanwhile"),), None)
        ) from None
    async with new_uow() as uow:
        current = await uow.suppliers.get(supplier.id)
        on_sale = current is not None and await may_put_on_sale(uow, current, uow.supplier_rules)
        status = BatchStatus.PUBLISHING if on_sale else BatchStatus.WAITING
        await uow.card_keys.set_batch_status(batch_id, status, now)
        await uow.commit()
    if not on_sale:
        return ImportSummary(sku, len(accepted), tuple(refused), batch_id, waiting=True)
    fulfilled = await _publish(new_uow, batch_id, sku, now)
    return ImportSummary(sku, len(accepted), tuple(refused), batch_id, tuple(fulfilled))


async def _resale_attempt(
    new_uow: NewUnitOfWork, supplier: Supplier, source: str, lines: list[int], now: datetime
) -> Suspension | None:
    """Keys already sold, offered again: the supplier is suspended for it, at once."""
    shown = ", ".join(str(line) for line in lines[:10]) + (", …" if len(lines) > 10 else "")
    reason = resale_reason(f"file {source[:80]!r} (lines {shown})", len(lines))
    async with new_uow() as uow:
        suspension = await suspend_in(uow, supplier.id, reason=reason, actor=SYSTEM, now=now)
        await uow.commit()
    return suspension


async def _publish(new_uow: NewUnitOfWork, batch_id: int, sku: str, now: datetime) -> list[int]:
    while True:
        async with new_uow() as uow:
            published = await uow.card_keys.publish(batch_id, sku, PUBLISH_CHUNK, now)
            await uow.commit()
        if published < PUBLISH_CHUNK:
            break
    async with new_uow() as uow:
        await uow.card_keys.set_batch_status(batch_id, BatchStatus.LIVE, now)
        fulfilled = await _fulfil_waiting_orders(uow, sku, now)
        product = await uow.catalog.product(sku, with_stock=False)
        if product is not None:
            await note_stock_level(uow, product, now)
        await uow.commit()
    return fulfilled


async def _abandon(new_uow: NewUnitOfWork, batch_id: int, sku: str, now: datetime) -> None:
    while True:
        async with new_uow() as uow:
            deleted = await uow.card_keys.discard_staged(batch_id, sku, PUBLISH_CHUNK)
            await uow.commit()
        if deleted < PUBLISH_CHUNK:
            break
    async with new_uow() as uow:
        await uow.card_keys.set_batch_status(batch_id, BatchStatus.ABANDONED, now)
        await uow.commit()


async def recover_imports(new_uow: NewUnitOfWork, *, now: datetime) -> int:
    """Finish imports that died while publishing, and delete those that died while staging.

    Run at start-up and by the scheduler; returns how many batches it settled.
    """
    async with new_uow().reading() as uow:
        publishing = await uow.card_keys.batches_in(BatchStatus.PUBLISHING)
        staging = await uow.card_keys.batches_in(BatchStatus.STAGING)
    for batch_id, sku, _ in publishing:
        await _publish(new_uow, batch_id, sku, now)
    stale = [(b, sku) for b, sku, at in staging if at is None or at < now - ABANDONED_AFTER]
    for batch_id, sku in stale:
        await _abandon(new_uow, batch_id, sku, now)
    return len(publishing) + len(stale)


async def _fulfil_waiting_orders(uow: UnitOfWork, sku: str, now: datetime) -> list[int]:
    """Paid orders that found no stock get keys first, oldest first."""
    fulfilled = []
    for order in await uow.orders.awaiting_stock(sku):
        if await fulfil_paid_order(uow, order.id, now):
            fulfilled.append(order.id)
        else:
            break
    return fulfilled


async def release_waiting_batches(
    new_uow: NewUnitOfWork, supplier_id: str, now: datetime
) -> list[int]:
    """Put a supplier's batches that waited for its deposit on sale, now that it suffices;
    the batches published (none while it is still short, or the supplier suspended)."""
    async with new_uow() as uow:
        supplier = await uow.suppliers.get(supplier_id)
        if supplier is None or not await may_put_on_sale(uow, supplier, uow.supplier_rules):
            return []
        waiting = await uow.suppliers.waiting_batches(supplier_id)
        for batch_id, _ in waiting:
            await uow.card_keys.set_batch_status(batch_id, BatchStatus.PUBLISHING, now)
        await uow.commit()
    for batch_id, sku in waiting:
        await _publish(new_uow, batch_id, sku, now)
    return [batch_id for batch_id, _ in waiting]


async def stock_status(uow: UnitOfWork) -> list[StockLevel]:
    async with uow.reading():
        return await uow.card_keys.stock_levels()
