"""Domain types: plain frozen dataclasses that services return; never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Generic, TypeVar

from store.domain.language import Language as Language  # re-exported: the model speaks it
from store.domain.language import localized
from store.domain.stock import StockState, low_stock, stock_state

T = TypeVar("T")


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    AWAITING_STOCK = "awaiting_stock"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    """Unpaid when its hold lapsed: its keys went back to stock."""
    CANCELLED = "cancelled"
    """Given up unpaid by the buyer: its keys went back to stock."""
    REFUNDING = "refunding"
    REFUNDED = "refunded"


MAX_INVOICE_STARS = 10_000
"""The most Stars one Telegram invoice may ask for (Bot API)."""


class KeyStatus(StrEnum):
    STAGED = "staged"
    """Written by an import that has not finished: not for sale, and gone if the import dies."""
    AVAILABLE = "available"
    RESERVED = "reserved"
    SOLD = "sold"
    BAD = "bad"
    """Reported and confirmed (or replaced) as not working: never sold again."""
    FROZEN = "frozen"
    """Its supplier is suspended: not sellable, not counted as stock, until an admin releases
    it (back to available) or writes it off."""
    WRITTEN_OFF = "written_off"
    """Frozen stock an admin wrote off on reinstating its supplier: never sold."""


class BatchStatus(StrEnum):
    STAGING = "staging"
    """Keys being written in short transactions; none is for sale."""
    PUBLISHING = "publishing"
    """Every key is written: they go on sale chunk by chunk, resumed after a crash."""
    LIVE = "live"
    WAITING = "waiting"
    """Written whole, but its supplier's deposit is short: not on sale until topped up."""
    ABANDONED = "abandoned"
    """The import died while staging; its keys were deleted."""


class PaymentMethod(StrEnum):
    STARS = "stars"
    WALLET = "wallet"


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    language: Language | None


@dataclass(frozen=True)
class Category:
    id: str
    name_zh: str
    name_en: str
    position: int = 0
    product_count: int = 0
    name_zh_hant: str = ""

    def name(self, language: Language) -> str:
        return localized(language, self.name_zh, self.name_en, self.name_zh_hant)


@dataclass(frozen=True)
class Product:
    sku: str
    category_id: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    redeem_zh: str
    redeem_en: str
    price_minor: int
    price_stars: int
    order_limit: int
    low_stock_threshold: int = 5
    active: bool = True
    position: int = 0
    in_stock: int = 0
    name_zh_hant: str = ""
    description_zh_hant: str = ""
    redeem_zh_hant: str = ""

    def name(self, language: Language) -> str:
        return localized(language, self.name_zh, self.name_en, self.name_zh_hant)

    def description(self, language: Language) -> str:
        return localized(
            language, self.description_zh, self.description_en, self.description_zh_hant
        )

    def redeem(self, language: Language) -> str:
        return localized(language, self.redeem_zh, self.redeem_en, self.redeem_zh_hant)

    def quantity_choices(self) -> list[int]:
        """1, 2, 5, 10, never more than stock or the per-order limit."""
        ceiling = min(self.in_stock, self.order_limit)
        return [q for q in (1, 2, 5, 10) if q <= ceiling]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


@dataclass(frozen=True)
class Order:
    id: int
    user_id: int
    sku: str
    quantity: int
    unit_price_minor: int
    total_minor: int
    total_stars: int
    status: OrderStatus
    payment_method: PaymentMethod | None
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None = None
    delivered_at: datetime | None = None
    revealed_at: datetime | None = None
    refunded_at: datetime | None = None
    product_name_zh: str = ""
    product_name_en: str = ""
    notice_message_id: int | None = None
    product_name_zh_hant: str = ""
    reference: str = ""
    """What the buyer and agents call the order (`store.domain.reference`); the id stays
    internal, as it would tell how many orders the shop takes."""

    def product_name(self, language: Language) -> str:
        return localized(
            language, self.product_name_zh, self.product_name_en, self.product_name_zh_hant
        )

    @property
    def has_keys(self) -> bool:
        return self.status in (OrderStatus.PAID, OrderStatus.DELIVERED)

    @property
    def stars_payable(self) -> bool:
        """Whether one Stars invoice can carry this order's total (else: the wallet)."""
        return self.total_stars <= MAX_INVOICE_STARS


