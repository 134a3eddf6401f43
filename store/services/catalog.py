"""Browsing the catalog, and loading it from a catalog file."""

from __future__ import annotations

from dataclasses import dataclass

from store.domain.errors import ProductNotFound
from store.domain.model import Category, Page, Product
from store.domain.money import stars_for
from store.formats.catalog_file import CatalogSpec
from store.services.ports import UnitOfWork

PAGE_SIZE = 8


@dataclass(frozen=True)
class LoadSummary:
    created: int
    updated: int
    unchanged: int


async def list_categories(uow: UnitOfWork) -> list[Category]:
    async with uow.reading():
        return await uow.catalog.categories()


async def list_products(
    uow: UnitOfWork, *, category_id: str, page: int, page_size: int = PAGE_SIZE
) -> tuple[Category, Page[Product]]:
    async with uow.reading():
        category = await uow.catalog.category(category_id)
        if category is None:
            raise ProductNotFound(category_id)
        page = max(page, 0)
        items, total = await uow.catalog.products_in(category_id, page * page_size, page_size)
    pages = max(1, -(-total // page_size))
    if page >= pages:
        raise ProductNotFound(f"{category_id} page {page}")
    return category, Page(items=items, page=page, pages=pages)


async def show_product(uow: UnitOfWork, *, sku: str) -> Product:
    async with uow.reading():
        product = await uow.catalog.product(sku)
    if product is None or not product.active:
        raise ProductNotFound(sku)
    return product


async def load_catalog(
    uow: UnitOfWork, *, spec: CatalogSpec, star_value_minor: int, default_order_limit: int
) -> LoadSummary:
    """Create or update every category and product in the file; loading it twice changes nothing."""
    created = updated = unchanged = 0
    async with uow:
        for c in spec.categories:
            category = Category(c.id, c.name_zh, c.name_en, c.position, 0, c.name_zh_hant)
            existing_category = await uow.catalog.category(c.id)
            if existing_category is None:
                await uow.catalog.add_category(category)
                created += 1
            elif existing_category != category:
                await uow.catalog.update_category(category)
                updated += 1
            else:
                unchanged += 1
        for p in spec.products:
            product = Product(
                sku=p.sku,
                category_id=p.category_id,
                name_zh=p.name_zh,
                name_en=p.name_en,
                description_zh=p.description_zh,
                description_en=p.description_en,
                redeem_zh=p.redeem_zh,
                redeem_en=p.redeem_en,
                name_zh_hant=p.name_zh_hant,
                description_zh_hant=p.description_zh_hant,
                redeem_zh_hant=p.redeem_zh_hant,
                price_minor=p.price_minor,
                price_stars=p.price_stars or stars_for(p.price_minor, star_value_minor),
                order_limit=p.order_limit or default_order_limit,
                low_stock_threshold=p.low_stock_threshold,
                active=p.active,
                position=p.position,
            )
            existing = await uow.catalog.product(p.sku, with_stock=False)
            if existing is None:
                await uow.catalog.add_product(product)
                created += 1
            elif existing != product:
                await uow.catalog.update_product(product)
                updated += 1
            else:
                unchanged += 1
        await uow.commit()
    return LoadSummary(created=created, updated=updated, unchanged=unchanged)
