"""A day's sales as the shop's admins read them: orders, revenue, refunds and top products."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from store.domain.language import localized
from store.domain.model import Language, Order, PaymentMethod
from store.domain.shop_time import ShopTime

TOP_PRODUCTS = 3


@dataclass(frozen=True)
class ProductSales:
    sku: str
    name_zh: str
    name_en: str
    quantity: int
    orders: int
    name_zh_hant: str = ""

    def name(self, language: Language) -> str:
        return localized(language, self.name_zh, self.name_en, self.name_zh_hant)


@dataclass(frozen=True)
class SalesStats:
    orders: int
    """Orders paid since the start (refunded since or not)."""
    revenue_minor: int
    """Paid from wallets, in the shop's currency."""
    revenue_stars: int
    """Paid in Telegram Stars."""
    refunds: int
    """Orders refunded since the start, whenever they were paid."""
    refunded_minor: int
    refunded_stars: int
    top: tuple[ProductSales, ...]
    """The products sold most (by keys), most first."""


def start_of_day(shop_time: ShopTime, now: datetime) -> datetime:
    """Midnight of `now`'s day in the shop's zone, as UTC: where "today" starts for admins."""
    local = shop_time.local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _amounts(orders: list[Order]) -> tuple[int, int]:
    minor = sum(o.total_minor for o in orders if o.payment_method is PaymentMethod.WALLET)
    stars = sum(o.total_stars for o in orders if o.payment_method is PaymentMethod.STARS)
    return minor, stars


def sales_since(orders: Iterable[Order], since: datetime, top: int = TOP_PRODUCTS) -> SalesStats:
    """The figures of these orders paid, or refunded, at `since` or later."""
    seen = list(orders)
    paid = [o for o in seen if o.paid_at is not None and o.paid_at >= since]
    refunded = [o for o in seen if o.refunded_at is not None and o.refunded_at >= since]
    by_sku: dict[str, ProductSales] = {}
    for order in paid:
        was = by_sku.get(order.sku)
        by_sku[order.sku] = ProductSales(
            order.sku,
            order.product_name_zh,
            order.product_name_en,
            (was.quantity if was else 0) + order.quantity,
            (was.orders if was else 0) + 1,
            order.product_name_zh_hant,
        )
    ranked = sorted(by_sku.values(), key=lambda p: (-p.quantity, -p.orders, p.sku))
    revenue_minor, revenue_stars = _amounts(paid)
    refunded_minor, refunded_stars = _amounts(refunded)
    return SalesStats(
        orders=len(paid),
        revenue_minor=revenue_minor,
        revenue_stars=revenue_stars,
        refunds=len(refunded),
        refunded_minor=refunded_minor,
        refunded_stars=refunded_stars,
        top=tuple(ranked[:top]),
    )
