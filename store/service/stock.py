"""Loading card keys into stock, and reading stock levels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from store.card_key_cipher import CardKeyCipher
from store.errors import ImportRefused, ProductNotFound
from store.key_file import KeyLine, ParsedKeyFile, RefusedLine
from store.model import PaymentMethod, StockLevel
from store.service.order import note_stock_level
from store.service.payment import fulfil_paid_order
from store.unit_of_work import UnitOfWork

ALREADY_IN_STOCK = "already in stock"


@dataclass(frozen=True)
class ImportSummary:
    sku: str
    imported: int
    refused: tuple[RefusedLine, ...]
    batch_id: int | None
    fulfilled_orders: tuple[int, ...] = field(default=())

    @property
    def refused_by_reason(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.refused))


Progress = Callable[[int, int], None]


async def import_card_keys(
    uow: UnitOfWork,
    *,
    sku: str,
    parsed: ParsedKeyFile,
    source: str,
    cipher: CardKeyCipher,
    now: datetime,
    imported_by: int | None = None,
    all_or_nothing: bool = True,
    progress: Progress | None = None,
) -> ImportSummary:
    """Encrypt and store a file's keys as one batch, refusing any key already in the shop.

    All-or-nothing by default: one refused line refuses the whole file (ImportRefused carries
    the summary). Orders that were paid while the product was out of stock are then fulfilled.
    """
    keys = list(parsed.keys)
    refused = list(parsed.refused)
    report = progress or (lambda _done, _total: None)
    async with uow:
        product = await uow.catalog.product(sku, with_stock=False)
        if product is None:
            raise ProductNotFound(sku)
        all_fingerprints = [cipher.fingerprints(k.key) for k in keys]
        known = await uow.card_keys.known_fingerprints([f for fs in all_fingerprints for f in fs])
        accepted: list[tuple[KeyLine, str]] = []
        for key_line, fingerprints in zip(keys, all_fingerprints, strict=True):
            if known.intersection(fingerprints):
                refused.append(RefusedLine(key_line.line, ALREADY_IN_STOCK))
            else:
                accepted.append((key_line, fingerprints[0]))
        refused.sort(key=lambda r: r.line)
        if refused and all_or_nothing:
            raise ImportRefused(ImportSummary(sku, 0, tuple(refused), None))
        rows: list[tuple[str, str]] = []
        for done, (key_line, fingerprint) in enumerate(accepted, 1):
            rows.append((cipher.encrypt(key_line.key), fingerprint))
            if done % 1000 == 0 or done == len(accepted):
                report(done, len(accepted))
        batch_id = (
            await uow.card_keys.add_batch(sku, source, rows, imported_by, now) if rows else None
        )
        fulfilled = await _fulfil_waiting_orders(uow, sku, now)
        await note_stock_level(uow, product, now)
        await uow.commit()
    return ImportSummary(sku, len(rows), tuple(refused), batch_id, tuple(fulfilled))


async def _fulfil_waiting_orders(uow: UnitOfWork, sku: str, now: datetime) -> list[int]:
    """Paid orders that found no stock get keys first, oldest first."""
    fulfilled = []
    for order in await uow.orders.awaiting_stock(sku):
        if await fulfil_paid_order(uow, order, order.payment_method or PaymentMethod.STARS, now):
            fulfilled.append(order.id)
        else:
            break
    return fulfilled


async def stock_status(uow: UnitOfWork) -> list[StockLevel]:
    async with uow:
        return await uow.card_keys.stock_levels()
