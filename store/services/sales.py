"""The shop's figures for admins: a day's sales next to its support."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.domain.model import SupportStats
from store.domain.sales import SalesStats, sales_since
from store.services.ports import UnitOfWork
from store.services.question import support_stats


@dataclass(frozen=True)
class ShopStats:
    sales: SalesStats
    support: SupportStats


async def shop_stats(uow: UnitOfWork, *, since: datetime) -> ShopStats:
    """Sales and support since `since` (the start of the shop's day, for /stats)."""
    async with uow.reading():
        orders = await uow.orders.paid_or_refunded_since(since)
    return ShopStats(sales_since(orders, since), await support_stats(uow, since=since))
