"""Suppliers: who provides a batch of keys, and answers for it (货源)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from store.domain.errors import ShopError

HOUSE_SUPPLIER = "house"
"""The supplier of stock imported before suppliers were recorded, and of a shop's own keys."""
SUPPLIER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
NAME_LENGTH = 64
CONTACT_LENGTH = 128


class SupplierStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    """Cut off: its unsold stock is frozen and it puts nothing new on sale."""


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    """The shop's own name for it: admins only."""
    public_name: str
    """What a buyer tracing a key reads."""
    contact: str
    public_key: bytes | None
    """A raw 32-byte Ed25519 key: when set, every batch must come with its signed manifest."""
    status: SupplierStatus
    created_at: datetime


@dataclass(frozen=True)
class SupplierEvent:
    """A change of a supplier's standing, kept for good: what, why, and who."""

    supplier_id: str
    status: SupplierStatus
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class SupplierStock:
    """One product's keys from one supplier, by state."""

    sku: str
    available: int
    held: int
    sold: int
    bad: int
    frozen: int = 0


class SellOrder(StrEnum):
    """Which supplier's keys of a product go first (setting SELL_ORDER)."""

    OLDEST_BATCH = "oldest_batch"
    """The batch imported first sells first, whoever supplied it (a refunded key keeps its
    batch, so it goes back to the front)."""
    CHEAPEST_COST = "cheapest_cost"
    """The batch with the lowest cost per key first (no cost recorded counts as 0), then the
    oldest."""


@dataclass(frozen=True)
class SupplierRules:
    """The standing rules of issue 9 §2, from the SUPPLIER_* and SELL_ORDER settings."""

    window_days: int = 30
    """The rolling window the invalid rate is taken over."""
    max_invalid_rate: float = 0.05
    """Confirmed bad keys over keys sold in the window above which a supplier is suspended."""
    min_sample: int = 20
    """Keys sold in the window before the rate counts at all."""
    min_deposit_minor: int = 0
    """A supplier's deposit below this puts no new batch on sale (the house is exempt)."""
    sell_order: SellOrder = SellOrder.OLDEST_BATCH

    def window_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.window_days)


@dataclass(frozen=True)
class SupplierStanding:
    """A supplier's record in the window: keys sold, and of them those confirmed bad."""

    sold: int
    bad: int

    @property
    def invalid_rate(self) -> float | None:
        """Bad over sold, or None before anything was sold."""
        return self.bad / self.sold if self.sold else None


@dataclass(frozen=True)
class Suspension:
    """A supplier just suspended: why, and how many of its keys were frozen."""

    supplier_id: str
    reason: str
    frozen: int


def invalid_rate_crossed(standing: SupplierStanding, rules: SupplierRules) -> bool:
    """Whether the record suspends the supplier: enough sales, and a rate above the ceiling."""
    rate = standing.invalid_rate
    return standing.sold >= rules.min_sample and rate is not None and rate > rules.max_invalid_rate


def invalid_rate_reason(standing: SupplierStanding, rules: SupplierRules) -> str:
    return (
        f"invalid rate {standing.bad}/{standing.sold} ({standing.invalid_rate or 0:.1%}) over "
        f"{rules.window_days} days passed {rules.max_invalid_rate:.1%}"
    )


def resale_reason(batch: str, lines: int) -> str:
    """一票否决: why a supplier re-importing keys this shop already sold is suspended."""
    return f"resale attempt: {lines} key(s) of {batch} were already sold in this shop"


def answers_automatically(supplier_id: str) -> bool:
    """Whether the rules suspend the supplier on their own. The house is the shop itself: a
    slip of its own (a sold key imported again) is refused, not punished by freezing the
    shop's whole stock; an admin may still suspend it by hand."""
    return supplier_id != HOUSE_SUPPLIER


def deposit_sufficient(supplier_id: str, deposit_minor: int, rules: SupplierRules) -> bool:
    """Whether a supplier's deposit lets its new batches go on sale (the house needs none)."""
    return supplier_id == HOUSE_SUPPLIER or deposit_minor >= rules.min_deposit_minor


class SupplierRefused(ShopError):
    """A supplier that cannot be added or used as asked, with the reason in words."""


class UnknownSupplier(SupplierRefused):
    """An import names a supplier the shop does not know."""


class SupplierSuspended(SupplierRefused):
    """An import names a suspended supplier: it puts nothing on sale."""


def supplier_id(text: str) -> str:
    """A supplier id as typed, checked: lower case letters, digits, _ and -, 1-32 characters."""
    if not SUPPLIER_ID.match(text):
        raise SupplierRefused(f"supplier id {text!r}: use 1-32 of a-z, 0-9, _ and -")
    return text


def ed25519_public_key(text: str) -> bytes:
    """A supplier's Ed25519 public key, written as 64 hex digits or as base64 of 32 bytes."""
    cleaned = text.strip()
    try:
        raw = (
            bytes.fromhex(cleaned)
            if len(cleaned) == 64
            else base64.b64decode(cleaned, validate=True)
        )
    except (ValueError, binascii.Error):
        raise SupplierRefused(
            "the public key must be 64 hex digits or base64 of 32 bytes"
        ) from None
    if len(raw) != 32:
        raise SupplierRefused(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
    return raw
