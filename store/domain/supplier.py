"""Suppliers: who provides a batch of keys, and answers for it (货源)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
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


class SupplierRefused(ShopError):
    """A supplier that cannot be added or used as asked, with the reason in words."""


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