@dataclass(frozen=True)
class Reservation:
    order: Order
    product: Product
    balance_minor: int
    existing: bool = False
    """The buyer already held keys of this product: this is that order, shown again."""


@dataclass(frozen=True)
class PreCheckoutVerdict:
    ok: bool
    reason: str | None = None
    """A reason code when refused: not_yours, not_found, not_payable, out_of_stock, mismatch."""


@dataclass(frozen=True)
class PaymentOutcome:
    """What a successful_payment did. `duplicate` is true when the charge was already recorded.

    `refused` names why a charge could not be applied (`mismatch`, `not_found`, `not_yours`,
    `already_paid`, `unknown_payload`); such a charge is refunded (`refund` says how far that got).
    """

    order: Order | None
    duplicate: bool
    delivered: bool
    awaiting_stock: bool = False
    topup_minor: int = 0
    refused: str | None = None
    refund: RefundStatus | None = None


@dataclass(frozen=True)
class RevealedKeys:
    order: Order
    keys: list[str]
    redeem_zh: str
    redeem_en: str
    first_reveal: bool
    redeem_zh_hant: str = ""
    trace_codes: list[str] = field(default_factory=list)
    """Each key's trace code (溯源码), in the order of `keys`; empty for a key without one."""

    def redeem(self, language: Language) -> str:
        return localized(language, self.redeem_zh, self.redeem_en, self.redeem_zh_hant)


class LedgerReason(StrEnum):
    """Why a wallet entry was written: a code, said in the buyer's language when shown."""

    TOPUP = "topup"
    """Stars bought balance: `stars` says how many."""
    PURCHASE = "purchase"
    """An order paid from the wallet: `order_id`."""
    REFUND = "refund"
    """An order's payment back in the wallet: `order_id`."""
    BAD_KEY_REFUND = "bad_key_refund"
    """One bad key of `order_id` refunded by an agent deciding its case."""
    ADMIN_CREDIT = "admin_credit"
    """An admin's credit or correction; `note` holds the admin's own words."""
    LEGACY = "legacy"
    """Written before reasons were codes, in words migration 0005 did not recognise: `note`."""
    # the shop's side of the books (store.domain.ledger): never on a wallet
    STARS_PAYMENT = "stars_payment"
    """An order's Stars came in while it had no stock: they wait in clearing."""
    SALE = "sale"
    """An order's keys sold: suppliers' costs to escrow, the margin unearned."""
    SETTLEMENT = "settlement"
    """A key's after-sales window ended: its escrow is the supplier's, its margin the shop's."""
    REPLACEMENT = "replacement"
    """A bad key replaced: its escrow cancelled, the new key's supplier held its cost."""
    SUPPLIER_CHARGE = "supplier_charge"
    """A confirmed bad key charged to its supplier's deposit."""
    DEPOSIT = "deposit"
    """A supplier's quality deposit (质量保证金) paid in."""
    WITHDRAWAL = "withdrawal"
    """A supplier's deposit paid back."""
    PAYOUT = "payout"
    """A supplier paid what the shop owed (made outside the bot)."""


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    amount_minor: int
    reason: LedgerReason
    created_at: datetime
    order_id: int | None = None
    stars: int | None = None
    note: str | None = None
    order_reference: str | None = None
    """What the buyer calls `order_id`'s order, when it names one."""
    case_id: int | None = None


@dataclass(frozen=True)
class Wallet:
    user_id: int
    balance_minor: int
    recent: list[LedgerEntry] = field(default_factory=list)


@dataclass(frozen=True)
class StockLevel:
    sku: str
    name_en: str
    available: int
    reserved: int
    sold: int
    threshold: int
    bad: int = 0
    """Sold, then found not working: kept with its order, never sold again."""
    returned: int = 0
    """Of the available keys, those back on sale after their order was refunded."""
    frozen: int = 0
    """Held back because their supplier is suspended: not stock until released."""

    @property
    def low(self) -> bool:
        return low_stock(self.available, self.threshold)

    @property
    def state(self) -> StockState:
        return stock_state(self.available, self.threshold)

    @property
    def stocked(self) -> int:
        """Every key the product was given: available + held + sold + found bad."""
        return self.available + self.reserved + self.sold + self.bad


@dataclass(frozen=True)
class StoredUpdate:
    """A Telegram update as the inbox holds it, waiting to be handled."""

    update_id: int
    kind: str
    payload: str
    """Sealed with the key cipher."""
    attempts: int


