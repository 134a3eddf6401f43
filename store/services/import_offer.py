"""Offering a refused key file's good lines, and taking that offer once."""

from __future__ import annotations

from datetime import datetime

from store.domain.import_offer import (
    IMPORT_OFFER_LIFETIME,
    ImportOffer,
    ImportOfferRefused,
    OfferRefusal,
    offer_refusal,
)
from store.domain.supplier import HOUSE_SUPPLIER
from store.services.ports import UnitOfWork


async def offer_good_lines(
    uow: UnitOfWork,
    *,
    admin_id: int,
    sku: str,
    file_id: str,
    file_name: str,
    acceptable: int,
    now: datetime,
    supplier_id: str = HOUSE_SUPPLIER,
) -> int:
    """Keep the offer (the file by its file_id, not its keys); the id its button carries."""
    async with uow:
        offer_id = await uow.import_offers.add(
            admin_id=admin_id,
            sku=sku,
            file_id=file_id,
            file_name=file_name,
            acceptable=acceptable,
            offered_at=now,
            expires_at=now + IMPORT_OFFER_LIFETIME,
            supplier_id=supplier_id,
        )
        await uow.commit()
    return offer_id


async def take_import_offer(
    uow: UnitOfWork, *, offer_id: int, admin_id: int, now: datetime
) -> ImportOffer:
    """The offer, once, to the admin it was made to, before it expires; else
    `ImportOfferRefused` says why. Two presses at once: one takes it, the other is refused."""
    async with uow:
        offer = await uow.import_offers.get(offer_id)
        refusal = offer_refusal(offer, admin_id, now)
        if refusal is not None:
            raise ImportOfferRefused(refusal)
        assert offer is not None
        if not await uow.import_offers.take(offer_id, now):
            raise ImportOfferRefused(OfferRefusal.TAKEN)
        await uow.commit()
    return offer
