"""In-memory stand-ins for the ports: a database of plain rows, repositories over it that behave
like the SQL ones (tests/db is their specification), a unit of work, and a readable cipher.

`FakeUnitOfWork` works on a copy of the database taken when it opens; `commit()` makes the copy
the database, and leaving without it throws the copy away, so uncommitted writes are lost as
they are on a real database. Opened with `reading()`, every write (a lock included, as
PostgreSQL refuses FOR UPDATE in a read-only transaction) and `commit()` raise `ReadOnlyError`.
A unique key or a missing user breaks as `DuplicateRecord`, as an IntegrityError does there.
"""

from __future__ import annotations

import copy
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from store.domain.batch_manifest import NO_PROVENANCE, BatchProvenance
from store.domain.errors import BadPayload, DuplicateRecord, ReadOnlyError, UnreadableToken
from store.domain.flow import FlowState, flow_record, parse_flow
from store.domain.import_offer import ImportOffer
from store.domain.ledger import (
    CLEARING,
    EXTERNAL_CASH,
    EXTERNAL_STARS,
    Hold,
    SoldKey,
    Transaction,
    transaction,
    wallet,
    wallet_owner,
)
from store.domain.model import (
    Agent,
    BatchStatus,
    Case,
    CaseReason,
    CaseStatus,
    Category,
    KeyStatus,
    Language,
    LedgerEntry,
    LedgerReason,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    Refund,
    RefundReason,
    RefundStatus,
    StarTransaction,
    StockLevel,
    StoredUpdate,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    User,
)
from store.domain.outbox import OutboxItem, OutboxPayload, parse_payload, payload_body
from store.domain.provenance import (
    AuditRow,
    KeyProvenance,
    KeyTrace,
    StagedKey,
    StoredCheckpoint,
    TraceEvent,
)
from store.domain.reference import new_reference
from store.domain.supplier import (
    HOUSE_SUPPLIER,
    SellOrder,
    Supplier,
    SupplierEvent,
    SupplierRules,
    SupplierStanding,
    SupplierStatus,
    SupplierStock,
)
from store.domain.support import ResponseTarget, default_alias

SEALED = "gAAAAA"  # what store.services.sealing takes for a token


class FakeCipher:
    """Tokens anyone can read in a failing assertion: `gAAAAA[passphrase]text`.

    Like CardKeyCipher it seals under the first passphrase, opens under any, fingerprints under
    each, and raises UnreadableToken for a token under none of them.
    """

    def __init__(self, passphrases: Sequence[str] = ("one",)) -> None:
        if not passphrases:
            raise ValueError("at least one passphrase is needed")
        self.passphrases = list(passphrases)

    def seal(self, text: str) -> str:
        return f"{SEALED}[{self.passphrases[0]}]{text}"

    def open(self, token: str) -> str:
        passphrase, closing, text = token.removeprefix(f"{SEALED}[").partition("]")
        if not token.startswith(f"{SEALED}[") or not closing or passphrase not in self.passphrases:
            raise UnreadableToken
        return text

    def encrypt(self, card_key: str) -> str:
        return self.seal(_normalised(card_key))

    def decrypt(self, token: str) -> str:
        return self.open(token)

    def rotate(self, token: str) -> str:
        return self.seal(self.open(token))

    def fingerprint(self, card_key: str) -> str:
        return self.fingerprints(card_key)[0]

    def fingerprints(self, card_key: str) -> list[str]:
        return [f"fp[{p}]{_normalised(card_key)}" for p in self.passphrases]


def _normalised(card_key: str) -> str:
    return unicodedata.normalize("NFKC", card_key).strip()


class FakeStarLedger:
    """Telegram's record: oldest first, `offset` skips, at most `limit` (≤ 100) per answer."""

    def __init__(self) -> None:
        self.transactions: list[StarTransaction] = []
        self.asked: list[int] = []

    def pay(self, charge_id: str, user_id: int, payload: str, amount: int, at: datetime) -> None:
        self.transactions.append(StarTransaction(charge_id, amount, at, True, user_id, payload))

    def refund(self, charge_id: str, user_id: int, amount: int, at: datetime) -> None:
        self.transactions.append(StarTransaction(charge_id, amount, at, False, user_id, ""))

    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]:
        self.asked.append(offset)
        return self.transactions[offset : offset + min(limit, 100)]


# --- the rows ------------------------------------------------------------------------------


@dataclass
class UserRow:
    id: int
    first_name: str
    language: Language | None
    created_at: datetime


@dataclass
class ProductRow:
    product: Product
    low_stock_alerted: bool = False


@dataclass
class BatchRow:
    id: int
    sku: str
    source: str
    key_count: int
    imported_by: int | None
    imported_at: datetime
    status: BatchStatus
    updated_at: datetime | None
    supplier_id: str = HOUSE_SUPPLIER
    provenance: BatchProvenance = NO_PROVENANCE


def _house() -> dict[str, Supplier]:
    """The supplier a new database starts with, as migration 0011 writes it."""
    house = Supplier(
        HOUSE_SUPPLIER,
        "House stock",
        "本店自营 / the shop's own stock",
        "",
        None,
        SupplierStatus.ACTIVE,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    return {HOUSE_SUPPLIER: house}


@dataclass
class KeyRow:
    id: int
    sku: str
    batch_id: int
    ciphertext: str
    fingerprint: str
    status: KeyStatus
    created_at: datetime
    order_id: int | None = None
    sold_at: datetime | None = None
    trace_code: str | None = None


@dataclass
class PaymentRow:
    id: int
    charge_id: str
    user_id: int
    order_id: int | None
    purpose: str
    currency: str
    amount: int
    payload: str
    received_at: datetime
    outcome: str | None
    refunded_at: datetime | None = None


@dataclass
class LedgerRow:
    """One posting; a wallet's carry its user_id."""

    id: int
    user_id: int | None
    amount_minor: int
    reason: LedgerReason
    idempotency_key: str
    order_id: int | None
    created_at: datetime
    stars: int | None = None
    note: str | None = None
    account: str = ""
    case_id: int | None = None


@dataclass
class OutboxRow:
    id: int
    kind: str
    chat_id: int
    order_id: int | None
    body: str
    dedupe_key: str
    status: str
    attempts: int
    created_at: datetime
    claimed_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass
class AgentRow:
    user_id: int
    display_name: str
    on_duty: bool
    capacity: int
    active_ticket_id: int | None
    duty_changed_at: datetime
    alias: str = ""


@dataclass
class MessageRow:
    message: TicketMessage
    relayed: bool


@dataclass
class BreachRow:
    ticket_id: int
    target: ResponseTarget
    due_at: datetime
    recorded_at: datetime


@dataclass
class CaseRow:
    case: Case
    decided_by: int | None = None


@dataclass
class QuestionRow:
    id: int
    user_id: int
    language: str
    action: str
    entry_id: str | None
    score: int
    text: str
    asked_at: datetime
    helpful: bool | None = None


@dataclass
class InboxRow:
    update_id: int
    kind: str
    payload: str
    status: str
    attempts: int
    received_at: datetime
    handled_at: datetime | None = None


@dataclass
class RefundRow:
    refund: Refund
    last_error: str | None = None
    claimed_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class Tables:
    """The whole database: every table a dict of rows by key."""

    users: dict[int, UserRow] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    products: dict[str, ProductRow] = field(default_factory=dict)
    batches: dict[int, BatchRow] = field(default_factory=dict)
    card_keys: dict[int, KeyRow] = field(default_factory=dict)
    key_events: list[tuple[int, str, int | None, datetime]] = field(default_factory=list)
    orders: dict[int, Order] = field(default_factory=dict)
    payments: dict[str, PaymentRow] = field(default_factory=dict)
    ledger: dict[int, LedgerRow] = field(default_factory=dict)
    escrow: dict[int, Hold] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    agents: dict[int, AgentRow] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    messages: dict[int, MessageRow] = field(default_factory=dict)
    breaches: list[BreachRow] = field(default_factory=list)
    cases: dict[int, CaseRow] = field(default_factory=dict)
    questions: dict[int, QuestionRow] = field(default_factory=dict)
    states: dict[int, tuple[str, str, datetime]] = field(default_factory=dict)
    inbox: dict[int, InboxRow] = field(default_factory=dict)
    refunds: dict[str, RefundRow] = field(default_factory=dict)
    checkpoints: dict[str, int] = field(default_factory=dict)
    import_offers: dict[int, ImportOffer] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=_house)
    supplier_events: list[SupplierEvent] = field(default_factory=list)


def wallet_postings(tables: Tables) -> list[LedgerRow]:
    """The ledger's postings to buyers' wallets, oldest first (each transaction has others)."""
    return [e for e in sorted(tables.ledger.values(), key=lambda e: e.id) if e.user_id is not None]


