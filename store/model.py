"""Domain types: plain frozen dataclasses that services return; never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Language(StrEnum):
    ZH = "zh"
    EN = "en"

    @classmethod
    def from_telegram(cls, language_code: str | None) -> Language:
        """Telegram's language_code starting with zh means Simplified Chinese; all else English."""
        return cls.ZH if (language_code or "").lower().startswith("zh") else cls.EN


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    AWAITING_STOCK = "awaiting_stock"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


class KeyStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    SOLD = "sold"


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

    def name(self, language: Language) -> str:
        return self.name_zh if language is Language.ZH else self.name_en


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

    def name(self, language: Language) -> str:
        return self.name_zh if language is Language.ZH else self.name_en

    def description(self, language: Language) -> str:
        return self.description_zh if language is Language.ZH else self.description_en

    def redeem(self, language: Language) -> str:
        return self.redeem_zh if language is Language.ZH else self.redeem_en

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

    def product_name(self, language: Language) -> str:
        return self.product_name_zh if language is Language.ZH else self.product_name_en

    @property
    def has_keys(self) -> bool:
        return self.status in (OrderStatus.PAID, OrderStatus.DELIVERED)


@dataclass(frozen=True)
class Reservation:
    order: Order
    product: Product
    balance_minor: int


@dataclass(frozen=True)
class PreCheckoutVerdict:
    ok: bool
    reason: str | None = None
    """A reason code when refused: not_yours, not_found, not_payable, out_of_stock, mismatch."""


@dataclass(frozen=True)
class PaymentOutcome:
    """What a successful_payment did. `duplicate` is true when the charge was already recorded."""

    order: Order | None
    duplicate: bool
    delivered: bool
    awaiting_stock: bool = False
    topup_minor: int = 0


@dataclass(frozen=True)
class RevealedKeys:
    order: Order
    keys: list[str]
    redeem_zh: str
    redeem_en: str
    first_reveal: bool

    def redeem(self, language: Language) -> str:
        return self.redeem_zh if language is Language.ZH else self.redeem_en


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    amount_minor: int
    reason: str
    created_at: datetime


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

    @property
    def low(self) -> bool:
        return self.available < self.threshold


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    chat_id: int
    order_id: int | None
    body: str
    attempts: int


class OutboxKind(StrEnum):
    DELIVERY = "delivery"
    AWAITING_STOCK = "awaiting_stock"
    ADMIN_ALERT = "admin_alert"
    LOW_STOCK = "low_stock"
    RESERVATION_EXPIRED = "reservation_expired"
