"""Offers to import a refused key file's good lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import import_offers
from store.domain.clock import as_utc, as_utc_or_none
from store.domain.import_offer import ImportOffer
from store.domain.supplier import HOUSE_SUPPLIER


def _offer(row: Any) -> ImportOffer:
    return ImportOffer(
        id=row.id,
        admin_id=row.admin_id,
        sku=row.sku,
        file_id=row.file_id,
        file_name=row.file_name,
        acceptable=row.acceptable,
        offered_at=as_utc(row.offered_at),
        expires_at=as_utc(row.expires_at),
        taken_at=as_utc_or_none(row.taken_at),
        supplier_id=row.supplier_id,
    )


class SqlImportOfferRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

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
        result = await self._c.execute(
            insert(import_offers)
            .values(
                admin_id=admin_id,
                sku=sku,
                file_id=file_id,
                file_name=file_name,
                acceptable=acceptable,
                offered_at=offered_at,
                expires_at=expires_at,
                supplier_id=supplier_id,
            )
            .returning(import_offers.c.id)
        )
        return int(result.scalar_one())

    async def get(self, offer_id: int) -> ImportOffer | None:
        row = (
            await self._c.execute(select(import_offers).where(import_offers.c.id == offer_id))
        ).first()
        return _offer(row) if row else None

    async def take(self, offer_id: int, now: datetime) -> bool:
        """Conditional on its not being taken: of two presses at once, one wins."""
        result = await self._c.execute(
            update(import_offers)
            .where(and_(import_offers.c.id == offer_id, import_offers.c.taken_at.is_(None)))
            .values(taken_at=now)
        )
        return result.rowcount == 1
