"""Categories and products, with live stock counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import card_keys, categories, products
from store.domain.model import Category, KeyStatus, Product

_available = (
    select(func.count())
    .where(and_(card_keys.c.sku == products.c.sku, card_keys.c.status == KeyStatus.AVAILABLE))
    .correlate(products)
    .scalar_subquery()
)


def _product(row: Any) -> Product:
    return Product(
        sku=row.sku,
        category_id=row.category_id,
        name_zh=row.name_zh,
        name_en=row.name_en,
        description_zh=row.description_zh,
        description_en=row.description_en,
        redeem_zh=row.redeem_zh,
        redeem_en=row.redeem_en,
        name_zh_hant=row.name_zh_hant,
        description_zh_hant=row.description_zh_hant,
        redeem_zh_hant=row.redeem_zh_hant,
        price_minor=row.price_minor,
        price_stars=row.price_stars,
        order_limit=row.order_limit,
        low_stock_threshold=row.low_stock_threshold,
        active=row.active,
        position=row.position,
        in_stock=row.in_stock,
    )


def _category_values(category: Category) -> dict[str, object]:
    return {
        "id": category.id,
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "name_zh_hant": category.name_zh_hant,
        "position": category.position,
    }


def _product_values(product: Product) -> dict[str, object]:
    return {
        "sku": product.sku,
        "category_id": product.category_id,
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "description_zh": product.description_zh,
        "description_en": product.description_en,
        "redeem_zh": product.redeem_zh,
        "redeem_en": product.redeem_en,
        "name_zh_hant": product.name_zh_hant,
        "description_zh_hant": product.description_zh_hant,
        "redeem_zh_hant": product.redeem_zh_hant,
        "price_minor": product.price_minor,
        "price_stars": product.price_stars,
        "order_limit": product.order_limit,
        "low_stock_threshold": product.low_stock_threshold,
        "active": product.active,
        "position": product.position,
    }


class SqlCatalogRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def categories(self) -> list[Category]:
        count = (
            select(func.count())
            .where(and_(products.c.category_id == categories.c.id, products.c.active.is_(True)))
            .correlate(categories)
            .scalar_subquery()
        )
        rows = await self._c.execute(
            select(categories, count.label("n")).order_by(categories.c.position, categories.c.id)
        )
        return [
            Category(r.id, r.name_zh, r.name_en, r.position, r.n, r.name_zh_hant)
            for r in rows
            if r.n > 0
        ]

    async def category(self, category_id: str) -> Category | None:
        row = (
            await self._c.execute(select(categories).where(categories.c.id == category_id))
        ).first()
        return (
            Category(row.id, row.name_zh, row.name_en, row.position, 0, row.name_zh_hant)
            if row
            else None
        )

    async def products_in(
        self, category_id: str, offset: int, limit: int
    ) -> tuple[list[Product], int]:
        where = and_(products.c.category_id == category_id, products.c.active.is_(True))
        total = (await self._c.execute(select(func.count()).where(where))).scalar_one()
        rows = await self._c.execute(
            select(products, _available.label("in_stock"))
            .where(where)
            .order_by(products.c.position, products.c.sku)
            .offset(offset)
            .limit(limit)
        )
        return [_product(r) for r in rows], total

    async def product(self, sku: str, *, with_stock: bool = True) -> Product | None:
        """The product; `with_stock=False` skips counting its keys (in_stock is then 0)."""
        stock = _available if with_stock else literal(0)
        row = (
            await self._c.execute(
                select(products, stock.label("in_stock")).where(products.c.sku == sku)
            )
        ).first()
        return _product(row) if row else None

    async def skus(self) -> list[str]:
        """Every product's SKU, in order."""
        return list(
            (await self._c.execute(select(products.c.sku).order_by(products.c.sku))).scalars()
        )

    async def add_category(self, category: Category) -> None:
        await self._c.execute(categories.insert().values(_category_values(category)))

    async def update_category(self, category: Category) -> None:
        await self._c.execute(
            update(categories)
            .where(categories.c.id == category.id)
            .values(_category_values(category))
        )

    async def add_product(self, product: Product) -> None:
        """A new product, its low-stock alert armed."""
        await self._c.execute(
            products.insert().values({**_product_values(product), "low_stock_alerted": False})
        )

    async def update_product(self, product: Product) -> None:
        """Everything the catalog file says of a product (its stock and alert are not in it)."""
        await self._c.execute(
            update(products).where(products.c.sku == product.sku).values(_product_values(product))
        )

    async def set_low_stock_alerted(self, sku: str, alerted: bool) -> bool:
        """Flip the flag; true when this call changed it (so an alert goes out once)."""
        result = await self._c.execute(
            update(products)
            .where(and_(products.c.sku == sku, products.c.low_stock_alerted.is_(not alerted)))
            .values(low_stock_alerted=alerted)
        )
        return result.rowcount == 1