def _next_id(rows: Iterable[int]) -> int:
    return max(rows, default=0) + 1


class FakeDatabase:
    """What the units of work share: the committed tables."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.units: list[FakeUnitOfWork] = []
        self.supplier_rules = SupplierRules()
        """What its units of work carry (the composition root builds them from settings)."""

    @property
    def opened(self) -> list[str]:
        """Every transaction its units of work opened, in order: "read" or "write"."""
        return [kind for unit in self.units for kind in unit.opened]

    def outbox(self) -> list[tuple[int, OutboxPayload]]:
        """(chat, payload) of every committed outbox item, oldest first."""
        return [
            (row.chat_id, parse_payload(row.kind, row.body))
            for _, row in sorted(self.tables.outbox.items())
        ]

    def unit_of_work(self) -> FakeUnitOfWork:
        """A new unit of work on this database: pass the bound method where a service wants a
        `NewUnitOfWork`."""
        return FakeUnitOfWork(self)


class _Session:
    """The open transaction's copy of the tables, as the repositories reach it."""

    def __init__(self) -> None:
        self.open: Tables | None = None
        self.read_only = False

    @property
    def tables(self) -> Tables:
        if self.open is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self.open

    def write(self) -> Tables:
        if self.read_only:
            raise ReadOnlyError("a write in a unit of work opened with reading()")
        return self.tables


class _Repository:
    def __init__(self, session: _Session) -> None:
        self._s = session

    @property
    def _t(self) -> Tables:
        return self._s.tables

    def _w(self) -> Tables:
        return self._s.write()

    def _user_must_exist(self, user_id: int) -> None:
        if user_id not in self._t.users:
            raise DuplicateRecord(f"no user {user_id}")  # a foreign key, as IntegrityError


class FakeCatalogRepository(_Repository):
    def _in_stock(self, sku: str) -> int:
        return sum(
            1
            for k in self._t.card_keys.values()
            if k.sku == sku and k.status is KeyStatus.AVAILABLE
        )

    async def categories(self) -> list[Category]:
        found = []
        for c in sorted(self._t.categories.values(), key=lambda c: (c.position, c.id)):
            count = sum(
                1
                for p in self._t.products.values()
                if p.product.category_id == c.id and p.product.active
            )
            if count > 0:
                found.append(replace(c, product_count=count))
        return found

    async def category(self, category_id: str) -> Category | None:
        return self._t.categories.get(category_id)

    async def products_in(
        self, category_id: str, offset: int, limit: int
    ) -> tuple[list[Product], int]:
        listed = sorted(
            (
                p.product
                for p in self._t.products.values()
                if p.product.category_id == category_id and p.product.active
            ),
            key=lambda p: (p.position, p.sku),
        )
        page = [replace(p, in_stock=self._in_stock(p.sku)) for p in listed[offset : offset + limit]]
        return page, len(listed)

    async def product(self, sku: str, *, with_stock: bool = True) -> Product | None:
        row = self._t.products.get(sku)
        if row is None:
            return None
        return replace(row.product, in_stock=self._in_stock(sku) if with_stock else 0)

    async def skus(self) -> list[str]:
        return sorted(self._t.products)

    async def add_category(self, category: Category) -> None:
        tables = self._w()
        if category.id in tables.categories:
            raise DuplicateRecord(category.id)
        tables.categories[category.id] = replace(category, product_count=0)

    async def update_category(self, category: Category) -> None:
        tables = self._w()
        if category.id in tables.categories:
            tables.categories[category.id] = replace(category, product_count=0)

    async def add_product(self, product: Product) -> None:
        tables = self._w()
        if product.sku in tables.products or product.category_id not in tables.categories:
            raise DuplicateRecord(product.sku)
        tables.products[product.sku] = ProductRow(replace(product, in_stock=0))

    async def update_product(self, product: Product) -> None:
        tables = self._w()
        if product.sku in tables.products:
            tables.products[product.sku].product = replace(product, in_stock=0)

    async def set_low_stock_alerted(self, sku: str, alerted: bool) -> bool:
        row = self._w().products.get(sku)
        if row is None or row.low_stock_alerted is alerted:
            return False
        row.low_stock_alerted = alerted
        return True


class FakeCardKeyRepository(_Repository):
    def __init__(self, session: _Session, sell_order: SellOrder = SellOrder.OLDEST_BATCH) -> None:
        super().__init__(session)
        self._sell_order = sell_order

    def _keys(self, **match: object) -> list[KeyRow]:
        return sorted(
            (
                k
                for k in self._t.card_keys.values()
                if all(getattr(k, name) == value for name, value in match.items())
            ),
            key=lambda k: k.id,
        )

    def _record(
        self, keys: Iterable[KeyRow], event: str, order_id: int | None, now: datetime
    ) -> None:
        self._w().key_events.extend((k.id, event, order_id, now) for k in keys)

    async def known_fingerprints(self, fingerprints: Sequence[str]) -> set[str]:
        stored = {k.fingerprint for k in self._t.card_keys.values()}
        return stored.intersection(fingerprints)

    async def sold_fingerprints(self, fingerprints: Sequence[str]) -> set[str]:
        ever_sold = {key_id for key_id, event, _, _ in self._t.key_events if event == "sold"}
        stored = {
            k.fingerprint
            for k in self._t.card_keys.values()
            if k.status in (KeyStatus.SOLD, KeyStatus.BAD) or k.id in ever_sold
        }
        return stored.intersection(fingerprints)

    def _of_supplier(self, supplier_id: str, *statuses: KeyStatus) -> list[KeyRow]:
        batches = {b.id for b in self._t.batches.values() if b.supplier_id == supplier_id}
        return [k for k in self._keys() if k.batch_id in batches and k.status in statuses]

    async def freeze_supplier(self, supplier_id: str, now: datetime) -> int:
        unsold = self._of_supplier(supplier_id, KeyStatus.AVAILABLE, KeyStatus.RESERVED)
        self._record(unsold, "frozen", None, now)
        for key in unsold:
            key.status, key.order_id = KeyStatus.FROZEN, None
        return len(unsold)

    async def settle_frozen(self, supplier_id: str, release: bool, now: datetime) -> int:
        frozen = self._of_supplier(supplier_id, KeyStatus.FROZEN)
        self._record(frozen, "unfrozen" if release else "written_off", None, now)
        for key in frozen:
            key.status = KeyStatus.AVAILABLE if release else KeyStatus.WRITTEN_OFF
        return len(frozen)

    async def supplier_of(self, card_key_id: int) -> str | None:
        key = self._t.card_keys.get(card_key_id)
        return None if key is None else self._t.batches[key.batch_id].supplier_id

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
        tables = self._w()
        if supplier_id not in tables.suppliers:
            raise DuplicateRecord("batches.supplier_id (no such supplier)")
        batch_id = _next_id(tables.batches)
        tables.batches[batch_id] = BatchRow(
            batch_id,
            sku,
            source[:255],
            key_count,
            imported_by,
            now,
            BatchStatus.STAGING,
            now,
            supplier_id,
            provenance,
        )
        return batch_id

    async def stage(
        self, batch_id: int, sku: str, keys: Sequence[StagedKey], now: datetime
    ) -> None:
        tables = self._w()
        for key in keys:
            if any(k.fingerprint == key.fingerprint for k in tables.card_keys.values()):
                raise DuplicateRecord("card_keys.fingerprint")
            key_id = _next_id(tables.card_keys)
            tables.card_keys[key_id] = KeyRow(
                key_id,
                sku,
                batch_id,
                key.ciphertext,
                key.fingerprint,
                KeyStatus.STAGED,
                now,
                trace_code=key.provenance.trace_code,
            )
        tables.batches[batch_id].updated_at = now

    async def set_batch_status(self, batch_id: int, status: BatchStatus, now: datetime) -> None:
        batch = self._w().batches.get(batch_id)
        if batch is not None:
            batch.status, batch.updated_at = status, now

    async def publish(self, batch_id: int, sku: str, limit: int, now: datetime) -> int:
        staged = self._keys(sku=sku, status=KeyStatus.STAGED, batch_id=batch_id)[:limit]
        self._record(staged, "imported", None, now)
        for key in staged:
            key.status = KeyStatus.AVAILABLE
        return len(staged)

    async def discard_staged(self, batch_id: int, sku: str, limit: int) -> int:
        tables = self._w()
        staged = self._keys(sku=sku, status=KeyStatus.STAGED, batch_id=batch_id)[:limit]
        for key in staged:
            del tables.card_keys[key.id]
        return len(staged)

    async def batches_in(self, status: BatchStatus) -> list[tuple[int, str, datetime | None]]:
        return [
            (b.id, b.sku, b.updated_at)
            for b in sorted(self._t.batches.values(), key=lambda b: b.id)
            if b.status is status
        ]

    async def claim(self, sku: str, order_id: int, quantity: int, now: datetime) -> list[int]:
        batches = self._t.batches

        def sell_order(key: KeyRow) -> tuple[int, int, int]:
            cost = batches[key.batch_id].provenance.cost_minor or 0
            cheapest = self._sell_order is SellOrder.CHEAPEST_COST
            return (cost if cheapest else 0, key.batch_id, key.id)

        available = self._keys(sku=sku, status=KeyStatus.AVAILABLE)
        taken = sorted(available, key=sell_order)[:quantity]
        self._record(taken, "reserved", order_id, now)
        for key in taken:
            key.status, key.order_id = KeyStatus.RESERVED, order_id
        return [k.id for k in taken]

    async def release(self, order_id: int, now: datetime) -> int:
        held = self._keys(order_id=order_id, status=KeyStatus.RESERVED)
        self._record(held, "released", order_id, now)
        for key in held:
            key.status, key.order_id = KeyStatus.AVAILABLE, None
        return len(held)

    async def held_for(self, order_id: int) -> int:
        return len(self._keys(order_id=order_id, status=KeyStatus.RESERVED))

    async def sell(self, order_id: int, now: datetime) -> int:
        held = self._keys(order_id=order_id, status=KeyStatus.RESERVED)
        self._record(held, "sold", order_id, now)
        for key in held:
            key.status, key.sold_at = KeyStatus.SOLD, now
        return len(held)

    async def sold_ciphertexts(self, order_id: int) -> list[str]:
        return [k.ciphertext for k in self._keys(order_id=order_id, status=KeyStatus.SOLD)]

    async def sold_keys(self, order_id: int) -> list[tuple[int, str]]:
        return [(k.id, k.ciphertext) for k in self._keys(order_id=order_id, status=KeyStatus.SOLD)]

    async def return_to_stock(self, order_id: int, now: datetime) -> int:
        sold = self._keys(order_id=order_id, status=KeyStatus.SOLD)
        self._record(sold, "refunded", order_id, now)
        for key in sold:
            key.status, key.order_id, key.sold_at = KeyStatus.AVAILABLE, None, None
        return len(sold)

    async def mark_bad(self, key_id: int, order_id: int, now: datetime) -> bool:
        key = self._w().card_keys.get(key_id)
        if key is None or key.order_id != order_id or key.status is not KeyStatus.SOLD:
            return False
        key.status = KeyStatus.BAD
        self._record([key], "bad", order_id, now)
        return True

    async def record_reveal(self, order_id: int, now: datetime) -> None:
        self._record(
            self._keys(order_id=order_id, status=KeyStatus.SOLD), "revealed", order_id, now
        )

    async def trace_codes(self, order_id: int) -> list[str | None]:
        return [k.trace_code for k in self._keys(order_id=order_id, status=KeyStatus.SOLD)]

    async def count_available(self, sku: str, *, up_to: int | None = None) -> int:
        count = len(self._keys(sku=sku, status=KeyStatus.AVAILABLE))
        return count if up_to is None else min(count, up_to)

    async def stock_levels(self) -> list[StockLevel]:
        def counted(sku: str, status: KeyStatus) -> int:
            return len(self._keys(sku=sku, status=status))

        return [
            StockLevel(
                sku,
                row.product.name_en,
                counted(sku, KeyStatus.AVAILABLE),
                counted(sku, KeyStatus.RESERVED),
                counted(sku, KeyStatus.SOLD),
                row.product.low_stock_threshold,
                bad=counted(sku, KeyStatus.BAD),
                frozen=counted(sku, KeyStatus.FROZEN),
                returned=len(
                    [
                        k
                        for k in self._keys(sku=sku, status=KeyStatus.AVAILABLE)
                        if (k.id, "refunded") in {(i, e) for i, e, _, _ in self._t.key_events}
                    ]
                ),
            )
            for sku, row in sorted(self._t.products.items())
        ]

    async def history(self, card_key_id: int) -> list[tuple[str, int | None, datetime]]:
        return [(e, o, at) for k, e, o, at in self._t.key_events if k == card_key_id]