class RefundStatus(StrEnum):
    PENDING = "pending"
    """Recorded before Telegram is called; a job resumes it after a crash."""
    DONE = "done"
    FAILED = "failed"
    """Telegram refused for good (not "already refunded", which counts as done)."""


class RefundReason(StrEnum):
    BUYER = "buyer"
    AGENT = "agent"
    CASE = "case"
    SECOND_CHARGE = "second"
    """A second payment of an order that was already paid."""
    UNAPPLIED = "unapplied"
    """A charge that names no order of the payer's, or the wrong amount or currency."""
    OUTSIDE = "outside"
    """Refunded on Telegram's side without the shop asking (seen by reconciliation)."""


@dataclass(frozen=True)
class Refund:
    id: int
    charge_id: str
    user_id: int
    order_id: int | None
    case_id: int | None
    reason: RefundReason
    amount: int
    status: RefundStatus
    order_status_before: OrderStatus | None
    attempts: int
    requested_at: datetime


@dataclass(frozen=True)
class Payment:
    """A charge as the shop recorded it."""

    charge_id: str
    user_id: int
    order_id: int | None
    amount: int
    outcome: str | None
    refunded_at: datetime | None


@dataclass(frozen=True)
class StarTransaction:
    """One entry of Telegram's own record of the bot's Stars (getStarTransactions)."""

    id: str
    """For a payment, its telegram_payment_charge_id; a refund carries the id it gives back."""
    amount: int
    date: datetime
    incoming: bool
    """True for a buyer's payment; False for money going back (a refund)."""
    user_id: int | None
    payload: str = ""


# --- after-sales and human support -------------------------------------------------------


class TicketStatus(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class TicketPriority(IntEnum):
    """Lower is served first: bad-key cases, then merchants, then everyone else."""

    BAD_KEY = 0
    MERCHANT = 1
    GENERAL = 2


class CaseReason(StrEnum):
    ALREADY_REDEEMED = "redeemed"
    INVALID = "invalid"
    WRONG_REGION = "region"
    OTHER = "other"


class CaseStatus(StrEnum):
    OPEN = "open"
    REPLACED = "replaced"
    REFUNDED = "refunded"
    DECLINED = "declined"


@dataclass(frozen=True)
class Agent:
    user_id: int
    display_name: str
    on_duty: bool
    capacity: int
    active_ticket_id: int | None
    open_tickets: int = 0
    last_assigned_at: datetime | None = None
    alias: str = ""
    """What buyers call this agent ("07" until they choose one with /alias); `display_name` is
    their Telegram first name, for other agents and the CLI only."""

    @property
    def has_room(self) -> bool:
        return self.on_duty and self.open_tickets < self.capacity


@dataclass(frozen=True)
class Ticket:
    id: int
    user_id: int
    status: TicketStatus
    priority: TicketPriority
    kind: str
    case_id: int | None
    agent_id: int | None
    subject: str
    created_at: datetime
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    waiting_since: datetime | None = None
    closed_at: datetime | None = None
    rating: int | None = None
    queue_message_id: int | None = None


@dataclass(frozen=True)
class QueueStanding:
    """Where a queued ticket stands: its place (1 = next) and the expected wait."""

    ticket: Ticket
    position: int
    expected_wait_seconds: int | None
    agents_on_duty: int


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    sender: str
    author_id: int
    body: str
    media: str | None
    source_chat_id: int | None
    source_message_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Case:
    id: int
    user_id: int
    order_id: int
    card_key_id: int
    reason: CaseReason
    status: CaseStatus
    screenshot: str | None
    decision_note: str | None
    replacement_key_id: int | None
    created_at: datetime
    decided_at: datetime | None = None
    order_reference: str = ""
    """Its order's reference: with the ticket number, the one handle people use for a case."""


@dataclass(frozen=True)
class SupportStats:
    tickets_today: int
    questions_today: int
    contained_today: int
    first_response_median_seconds: float | None
    first_response_p90_seconds: float | None
    breaches_today: int
    ratings: int
    csat_percent: float | None
    """Share of ratings that are 4 or 5."""
    average_rating: float | None

    @property
    def containment_percent(self) -> float | None:
        if not self.questions_today:
            return None
        return 100.0 * self.contained_today / self.questions_today
