"""A refused key file's offer to import only its good lines, kept until it is taken or expires.

The offer names the file by its Telegram file_id, never by its keys: pressing the button reads
the file again, so no key is stored outside the encrypted stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from store.domain.errors import ShopError
from store.domain.supplier import HOUSE_SUPPLIER

IMPORT_OFFER_LIFETIME = timedelta(hours=1)
"""How long an offer stands: the admin decides soon after reading the refusal."""


class OfferRefusal(StrEnum):
    UNKNOWN = "unknown"
    """No such offer (a forged or mistyped button)."""
    NOT_YOURS = "not_yours"
    TAKEN = "taken"
    EXPIRED = "expired"


class ImportOfferRefused(ShopError):
    def __init__(self, reason: OfferRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class ImportOffer:
    id: int
    admin_id: int
    sku: str
    file_id: str
    file_name: str
    acceptable: int
    """The good lines the refused file held when the offer was made."""
    offered_at: datetime
    expires_at: datetime
    taken_at: datetime | None = None
    supplier_id: str = HOUSE_SUPPLIER
    """Whose keys the file holds, as its caption named it."""


def offer_refusal(offer: ImportOffer | None, admin_id: int, now: datetime) -> OfferRefusal | None:
    """Why this admin may not take the offer now; None when they may."""
    if offer is None:
        return OfferRefusal.UNKNOWN
    if offer.admin_id != admin_id:
        return OfferRefusal.NOT_YOURS
    if offer.taken_at is not None:
        return OfferRefusal.TAKEN
    if now >= offer.expires_at:
        return OfferRefusal.EXPIRED
    return None