class FakeOrderRepository(_Repository):
    def _shown(self, order: Order) -> Order:
        product = self._t.products[order.sku].product
        return replace(order, product_name_zh=product.name_zh, product_name_en=product.name_en)

    async def add(
        self,
        *,
        user_id: int,
        sku: str,
        quantity: int,
        unit_price_minor: int,
        total_minor: int,
        total_stars: int,
        created_at: datetime,
        expires_at: datetime,
        notice_message_id: int | None = None,
    ) -> int:
        tables = self._w()
        self._user_must_exist(user_id)
        if sku not in tables.products:
            raise DuplicateRecord(f"no product {sku}")
        order_id = _next_id(tables.orders)
        taken = {o.reference for o in tables.orders.values()}
        reference = new_reference()
        while reference in taken:  # what the unique index makes the SQL repository do
            reference = new_reference()
        tables.orders[order_id] = Order(
            id=order_id,
            user_id=user_id,
            sku=sku,
            quantity=quantity,
            unit_price_minor=unit_price_minor,
            total_minor=total_minor,
            total_stars=total_stars,
            status=OrderStatus.AWAITING_PAYMENT,
            payment_method=None,
            created_at=created_at,
            expires_at=expires_at,
            notice_message_id=notice_message_id,
            reference=reference,
        )
        return order_id

    async def get(self, order_id: int) -> Order | None:
        order = self._t.orders.get(order_id)
        return self._shown(order) if order else None

    async def by_reference(self, reference: str) -> Order | None:
        found = [o for o in self._t.orders.values() if o.reference == reference]
        return self._shown(found[0]) if found else None

    async def lock(self, order_id: int, *, skip_locked: bool = False) -> Order | None:
        self._w()  # FOR UPDATE: refused in a read-only transaction
        return await self.get(order_id)

    def _update(self, order_id: int, **changes: Any) -> None:
        tables = self._w()
        tables.orders[order_id] = replace(tables.orders[order_id], **changes)

    async def set_notice_message(self, order_id: int, message_id: int) -> None:
        order = self._w().orders.get(order_id)
        if order is not None and order.notice_message_id is None:
            self._update(order_id, notice_message_id=message_id)

    async def open_hold(self, user_id: int, sku: str, now: datetime) -> int | None:
        held = [
            o.id
            for o in self._t.orders.values()
            if o.user_id == user_id
            and o.sku == sku
            and o.status is OrderStatus.AWAITING_PAYMENT
            and o.expires_at > now
        ]
        return max(held, default=None)

    async def for_user(self, user_id: int, offset: int, limit: int) -> tuple[list[Order], int]:
        mine = sorted(
            (o for o in self._t.orders.values() if o.user_id == user_id), key=lambda o: -o.id
        )
        return [self._shown(o) for o in mine[offset : offset + limit]], len(mine)

    async def count_open(self, user_id: int, now: datetime) -> int:
        return sum(
            1
            for o in self._t.orders.values()
            if o.user_id == user_id
            and o.status is OrderStatus.AWAITING_PAYMENT
            and o.expires_at > now
        )

    async def lapsed(self, now: datetime, limit: int) -> list[int]:
        return sorted(
            o.id
            for o in self._t.orders.values()
            if o.status is OrderStatus.AWAITING_PAYMENT and o.expires_at <= now
        )[:limit]

    async def awaiting_stock(self, sku: str) -> list[Order]:
        return [
            self._shown(o)
            for o in sorted(self._t.orders.values(), key=lambda o: o.id)
            if o.sku == sku and o.status is OrderStatus.AWAITING_STOCK
        ]

    async def move(
        self,
        order_id: int,
        leaving: Iterable[OrderStatus],
        to: OrderStatus,
        *,
        paid_at: datetime | None = None,
        payment_method: PaymentMethod | None = None,
        expires_at: datetime | None = None,
        delivered_at: datetime | None = None,
        refunded_at: datetime | None = None,
    ) -> bool:
        order = self._w().orders.get(order_id)
        if order is None or order.status not in set(leaving):
            return False
        given = {
            "paid_at": paid_at,
            "payment_method": payment_method,
            "expires_at": expires_at,
            "delivered_at": delivered_at,
            "refunded_at": refunded_at,
        }
        self._update(order_id, status=to, **{k: v for k, v in given.items() if v is not None})
        return True

    async def mark_revealed(self, order_id: int, now: datetime) -> bool | None:
        order = self._w().orders.get(order_id)
        if order is None or order.status not in (OrderStatus.PAID, OrderStatus.DELIVERED):
            return None
        if order.revealed_at is not None:
            return False
        self._update(order_id, revealed_at=now)
        return True

    async def set_expiry(self, order_id: int, expires_at: datetime) -> None:
        if order_id in self._w().orders:
            self._update(order_id, expires_at=expires_at)

    async def paid_or_refunded_since(self, since: datetime) -> list[Order]:
        return [
            self._shown(o)
            for _, o in sorted(self._t.orders.items())
            if (o.paid_at is not None and o.paid_at >= since)
            or (o.refunded_at is not None and o.refunded_at >= since)
        ]


