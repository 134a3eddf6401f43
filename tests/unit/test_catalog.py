"""Browsing the catalog and loading catalog files, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import ProductNotFound
from store.formats.catalog_file import ProductSpec
from store.services.catalog import list_categories, list_products, load_catalog, show_product
from tests.conftest import FakeClock
from tests.factories import catalog, category, product, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()


async def load(db: FakeDatabase, *products: ProductSpec, **options: int) -> tuple[int, int, int]:
    summary = await load_catalog(
        FakeUnitOfWork(db),
        spec=catalog(*products, categories=[category(), category("gift", position=1)]),
        star_value_minor=options.get("star_value_minor", 10),
        default_order_limit=options.get("default_order_limit", 10),
    )
    return summary.created, summary.updated, summary.unchanged


async def test_loading_a_catalog_creates_its_categories_and_products() -> None:
    db = FakeDatabase()
    assert await load(db, product("A"), product("B")) == (4, 0, 0)
    assert sorted(db.tables.products) == ["A", "B"] and sorted(db.tables.categories) == [
        "game",
        "gift",
    ]


async def test_loading_the_same_catalog_twice_changes_nothing() -> None:
    db = FakeDatabase()
    await load(db, product("A"))
    assert await load(db, product("A")) == (0, 0, 3)


async def test_loading_a_changed_product_updates_only_that_product() -> None:
    db = FakeDatabase()
    await load(db, product("A"), product("B"))
    assert await load(db, product("A", price_minor=5000), product("B")) == (0, 1, 3)
    assert db.tables.products["A"].product.price_minor == 5000


async def test_a_product_without_a_stars_price_or_limit_takes_the_shops_defaults() -> None:
    db = FakeDatabase()
    await load(
        db,
        product("A", price_stars=0, order_limit=0, price_minor=4800),
        star_value_minor=10,
        default_order_limit=3,
    )
    loaded = db.tables.products["A"].product
    assert (loaded.price_stars, loaded.order_limit) == (480, 3)


async def test_a_category_is_listed_only_while_it_has_an_active_product() -> None:
    db = FakeDatabase()
    await load(db, product("A"), product("B", category_id="gift", active=False))
    uow = FakeUnitOfWork(db)
    assert [(c.id, c.product_count) for c in await list_categories(uow)] == [("game", 1)]
    assert uow.opened == ["read"] and not uow.committed


async def test_products_come_a_page_at_a_time_with_their_stock(clock: FakeClock) -> None:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, sku="A", stock=3)
    await load(db, product("A"), product("B", position=1), product("C", position=2))
    category_, page = await list_products(
        FakeUnitOfWork(db), category_id="game", page=0, page_size=2
    )
    assert category_.id == "game" and (page.page, page.pages, page.has_next) == (0, 2, True)
    assert [(p.sku, p.in_stock) for p in page.items] == [("A", 3), ("B", 0)]
    _, last = await list_products(FakeUnitOfWork(db), category_id="game", page=1, page_size=2)
    assert [p.sku for p in last.items] == ["C"] and not last.has_next


async def test_a_page_past_the_end_or_an_unknown_category_is_not_found() -> None:
    db = FakeDatabase()
    await load(db, product("A"))
    with pytest.raises(ProductNotFound):
        await list_products(FakeUnitOfWork(db), category_id="game", page=1)
    with pytest.raises(ProductNotFound):
        await list_products(FakeUnitOfWork(db), category_id="films", page=0)


async def test_an_inactive_or_unknown_product_is_not_shown() -> None:
    db = FakeDatabase()
    await load(db, product("A"), product("B", active=False))
    assert (await show_product(FakeUnitOfWork(db), sku="A")).sku == "A"
    for sku in ("B", "C"):
        with pytest.raises(ProductNotFound):
            await show_product(FakeUnitOfWork(db), sku=sku)
