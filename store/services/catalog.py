"""Browsing the catalog, and loading it from a catalog file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.adapters.unit_of_work import UnitOfWork
from store.domain.errors import ProductNotFound
from store.domain.model import Category, Page, Product
from store.domain.money import stars_for
from store.formats.catalog_file import CatalogSpec

PAGE_SIZE = 8


@dataclass(frozen=True)
class LoadSummary:
    created: int
    updated: int
    unchanged: int


async def list_categories(uow: UnitOfWork) -> list[Category]:
    async with uow:
        return await uow.catalog.categories()


async def list_products(
    uow: UnitOfWork, *, category_id: str, page: int, page_size: int = PAGE_SIZE
) -> tuple[Category, Page[Product]]:
    async with uow:
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
    async with uow:
        product = await uow.catalog.product(sku)
    if product is None or not product.active:
        raise ProductNotFound(sku)
    return product


async def load_catalog(
    uow: UnitOfWork, *, spec: CatalogSpec, star_value_minor: int, default_order_limit: int
) -> LoadSummary:
    """Create or update every category and product in the file; loading it twice changes nothing."""
    created = updated = unchanged = 0

    def count(existing: dict[str, Any] | None, wanted: dict[str, Any]) -> str:
        nonlocal created, updated, unchanged
        if existing is None:
            created += 1
            return "insert"
        if all(existing.get(k) == v for k, v in wanted.items()):
            unchanged += 1
            return "keep"
        updated += 1
        return "update"

    async with uow:
        for c in spec.categories:
            wanted = {"name_zh": c.name_zh, "name_en": c.name_en, "position": c.position}
            verdict = count(await uow.catalog.category_row(c.id), wanted)
            if verdict == "insert":
                await uow.catalog.insert_category({"id": c.id, **wanted})
            elif verdict == "update":
                await uow.catalog.update_category(c.id, wanted)
        for p in spec.products:
            wanted = {
                "category_id": p.category_id,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "description_zh": p.description_zh,
                "description_en": p.description_en,
                "redeem_zh": p.redeem_zh,
                "redeem_en": p.redeem_en,
                "price_minor": p.price_minor,
                "price_stars": p.price_stars or stars_for(p.price_minor, star_value_minor),
                "order_limit": p.order_limit or default_order_limit,
                "low_stock_threshold": p.low_stock_threshold,
                "active": p.active,
                "position": p.position,
            }
            verdict = count(await uow.catalog.product_row(p.sku), wanted)
            if verdict == "insert":
                await uow.catalog.insert_product(
                    {"sku": p.sku, "low_stock_alerted": False, **wanted}
                )
            elif verdict == "update":
                await uow.catalog.update_product(p.sku, wanted)
        await uow.commit()
    return LoadSummary(created=created, updated=updated, unchanged=unchanged)