class FakePaymentRepository(_Repository):
    async def record(
        self,
        *,
        charge_id: str,
        user_id: int,
        order_id: int | None,
        purpose: str,
        currency: str,
        amount: int,
        payload: str,
        now: datetime,
        outcome: str | None = None,
    ) -> bool:
        tables = self._w()
        if charge_id in tables.payments:
            return False
        payment_id = _next_id(p.id for p in tables.payments.values())
        tables.payments[charge_id] = PaymentRow(
            payment_id,
            charge_id,
            user_id,
            order_id,
            purpose,
            currency,
            amount,
            payload[:128],
            now,
            outcome,
        )
        return True

    async def charge_for_order(self, order_id: int) -> str | None:
        paying = sorted(
            (
                p
                for p in self._t.payments.values()
                if p.order_id == order_id
                and p.purpose == "order"
                and p.outcome in ("applied", "awaiting")
            ),
            key=lambda p: p.id,
        )
        return paying[0].charge_id if paying else None

    async def set_outcome(self, charge_id: str, outcome: str) -> None:
        payment = self._w().payments.get(charge_id)
        if payment is not None:
            payment.outcome = outcome

    async def known(self, charge_ids: Sequence[str]) -> set[str]:
        return set(charge_ids).intersection(self._t.payments)

    async def get(self, charge_id: str) -> Payment | None:
        p = self._t.payments.get(charge_id)
        if p is None:
            return None
        return Payment(p.charge_id, p.user_id, p.order_id, p.amount, p.outcome, p.refunded_at)

    async def refunded_at(self, charge_id: str) -> datetime | None:
        p = self._t.payments.get(charge_id)
        return p.refunded_at if p else None

    async def mark_refunded(self, charge_id: str, now: datetime) -> bool:
        p = self._w().payments.get(charge_id)
        if p is None or p.refunded_at is not None:
            return False
        p.refunded_at = now
        return True


class FakeLedgerRepository(_Repository):
    async def post_many(self, entries: Sequence[Transaction], now: datetime) -> None:
        for entry in entries:
            if not await self.post(entry, now):
                raise DuplicateRecord(entry.idempotency_key)

    async def clearing_by_order(self) -> dict[int, tuple[int, str, int]]:
        sums: Counter[int] = Counter()
        for e in self._t.ledger.values():
            if e.account == CLEARING:
                sums[e.order_id or 0] += e.amount_minor
        found = {}
        for order_id, held in sums.items():
            if held:
                order = self._t.orders.get(order_id)
                found[order_id] = (
                    held,
                    order.status.value if order else "None",
                    order.total_minor if order else 0,
                )
        return found

    async def post(self, entry: Transaction, now: datetime) -> bool:
        tables = self._w()
        if not entry.postings:
            return True
        if any(e.idempotency_key == entry.idempotency_key for e in tables.ledger.values()):
            return False
        for posting in entry.postings:
            owner = wallet_owner(posting.account)
            if owner is not None:
                self._user_must_exist(owner)
            entry_id = _next_id(tables.ledger)
            tables.ledger[entry_id] = LedgerRow(
                entry_id,
                owner,
                posting.amount_minor,
                entry.reason,
                entry.idempotency_key,
                entry.order_id,
                now,
                entry.stars if owner is not None else None,
                entry.note,
                posting.account,
                entry.case_id,
            )
        return True

    async def append(
        self,
        user_id: int,
        amount_minor: int,
        reason: LedgerReason,
        idempotency_key: str,
        now: datetime,
        order_id: int | None = None,
        *,
        stars: int | None = None,
        note: str | None = None,
    ) -> bool:
        source = EXTERNAL_STARS if reason is LedgerReason.TOPUP else EXTERNAL_CASH
        return await self.post(
            transaction(
                reason,
                idempotency_key,
                [(wallet(user_id), amount_minor), (source, -amount_minor)],
                order_id=order_id,
                stars=stars,
                note=None if note is None else note[:255],
            ),
            now,
        )

    async def balance(self, user_id: int) -> int:
        return sum(e.amount_minor for e in self._t.ledger.values() if e.user_id == user_id)

    async def account_balance(self, account: str) -> int:
        return sum(e.amount_minor for e in self._t.ledger.values() if e.account == account)

    async def written(self, idempotency_key: str) -> bool:
        return any(e.idempotency_key == idempotency_key for e in self._t.ledger.values())

    async def posted(self, idempotency_key: str) -> dict[str, int]:
        return {
            e.account: e.amount_minor
            for e in self._t.ledger.values()
            if e.idempotency_key == idempotency_key
        }

    async def credited_for_order(self, order_id: int) -> int:
        return sum(
            e.amount_minor
            for e in self._t.ledger.values()
            if e.order_id == order_id and e.user_id is not None and e.amount_minor > 0
        )

    def _entry(self, e: LedgerRow) -> LedgerEntry:
        orders = self._t.orders
        return LedgerEntry(
            e.id,
            e.amount_minor,
            e.reason,
            e.created_at,
            e.order_id,
            e.stars,
            e.note,
            orders[e.order_id].reference if e.order_id in orders else None,
            e.case_id,
        )

    async def recent(self, user_id: int, limit: int) -> list[LedgerEntry]:
        mine = sorted(
            (e for e in self._t.ledger.values() if e.user_id == user_id), key=lambda e: -e.id
        )
        return [self._entry(e) for e in mine[:limit]]

    async def postings_of(
        self, accounts: list[str], since: datetime | None
    ) -> list[tuple[LedgerEntry, str]]:
        return [
            (self._entry(e), e.account)
            for e in sorted(self._t.ledger.values(), key=lambda e: e.id)
            if e.account in accounts and (since is None or e.created_at >= since)
        ]

    async def unbalanced(self) -> dict[str, int]:
        sums: Counter[str] = Counter()
        for e in self._t.ledger.values():
            sums[e.idempotency_key] += e.amount_minor
        return {key: total for key, total in sums.items() if total != 0}

    async def balances(self) -> dict[str, int]:
        sums: Counter[str] = Counter()
        for e in self._t.ledger.values():
            sums[e.account] += e.amount_minor
        return dict(sums)

    async def held_by_supplier(self) -> dict[str, int]:
        sums: Counter[str] = Counter()
        for h in self._t.escrow.values():
            if h.status == "held":
                sums[h.supplier_id] += h.cost_minor
        return dict(sums)


class FakeEscrowRepository(_Repository):
    async def supplier_of(self, card_key_id: int) -> tuple[str, int]:
        batch = self._t.batches.get(self._t.card_keys[card_key_id].batch_id)
        if batch is None:
            return HOUSE_SUPPLIER, 0
        return batch.supplier_id, batch.provenance.cost_minor or 0

    async def sold_keys(self, order_id: int, key_ids: Sequence[int] | None = None) -> list[SoldKey]:
        keys = sorted(
            (
                k
                for k in self._t.card_keys.values()
                if k.order_id == order_id
                and k.status is KeyStatus.SOLD
                and (key_ids is None or k.id in key_ids)
            ),
            key=lambda k: k.id,
        )
        sold = []
        for k in keys:
            batch = self._t.batches.get(k.batch_id)
            supplier = batch.supplier_id if batch else HOUSE_SUPPLIER
            cost = batch.provenance.cost_minor if batch else None
            sold.append(SoldKey(k.id, supplier, cost or 0, 0))
        return sold

    async def hold(self, order_id: int, keys: Sequence[SoldKey], now: datetime) -> None:
        tables = self._w()
        for k in keys:
            hold_id = _next_id(tables.escrow)
            tables.escrow[hold_id] = Hold(
                hold_id, k.card_key_id, order_id, k.supplier_id, k.cost_minor, k.price_minor, now
            )

    async def cancel(
        self,
        order_id: int,
        now: datetime,
        *,
        key_ids: Sequence[int] | None = None,
        case_id: int | None = None,
    ) -> list[Hold]:
        tables = self._w()
        cancelled = []
        for hold in sorted(tables.escrow.values(), key=lambda h: h.id):
            if (
                hold.order_id == order_id
                and hold.status == "held"
                and (key_ids is None or hold.card_key_id in key_ids)
            ):
                tables.escrow[hold.id] = replace(hold, status="cancelled", case_id=case_id)
                cancelled.append(tables.escrow[hold.id])
        return cancelled

    async def latest_for_key(self, order_id: int, card_key_id: int) -> Hold | None:
        mine = [
            h
            for h in self._t.escrow.values()
            if h.order_id == order_id and h.card_key_id == card_key_id
        ]
        return max(mine, key=lambda h: h.id, default=None)

    async def due(self, sold_before: datetime, limit: int) -> list[Hold]:
        due = [h for h in self._t.escrow.values() if h.status == "held" and h.held_at < sold_before]
        return sorted(due, key=lambda h: h.id)[:limit]

    async def release(self, hold_ids: Sequence[int], now: datetime) -> list[int]:
        tables = self._w()
        released = []
        for hold_id in hold_ids:
            hold = tables.escrow.get(hold_id)
            if hold is not None and hold.status == "held":
                tables.escrow[hold_id] = replace(hold, status="released")
                released.append(hold_id)
        return sorted(released)

    async def held_for_supplier(self, supplier_id: str) -> int:
        return sum(
            h.cost_minor
            for h in self._t.escrow.values()
            if h.supplier_id == supplier_id and h.status == "held"
        )


