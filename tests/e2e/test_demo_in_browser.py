"""A person opens the demo page in Chromium, buys a key with simulated Stars and sees it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from bot.app import KamibotApp
from bot.demo import DEMO_USERS, demo_environment, stock_demo_shop
from config.settings import load_settings
from sandbox import Sandbox

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[2] / "artifacts"


@pytest.fixture
async def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sandbox]:
    """What `make demo` runs: the demo catalog and stock, the sandbox, the aiogram runtime."""
    monkeypatch.chdir(tmp_path)  # the demo keeps its database and secret under ./data
    settings = load_settings(demo_environment({}), env_file=None)
    await stock_demo_shop(settings)
    sandbox = Sandbox(settings.token(), users=DEMO_USERS)
    url = await sandbox.start()
    app = KamibotApp(settings.model_copy(update={"TELEGRAM_API_BASE": url}), with_scheduler=False)
    await app.start()
    yield sandbox
    await app.stop()
    await sandbox.stop()


async def click(page: Page, text: str) -> None:
    """Press the newest inline button whose whole label ends with `text`."""
    label = re.compile(re.escape(text) + "$")
    await page.get_by_test_id("inline-button").filter(has_text=label).last.click()


async def test_a_person_buys_a_demo_key_with_simulated_stars_and_sees_it(
    browser: Browser, demo: Sandbox
) -> None:
    page = await browser.new_page(viewport={"width": 900, "height": 1100})
    await page.goto(demo.base_url + "/#user=1003")
    await page.get_by_test_id("start-button").click()
    await expect(page.get_by_test_id("message").filter(has_text="welcome")).to_be_visible()
    await click(page, "Shop")
    await click(page, "Game cards")
    await click(page, "Steam Wallet card ¥50 · ¥48.00")
    await expect(page.get_by_test_id("message").filter(has_text="How to redeem")).to_be_visible()
    await click(page, "Buy ×1 · ¥48.00")
    await expect(
        page.get_by_test_id("message").filter(has_text="Your keys are held")
    ).to_be_visible()
    await click(page, "Pay 480 Stars")
    await page.get_by_test_id("pay-button").last.click()
    await expect(page.get_by_test_id("invoice-sheet-amount")).to_have_text("⭐ 480")
    await page.get_by_test_id("invoice-sheet-pay").click()
    await expect(page.get_by_test_id("message").filter(has_text="ready for order")).to_be_visible()
    await click(page, "Show keys")
    keys = page.get_by_test_id("message").filter(has_text="Tap a key to copy it.")
    key = keys.locator("code").first
    await expect(key).to_contain_text("STEAM-")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "demo-purchase.png"), full_page=True)
    assert (ARTIFACTS / "demo-purchase.png").stat().st_size > 10_000
    await page.close()
