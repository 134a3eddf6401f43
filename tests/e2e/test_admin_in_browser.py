"""The admin on the demo page in Chromium: stock that adds up, today's sales after a purchase,
and card keys imported from a file sent with a caption."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from bot.demo import DEMO_ADMIN, DEMO_STOCK
from sandbox import Sandbox
from tests.e2e.test_demo_in_browser import demo  # noqa: F401  (the demo fixture)
from tests.e2e.test_journeys_in_browser import (
    ENGLISH_BUYER,
    buy_and_pay,
    message,
    say,
    screenshot,
)

pytestmark = pytest.mark.browser
DEMO_KEYS = Path(__file__).parents[2] / "demo_keys.txt"
STOCK_LINE = re.compile(
    r"(?P<sku>[A-Z0-9-]+) (?P<name>[^\n]+)\n\s*(?P<stocked>\d+) stocked = (?P<available>\d+) "
    r"available \+ (?P<held>\d+) held \+ (?P<sold>\d+) sold \+ (?P<bad>\d+) found bad"
)


@pytest.fixture
async def pages(browser: Browser, demo: Sandbox) -> AsyncIterator[tuple[Page, Page]]:  # noqa: F811
    """An English buyer's page and the admin's page, side by side."""
    buyer = await browser.new_page(viewport={"width": 900, "height": 1100})
    admin = await browser.new_page(viewport={"width": 900, "height": 1300})
    await buyer.goto(demo.base_url + f"/#user={ENGLISH_BUYER}")
    await admin.goto(demo.base_url + f"/#user={DEMO_ADMIN}")
    yield buyer, admin
    await buyer.close()
    await admin.close()


async def stock_lines(admin: Page) -> dict[str, dict[str, int]]:
    """Send /stock and read the newest answer: each product's figures, by SKU."""
    before = await message(admin, "📊 Stock").count()
    await say(admin, "/stock")
    answer = message(admin, "📊 Stock")
    await expect(answer).to_have_count(before + 1)
    text = await answer.last.inner_text()
    lines = {
        found["sku"]: {k: int(v) for k, v in found.groupdict().items() if v.isdigit()}
        for found in STOCK_LINE.finditer(text)
    }
    assert len(lines) == 5, text  # the demo catalog's five products
    for sku, figures in lines.items():
        parts = figures["available"] + figures["held"] + figures["sold"] + figures["bad"]
        assert figures["stocked"] == parts, (sku, figures)
    return lines


def newest(page: Page, text: str) -> Locator:
    return message(page, text).last


async def test_the_admin_sees_stock_and_todays_sales_and_imports_keys_from_a_file(
    pages: tuple[Page, Page],
) -> None:
    buyer, admin = pages
    await admin.get_by_test_id("start-button").click()
    await expect(message(admin, "welcome")).to_be_visible()
    stock = await stock_lines(admin)
    assert all(
        figures == {"stocked": DEMO_STOCK, "available": DEMO_STOCK, "held": 0, "sold": 0, "bad": 0}
        for figures in stock.values()
    ), stock

    await buy_and_pay(buyer)  # one Steam card, 480 Stars

    stock = await stock_lines(admin)
    assert stock["STEAM-CN-50"] == {
        "stocked": DEMO_STOCK,
        "available": DEMO_STOCK - 1,
        "held": 0,
        "sold": 1,
        "bad": 0,
    }
    await expect(newest(admin, "📊 Stock")).to_contain_text(
        f"STEAM-CN-50 Steam Wallet card ¥50\n    {DEMO_STOCK} stocked = {DEMO_STOCK - 1} available"
    )

    await say(admin, "/stats")
    sales = newest(admin, "Sales today")
    await expect(sales).to_contain_text("Orders: 1")
    await expect(sales).to_contain_text("Revenue: 480 ⭐")
    await expect(sales).to_contain_text("Refunds: 0")
    await expect(sales).to_contain_text("Steam Wallet card ¥50 ×1 (orders: 1)")
    await screenshot(admin, "admin-stock-and-stats.png")

    await admin.get_by_test_id("file-input").set_input_files(str(DEMO_KEYS))
    await expect(admin.get_by_test_id("file-name")).to_have_text("demo_keys.txt")
    await admin.get_by_test_id("file-caption").fill("/import WIN11-PRO")
    await admin.get_by_test_id("file-send").click()
    sent = admin.get_by_test_id("message").filter(has=admin.get_by_test_id("document-link"))
    await expect(sent).to_contain_text("demo_keys.txt")
    await expect(sent).to_contain_text("/import WIN11-PRO")
    imported = len(DEMO_KEYS.read_text().split())
    await expect(message(admin, f"✅ Imported {imported} keys into WIN11-PRO.")).to_have_count(1)

    stock = await stock_lines(admin)
    assert stock["WIN11-PRO"]["stocked"] == DEMO_STOCK + imported, stock
    assert stock["WIN11-PRO"]["available"] == DEMO_STOCK + imported, stock
    await expect(newest(admin, "📊 Stock")).to_contain_text(
        f"{DEMO_STOCK + imported} stocked = {DEMO_STOCK + imported} available"
    )
    await screenshot(admin, "admin-import.png")