class FakeOutboxRepository(_Repository):
    async def add(
        self, payload: OutboxPayload, chat_id: int, dedupe_key: str, now: datetime
    ) -> bool:
        tables = self._w()
        key = dedupe_key[:128]
        if any(item.dedupe_key == key for item in tables.outbox.values()):
            return False
        item_id = _next_id(tables.outbox)
        tables.outbox[item_id] = OutboxRow(
            item_id,
            payload.kind.value,
            chat_id,
            getattr(payload, "order_id", None),
            payload_body(payload),
            key,
            "pending",
            0,
            now,
        )
        return True

    async def claim(self, now: datetime, stale_before: datetime, limit: int) -> list[OutboxItem]:
        tables = self._w()
        ready = [
            row
            for row in sorted(tables.outbox.values(), key=lambda r: r.id)
            if row.status == "pending"
            or (
                row.status == "sending"
                and row.claimed_at is not None
                and row.claimed_at < stale_before
            )
        ][:limit]
        items = []
        for row in ready:
            row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
            try:
                items.append(
                    OutboxItem(row.id, row.chat_id, parse_payload(row.kind, row.body), row.attempts)
                )
            except BadPayload:
                row.status = "failed"
        return items

    async def finish(self, item_id: int, now: datetime, *, failed: bool = False) -> None:
        row = self._w().outbox.get(item_id)
        if row is not None and row.status == "sending":
            row.status, row.sent_at = "failed" if failed else "sent", now

    async def retry_later(self, item_id: int) -> None:
        row = self._w().outbox.get(item_id)
        if row is not None and row.status == "sending":
            row.status = "pending"


class FakeUserRepository(_Repository):
    async def ensure(
        self, user_id: int, first_name: str, now: datetime, language: Language | None = None
    ) -> None:
        tables = self._w()
        if user_id not in tables.users:
            tables.users[user_id] = UserRow(user_id, first_name[:128], language, now)

    async def get(self, user_id: int) -> User | None:
        row = self._t.users.get(user_id)
        return User(row.id, row.first_name, row.language) if row else None

    async def set_language(self, user_id: int, language: Language) -> None:
        row = self._w().users.get(user_id)
        if row is not None:
            row.language = language

    async def lock(self, user_id: int) -> None:
        self._w()


_OPEN = (TicketStatus.QUEUED, TicketStatus.ASSIGNED)


class FakeTicketRepository(_Repository):
    def _tickets(self, keep: Callable[[Ticket], bool]) -> list[Ticket]:
        return sorted((t for t in self._t.tickets.values() if keep(t)), key=lambda t: t.id)

    def _update(self, ticket_id: int, **changes: Any) -> None:
        tables = self._w()
        tables.tickets[ticket_id] = replace(tables.tickets[ticket_id], **changes)

    async def add(
        self,
        *,
        user_id: int,
        priority: TicketPriority,
        kind: str,
        subject: str,
        created_at: datetime,
        case_id: int | None = None,
        status: TicketStatus = TicketStatus.QUEUED,
        waiting_since: datetime | None = None,
    ) -> int:
        tables = self._w()
        self._user_must_exist(user_id)
        ticket_id = _next_id(tables.tickets)
        tables.tickets[ticket_id] = Ticket(
            id=ticket_id,
            user_id=user_id,
            status=status,
            priority=priority,
            kind=kind,
            case_id=case_id,
            agent_id=None,
            subject=subject,
            created_at=created_at,
            waiting_since=waiting_since,
        )
        return ticket_id

    async def get(self, ticket_id: int) -> Ticket | None:
        return self._t.tickets.get(ticket_id)

    async def open_for_user(self, user_id: int) -> Ticket | None:
        mine = self._tickets(lambda t: t.user_id == user_id and t.status in _OPEN)
        return mine[-1] if mine else None

    async def for_user(self, user_id: int, limit: int) -> list[Ticket]:
        return self._tickets(lambda t: t.user_id == user_id)[::-1][:limit]

    async def queued(self, limit: int | None = None) -> list[Ticket]:
        waiting = sorted(
            self._tickets(lambda t: t.status is TicketStatus.QUEUED),
            key=lambda t: (t.priority, t.created_at, t.id),
        )
        return waiting if limit is None else waiting[:limit]

    async def place_in_queue(self, ticket: Ticket) -> int:
        mine = (ticket.priority, ticket.created_at, ticket.id)
        ahead = [t for t in await self.queued() if (t.priority, t.created_at, t.id) < mine]
        return len(ahead) + 1

    async def assigned_to(self, agent_id: int) -> list[Ticket]:
        return self._tickets(lambda t: t.agent_id == agent_id and t.status is TicketStatus.ASSIGNED)

    async def assign(self, ticket_id: int, agent_id: int, now: datetime) -> bool:
        ticket = self._w().tickets.get(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.QUEUED:
            return False
        self._update(ticket_id, status=TicketStatus.ASSIGNED, agent_id=agent_id, assigned_at=now)
        return True

    async def requeue(self, ticket_id: int) -> bool:
        ticket = self._w().tickets.get(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.ASSIGNED:
            return False
        self._update(
            ticket_id,
            status=TicketStatus.QUEUED,
            agent_id=None,
            assigned_at=None,
            queue_message_id=None,
        )
        return True

    async def reassign(self, ticket_id: int, from_agent: int, to_agent: int, now: datetime) -> bool:
        ticket = self._w().tickets.get(ticket_id)
        if (
            ticket is None
            or ticket.status is not TicketStatus.ASSIGNED
            or ticket.agent_id != from_agent
        ):
            return False
        self._update(ticket_id, agent_id=to_agent, assigned_at=now)
        return True

    async def close(self, ticket_id: int, now: datetime) -> bool:
        ticket = self._w().tickets.get(ticket_id)
        if ticket is None or ticket.status not in _OPEN:
            return False
        self._update(ticket_id, status=TicketStatus.CLOSED, closed_at=now, waiting_since=None)
        return True

    async def raise_priority(
        self, ticket_id: int, priority: TicketPriority, kind: str, case_id: int | None
    ) -> None:
        if ticket_id in self._w().tickets:
            self._update(ticket_id, priority=priority, kind=kind, case_id=case_id)

    async def set_queue_message(self, ticket_id: int, message_id: int) -> None:
        if ticket_id in self._w().tickets:
            self._update(ticket_id, queue_message_id=message_id)

    async def mark_agent_response(self, ticket_id: int, now: datetime) -> None:
        ticket = self._w().tickets.get(ticket_id)
        if ticket is not None:
            self._update(
                ticket_id, first_response_at=ticket.first_response_at or now, waiting_since=None
            )

    async def mark_buyer_waiting(self, ticket_id: int, now: datetime) -> None:
        ticket = self._w().tickets.get(ticket_id)
        if ticket is not None and ticket.waiting_since is None:
            self._update(ticket_id, waiting_since=now)

    async def rate(self, ticket_id: int, user_id: int, rating: int) -> bool:
        ticket = self._w().tickets.get(ticket_id)
        if (
            ticket is None
            or ticket.user_id != user_id
            or ticket.status is not TicketStatus.CLOSED
            or ticket.rating is not None
        ):
            return False
        self._update(ticket_id, rating=rating)
        return True

    async def add_message(
        self,
        *,
        ticket_id: int,
        sender: str,
        author_id: int,
        body: str,
        created_at: datetime,
        relayed: bool = False,
        media: str | None = None,
        source_chat_id: int | None = None,
        source_message_id: int | None = None,
    ) -> int:
        tables = self._w()
        if ticket_id not in tables.tickets:
            raise DuplicateRecord(f"no ticket {ticket_id}")
        message_id = _next_id(tables.messages)
        tables.messages[message_id] = MessageRow(
            TicketMessage(
                message_id,
                ticket_id,
                sender,
                author_id,
                body,
                media,
                source_chat_id,
                source_message_id,
                created_at,
            ),
            relayed,
        )
        return message_id

    async def unrelayed_buyer_messages(self, ticket_id: int) -> list[TicketMessage]:
        return [
            row.message
            for _, row in sorted(self._t.messages.items())
            if row.message.ticket_id == ticket_id
            and row.message.sender == "buyer"
            and not row.relayed
        ]

    async def mark_relayed(self, message_ids: list[int]) -> None:
        tables = self._w()
        for message_id in message_ids:
            if message_id in tables.messages:
                tables.messages[message_id].relayed = True

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        return [
            row.message
            for _, row in sorted(self._t.messages.items())
            if row.message.ticket_id == ticket_id
        ]

    def _breach_recorded(self, ticket_id: int, target: ResponseTarget, due_at: datetime) -> bool:
        return any(
            (b.ticket_id, b.target, b.due_at) == (ticket_id, target, due_at)
            for b in self._t.breaches
        )

    async def overdue(
        self, first_due_before: datetime, next_due_before: datetime
    ) -> list[tuple[Ticket, ResponseTarget, datetime]]:
        found: list[tuple[Ticket, ResponseTarget, datetime]] = []
        for ticket in self._tickets(lambda t: t.status in _OPEN):
            if ticket.first_response_at is None:
                if ticket.created_at <= first_due_before and not self._breach_recorded(
                    ticket.id, ResponseTarget.FIRST, ticket.created_at
                ):
                    found.append((ticket, ResponseTarget.FIRST, ticket.created_at))
            elif (
                ticket.waiting_since is not None
                and ticket.waiting_since <= next_due_before
                and not self._breach_recorded(ticket.id, ResponseTarget.NEXT, ticket.waiting_since)
            ):
                found.append((ticket, ResponseTarget.NEXT, ticket.waiting_since))
        return found

    async def record_breach(
        self, ticket_id: int, target: ResponseTarget, due_at: datetime, now: datetime
    ) -> bool:
        tables = self._w()
        if self._breach_recorded(ticket_id, target, due_at):
            return False
        tables.breaches.append(BreachRow(ticket_id, target, due_at, now))
        return True

    async def recent_handling_seconds(self, limit: int = 50) -> list[float]:
        closed = sorted(
            (
                t
                for t in self._t.tickets.values()
                if t.status is TicketStatus.CLOSED and t.assigned_at is not None and t.closed_at
            ),
            key=lambda t: t.closed_at or t.created_at,
            reverse=True,
        )[:limit]
        return [
            (t.closed_at - t.assigned_at).total_seconds()
            for t in closed
            if t.closed_at is not None and t.assigned_at is not None
        ]

    async def opened_since(self, since: datetime) -> list[Ticket]:
        return self._tickets(lambda t: t.created_at >= since)

    async def breaches_since(self, since: datetime) -> int:
        return sum(1 for b in self._t.breaches if b.recorded_at >= since)

    async def ratings_since(self, since: datetime) -> list[int]:
        return [
            t.rating
            for t in self._tickets(lambda t: t.closed_at is not None and t.closed_at >= since)
            if t.rating is not None
        ]


class FakeAgentRepository(_Repository):
    def _agent(self, row: AgentRow) -> Agent:
        mine = [t for t in self._t.tickets.values() if t.agent_id == row.user_id]
        assigned = [t.assigned_at for t in mine if t.assigned_at is not None]
        return Agent(
            row.user_id,
            row.display_name,
            row.on_duty,
            row.capacity,
            row.active_ticket_id,
            sum(1 for t in mine if t.status is TicketStatus.ASSIGNED),
            max(assigned, default=None),
            row.alias,
        )

    async def ensure(self, user_id: int, display_name: str, capacity: int, now: datetime) -> None:
        tables = self._w()
        if user_id not in tables.agents:
            name = display_name[:64] or f"#{user_id}"
            alias = default_alias(len(tables.agents) + 1)
            tables.agents[user_id] = AgentRow(user_id, name, False, capacity, None, now, alias)

    async def set_alias(self, user_id: int, alias: str) -> bool:
        row = self._w().agents.get(user_id)
        if row is None:
            return False
        row.alias = alias
        return True

    async def get(self, user_id: int) -> Agent | None:
        row = self._t.agents.get(user_id)
        return self._agent(row) if row else None

    async def on_duty(self) -> list[Agent]:
        return [self._agent(r) for _, r in sorted(self._t.agents.items()) if r.on_duty]

    async def lock_all(self) -> None:
        self._w()

    async def set_duty(self, user_id: int, on: bool, now: datetime) -> None:
        row = self._w().agents.get(user_id)
        if row is not None:
            row.on_duty, row.duty_changed_at = on, now

    async def set_active(self, user_id: int, ticket_id: int | None) -> None:
        row = self._w().agents.get(user_id)
        if row is not None:
            row.active_ticket_id = ticket_id


class FakeCaseRepository(_Repository):
    def _cases(self, keep: Callable[[Case], bool]) -> list[Case]:
        return [row.case for _, row in sorted(self._t.cases.items()) if keep(row.case)]

    async def add(
        self,
        *,
        user_id: int,
        order_id: int,
        card_key_id: int,
        reason: CaseReason,
        created_at: datetime,
        screenshot: str | None = None,
    ) -> int:
        tables = self._w()
        self._user_must_exist(user_id)
        if order_id not in tables.orders or card_key_id not in tables.card_keys:
            raise DuplicateRecord("cases: no such order or key")
        case_id = _next_id(tables.cases)
        tables.cases[case_id] = CaseRow(
            Case(
                id=case_id,
                user_id=user_id,
                order_id=order_id,
                card_key_id=card_key_id,
                reason=reason,
                status=CaseStatus.OPEN,
                screenshot=screenshot,
                decision_note=None,
                replacement_key_id=None,
                created_at=created_at,
                order_reference=tables.orders[order_id].reference,
            )
        )
        return case_id

    async def get(self, case_id: int) -> Case | None:
        row = self._t.cases.get(case_id)
        return row.case if row else None

    async def for_user(self, user_id: int, limit: int) -> list[Case]:
        return self._cases(lambda c: c.user_id == user_id)[::-1][:limit]

    async def reports_on_key(self, card_key_id: int) -> int:
        return len(self._cases(lambda c: c.card_key_id == card_key_id))

    async def replacements_since(self, user_id: int, since: datetime) -> int:
        return len(
            self._cases(
                lambda c: (
                    c.user_id == user_id
                    and c.status is CaseStatus.REPLACED
                    and c.decided_at is not None
                    and c.decided_at >= since
                )
            )
        )

    async def keys_reported(self, order_id: int) -> set[int]:
        return {c.card_key_id for c in self._cases(lambda c: c.order_id == order_id)}

    async def settle_open_for_order(self, order_id: int, status: CaseStatus, now: datetime) -> int:
        tables = self._w()
        settled = 0
        for row in tables.cases.values():
            if row.case.order_id == order_id and row.case.status is CaseStatus.OPEN:
                row.case = replace(row.case, status=status, decided_at=now)
                settled += 1
        return settled

    async def reopen(self, case_id: int) -> None:
        row = self._w().cases.get(case_id)
        if row is not None:
            row.case = replace(row.case, status=CaseStatus.OPEN, decided_at=None)
            row.decided_by = None

    async def decide(
        self,
        case_id: int,
        status: CaseStatus,
        now: datetime,
        *,
        decided_by: int | None = None,
        decision_note: str | None = None,
        replacement_key_id: int | None = None,
    ) -> bool:
        row = self._w().cases.get(case_id)
        if row is None or row.case.status is not CaseStatus.OPEN:
            return False
        row.case = replace(
            row.case,
            status=status,
            decided_at=now,
            decision_note=row.case.decision_note if decision_note is None else decision_note,
            replacement_key_id=row.case.replacement_key_id
            if replacement_key_id is None
            else replacement_key_id,
        )
        row.decided_by = row.decided_by if decided_by is None else decided_by
        return True


class FakeQuestionRepository(_Repository):
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
        tables = self._w()
        question_id = _next_id(tables.questions)
        tables.questions[question_id] = QuestionRow(
            question_id, user_id, language, action, entry_id, score, text, now
        )
        return question_id

    def _mine(self, question_id: int, user_id: int) -> QuestionRow | None:
        row = self._t.questions.get(question_id)
        return row if row is not None and row.user_id == user_id else None

    async def get_text(self, question_id: int, user_id: int) -> str | None:
        row = self._mine(question_id, user_id)
        return row.text if row else None

    async def choose(self, question_id: int, user_id: int, entry_id: str) -> bool:
        self._w()
        row = self._mine(question_id, user_id)
        if row is None:
            return False
        row.action, row.entry_id = "answer", entry_id
        return True

    async def set_helpful(self, question_id: int, user_id: int, helpful: bool) -> bool:
        self._w()
        row = self._mine(question_id, user_id)
        if row is None:
            return False
        row.helpful = helpful
        return True

    async def counts_since(self, since: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._t.questions.values():
            if row.asked_at >= since:
                counts[row.action] = counts.get(row.action, 0) + 1
        return counts

    async def feedback_by_entry(self) -> list[tuple[str, int, int]]:
        tally: dict[str, tuple[int, int]] = {}
        for row in self._t.questions.values():
            if row.entry_id is not None and row.helpful is not None:
                yes, no = tally.get(row.entry_id, (0, 0))
                tally[row.entry_id] = (yes + row.helpful, no + (not row.helpful))
        return [(entry, yes, no) for entry, (yes, no) in tally.items()]


class FakeConversationStateRepository(_Repository):
    async def get(self, user_id: int) -> FlowState | None:
        stored = self._t.states.get(user_id)
        return parse_flow(stored[0], stored[1]) if stored else None

    async def put(self, user_id: int, flow: FlowState, now: datetime) -> None:
        self._w().states[user_id] = (*flow_record(flow), now)

    async def clear(self, user_id: int) -> None:
        self._w().states.pop(user_id, None)


class FakeRefundRepository(_Repository):
    async def request(
        self,
        *,
        charge_id: str,
        user_id: int,
        amount: int,
        reason: RefundReason,
        now: datetime,
        order_id: int | None = None,
        case_id: int | None = None,
        order_status_before: OrderStatus | None = None,
    ) -> bool:
        tables = self._w()
        if charge_id in tables.refunds:
            return False
        refund_id = _next_id(r.refund.id for r in tables.refunds.values())
        tables.refunds[charge_id] = RefundRow(
            Refund(
                id=refund_id,
                charge_id=charge_id,
                user_id=user_id,
                order_id=order_id,
                case_id=case_id,
                reason=reason,
                amount=amount,
                status=RefundStatus.PENDING,
                order_status_before=order_status_before,
                attempts=0,
                requested_at=now,
            )
        )
        return True

    async def renew(
        self,
        charge_id: str,
        reason: RefundReason,
        case_id: int | None,
        order_status_before: OrderStatus,
        now: datetime,
    ) -> bool:
        row = self._w().refunds.get(charge_id)
        if row is None or row.refund.status is not RefundStatus.FAILED:
            return False
        row.refund = replace(
            row.refund,
            status=RefundStatus.PENDING,
            reason=reason,
            case_id=case_id,
            order_status_before=order_status_before,
            requested_at=now,
        )
        row.claimed_at = row.finished_at = None
        return True

    async def get(self, charge_id: str) -> Refund | None:
        row = self._t.refunds.get(charge_id)
        return row.refund if row else None

    @staticmethod
    def _free(row: RefundRow, stale_before: datetime) -> bool:
        return row.refund.status is RefundStatus.PENDING and (
            row.claimed_at is None or row.claimed_at < stale_before
        )

    async def claim(self, charge_id: str, now: datetime, stale_before: datetime) -> Refund | None:
        row = self._w().refunds.get(charge_id)
        if row is None or not self._free(row, stale_before):
            return None
        row.claimed_at = now
        row.refund = replace(row.refund, attempts=row.refund.attempts + 1)
        return row.refund

    async def release(self, charge_id: str, error: str) -> None:
        row = self._w().refunds.get(charge_id)
        if row is not None and row.refund.status is RefundStatus.PENDING:
            row.claimed_at, row.last_error = None, error[:200]

    async def finish(
        self, charge_id: str, status: RefundStatus, now: datetime, error: str | None = None
    ) -> bool:
        row = self._w().refunds.get(charge_id)
        if row is None or row.refund.status is not RefundStatus.PENDING:
            return False
        row.refund = replace(row.refund, status=status)
        row.finished_at, row.last_error = now, error[:200] if error else None
        return True

    async def pending(self, stale_before: datetime, limit: int) -> list[Refund]:
        free = [r.refund for r in self._t.refunds.values() if self._free(r, stale_before)]
        return sorted(free, key=lambda r: r.id)[:limit]

    async def for_order(self, order_id: int) -> list[Refund]:
        return sorted(
            (r.refund for r in self._t.refunds.values() if r.refund.order_id == order_id),
            key=lambda r: r.id,
        )


class FakeInboxRepository(_Repository):
    async def record(self, update_id: int, kind: str, payload: str, now: datetime) -> bool:
        tables = self._w()
        if update_id in tables.inbox:
            return False
        tables.inbox[update_id] = InboxRow(update_id, kind[:24], payload, "pending", 0, now)
        return True

    async def pending(self, limit: int, after: int = -1) -> list[StoredUpdate]:
        waiting = [
            StoredUpdate(r.update_id, r.kind, r.payload, r.attempts)
            for _, r in sorted(self._t.inbox.items())
            if r.status == "pending" and r.update_id > after
        ]
        return waiting[:limit]

    async def attempted(self, update_id: int) -> None:
        row = self._w().inbox.get(update_id)
        if row is not None:
            row.attempts += 1

    async def finish(self, update_id: int, now: datetime, *, failed: bool = False) -> None:
        row = self._w().inbox.get(update_id)
        if row is not None and row.status == "pending":
            row.status, row.handled_at, row.payload = "failed" if failed else "done", now, ""

    async def forget_handled(self, before: datetime) -> int:
        tables = self._w()
        old = [
            u
            for u, r in tables.inbox.items()
            if r.status != "pending" and r.handled_at is not None and r.handled_at < before
        ]
        for update_id in old:
            del tables.inbox[update_id]
        return len(old)


class FakeCheckpointRepository(_Repository):
    async def get(self, name: str) -> int:
        return self._t.checkpoints.get(name, 0)

    async def set(self, name: str, value: int, now: datetime) -> None:
        self._w().checkpoints[name] = value


class FakeTransparencyLogRepository(_Repository):
    """The log as the fakes keep it: traces from the fake tables, and no entries (the log's
    hashing and signing are tested on the real repositories, in tests/db)."""

    async def lock(self, now: datetime) -> None:
        self._w()

    async def size(self) -> int:
        return 0

    async def sequence(self, now: datetime) -> int:
        return 0

    async def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return []

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return None

    async def checkpoints(self) -> list[StoredCheckpoint]:
        return []

    async def add_checkpoint(self, size: int, root_hash: str, note: str, now: datetime) -> None:
        raise DuplicateRecord("the fake log keeps no checkpoints")

    async def audit_rows(self, start: int, end: int) -> list[AuditRow]:
        return []

    async def pending_rows(self) -> list[AuditRow]:
        return []

    async def unlogged_count(self) -> int:
        return 0

    async def head_entry(self, trace_code: str) -> tuple[int, str, str] | None:
        return None

    async def index_of(self, event_id: int) -> int | None:
        return None

    async def trace(self, trace_code: str, viewer_id: int | None) -> KeyTrace | None:
        key = next((k for k in self._t.card_keys.values() if k.trace_code == trace_code), None)
        if key is None:
            return None
        product = self._t.products[key.sku].product
        batch = self._t.batches[key.batch_id]
        events = [TraceEvent(e, at) for k, e, _, at in self._t.key_events if k == key.id]
        order = self._t.orders.get(key.order_id) if key.order_id is not None else None
        return KeyTrace(
            trace_code=trace_code,
            sku=key.sku,
            name_zh=product.name_zh,
            name_zh_hant=product.name_zh_hant,
            name_en=product.name_en,
            supplier_public_name=self._t.suppliers[batch.supplier_id].public_name,
            batch_id=batch.id,
            batch_imported_at=batch.imported_at,
            has_proof=batch.provenance.proof_sha256 is not None,
            signed=batch.provenance.signed,
            events=events,
            sold_times=sum(1 for e in events if e.event == "sold"),
            own_order_reference=(
                order.reference if order is not None and order.user_id == viewer_id else None
            ),
        )

    async def keys_without_provenance(self, limit: int) -> list[tuple[int, str]]:
        return []

    async def give_provenance(self, key_id: int, provenance: KeyProvenance) -> int:
        return 0


class FakeImportOfferRepository(_Repository):
    async def add(
        self,
        *,
        admin_id: int,
        sku: str,
        file_id: str,
        file_name: str,
        acceptable: int,
        offered_at: datetime,
        expires_at: datetime,
        supplier_id: str = HOUSE_SUPPLIER,
    ) -> int:
        offers = self._w().import_offers
        offer_id = _next_id(offers)
        offers[offer_id] = ImportOffer(
            offer_id,
            admin_id,
            sku,
            file_id,
            file_name,
            acceptable,
            offered_at,
            expires_at,
            supplier_id=supplier_id,
        )
        return offer_id

    async def get(self, offer_id: int) -> ImportOffer | None:
        return self._t.import_offers.get(offer_id)

    async def take(self, offer_id: int, now: datetime) -> bool:
        offer = self._t.import_offers.get(offer_id)
        if offer is None or offer.taken_at is not None:
            return False
        self._w().import_offers[offer_id] = replace(offer, taken_at=now)
        return True


class FakeSupplierRepository(_Repository):
    async def add(self, supplier: Supplier, event: SupplierEvent) -> bool:
        if supplier.id in self._t.suppliers:
            return False
        tables = self._w()
        tables.suppliers[supplier.id] = supplier
        tables.supplier_events.append(event)
        return True

    async def get(self, supplier_id: str) -> Supplier | None:
        return self._t.suppliers.get(supplier_id)

    async def lock(self, supplier_id: str) -> bool:
        return supplier_id in self._w().suppliers

    async def all(self) -> list[Supplier]:
        return [self._t.suppliers[key] for key in sorted(self._t.suppliers)]

    async def events(self, supplier_id: str) -> list[SupplierEvent]:
        return [e for e in self._t.supplier_events if e.supplier_id == supplier_id]

    async def stock(self, supplier_id: str) -> list[SupplierStock]:
        batches = {b.id for b in self._t.batches.values() if b.supplier_id == supplier_id}
        by_sku: dict[str, Counter[KeyStatus]] = {}
        for key in self._t.card_keys.values():
            if key.batch_id in batches:
                by_sku.setdefault(key.sku, Counter())[key.status] += 1
        return [
            SupplierStock(
                sku,
                counts[KeyStatus.AVAILABLE],
                counts[KeyStatus.RESERVED],
                counts[KeyStatus.SOLD],
                counts[KeyStatus.BAD],
                counts[KeyStatus.FROZEN],
            )
            for sku, counts in sorted(by_sku.items())
        ]

    async def change_status(self, event: SupplierEvent) -> bool:
        supplier = self._t.suppliers.get(event.supplier_id)
        if supplier is None or supplier.status is event.status:
            return False
        tables = self._w()
        tables.suppliers[supplier.id] = replace(supplier, status=event.status)
        tables.supplier_events.append(event)
        return True

    async def standing(self, supplier_id: str, since: datetime) -> SupplierStanding:
        batches = {b.id for b in self._t.batches.values() if b.supplier_id == supplier_id}
        sold = [
            k
            for k in self._t.card_keys.values()
            if k.batch_id in batches
            and k.status in (KeyStatus.SOLD, KeyStatus.BAD)
            and k.sold_at is not None
            and k.sold_at >= since
        ]
        return SupplierStanding(len(sold), sum(1 for k in sold if k.status is KeyStatus.BAD))

    async def waiting_batches(self, supplier_id: str) -> list[tuple[int, str]]:
        return [
            (b.id, b.sku)
            for b in sorted(self._t.batches.values(), key=lambda b: b.id)
            if b.supplier_id == supplier_id and b.status is BatchStatus.WAITING
        ]


class _SealedColumn:
    """How to read and write one sealed column among the rows."""

    def __init__(
        self,
        rows: Callable[[Tables], dict[int, Any]],
        get: Callable[[Any], str | None],
        put: Callable[[Any, str], Any],
    ) -> None:
        self.rows, self.get, self.put = rows, get, put


def _put_message(row: MessageRow, body: str) -> MessageRow:
    row.message = replace(row.message, body=body)
    return row


def _put_case(row: CaseRow, note: str) -> CaseRow:
    row.case = replace(row.case, decision_note=note)
    return row


def _put_question(row: QuestionRow, text: str) -> QuestionRow:
    row.text = text
    return row


def _put_inbox(row: InboxRow, payload: str) -> InboxRow:
    row.payload = payload
    return row


_SEALED_COLUMNS = {
    "ticket_messages.body": _SealedColumn(
        lambda t: t.messages, lambda r: r.message.body, _put_message
    ),
    "tickets.subject": _SealedColumn(
        lambda t: t.tickets, lambda r: r.subject, lambda r, v: replace(r, subject=v)
    ),
    "questions.text": _SealedColumn(lambda t: t.questions, lambda r: r.text, _put_question),
    "cases.decision_note": _SealedColumn(
        lambda t: t.cases, lambda r: r.case.decision_note, _put_case
    ),
    "inbox.payload": _SealedColumn(lambda t: t.inbox, lambda r: r.payload, _put_inbox),
}


class FakeSealedTextRepository(_Repository):
    async def card_keys_after(self, after: int, limit: int) -> list[tuple[int, str, str]]:
        keys = sorted(k for k in self._t.card_keys if k > after)[:limit]
        return [
            (k, self._t.card_keys[k].ciphertext, self._t.card_keys[k].fingerprint) for k in keys
        ]

    async def replace_card_key(
        self, key_id: int, token: str, *, ciphertext: str, fingerprint: str
    ) -> bool:
        key = self._w().card_keys.get(key_id)
        if key is None or key.ciphertext != token:
            return False
        key.ciphertext, key.fingerprint = ciphertext, fingerprint
        return True

    async def sealed_after(self, column: str, after: int, limit: int) -> list[tuple[int, str]]:
        sealed = _SEALED_COLUMNS[column]
        found = []
        for key, row in sorted(sealed.rows(self._t).items()):
            value = sealed.get(row)
            if key > after and value:
                found.append((key, value))
        return found[:limit]

    async def replace_sealed(self, column: str, key: int, stored: str, sealed: str) -> bool:
        target = _SEALED_COLUMNS[column]
        rows = target.rows(self._w())
        if key not in rows or target.get(rows[key]) != stored:
            return False
        rows[key] = target.put(rows[key], sealed)
        return True


class FakeUnitOfWork:
    """The unit of work on a FakeDatabase (a fresh one unless given); see the module docstring.

    `committed` says whether any of its transactions committed; `commits` counts them, and
    `opened` lists each transaction as it opened: "read" (with `reading()`) or "write".
    """

    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database if database is not None else FakeDatabase()
        self.committed = False
        self.commits = 0
        self.opened: list[str] = []
        self.database.units.append(self)
        self._session = _Session()
        self._reading = False
        session = self._session
        self.catalog = FakeCatalogRepository(session)
        self.supplier_rules = self.database.supplier_rules
        self.card_keys = FakeCardKeyRepository(session, self.supplier_rules.sell_order)
        self.orders = FakeOrderRepository(session)
        self.payments = FakePaymentRepository(session)
        self.ledger = FakeLedgerRepository(session)
        self.escrow = FakeEscrowRepository(session)
        self.outbox = FakeOutboxRepository(session)
        self.users = FakeUserRepository(session)
        self.tickets = FakeTicketRepository(session)
        self.agents = FakeAgentRepository(session)
        self.cases = FakeCaseRepository(session)
        self.questions = FakeQuestionRepository(session)
        self.states = FakeConversationStateRepository(session)
        self.refunds = FakeRefundRepository(session)
        self.inbox = FakeInboxRepository(session)
        self.checkpoints = FakeCheckpointRepository(session)
        self.transparency_log = FakeTransparencyLogRepository(session)
        self.sealed = FakeSealedTextRepository(session)
        self.import_offers = FakeImportOfferRepository(session)
        self.suppliers = FakeSupplierRepository(session)

    def reading(self) -> Self:
        if self._session.open is not None:
            raise RuntimeError("reading() inside `async with`: the transaction is already open")
        self._reading = True
        return self

    async def __aenter__(self) -> Self:
        if self._session.open is not None:
            raise RuntimeError("this unit of work is open already")
        self._session.open = copy.deepcopy(self.database.tables)
        self._session.read_only, self._reading = self._reading, False
        self.opened.append("read" if self._session.read_only else "write")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._session.open = None  # whatever was not committed is gone
        self._session.read_only = False

    async def commit(self) -> None:
        if self._session.read_only:
            raise ReadOnlyError("commit() of a unit of work opened with reading()")
        self.database.tables = self._session.tables
        self._session.open = copy.deepcopy(self.database.tables)  # what follows is a new one
        self.committed = True
        self.commits += 1


class FakeTelegramFiles:
    """The files Telegram keeps for the bot, by file_id: what a press reads a document again by."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.downloads = 0

    def keep(self, content: bytes) -> str:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = content
        return file_id

    async def download(self, file_id: str) -> bytes:
        self.downloads += 1
        return self.files[file_id]
