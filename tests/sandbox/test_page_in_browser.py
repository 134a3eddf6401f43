"""A person in a browser chats with a real aiogram bot through the sandbox page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Dispatcher
from playwright.async_api import Browser, Page, expect

from sandbox import Sandbox

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(browser: Browser, sandbox: Sandbox, aiogram_bot: Dispatcher) -> AsyncIterator[Page]:
    opened = await browser.new_page()
    await opened.goto(sandbox.base_url + "/#user=1001")
    yield opened
    await opened.close()


async def test_a_person_starts_the_bot_presses_buy_and_pays(page: Page, sandbox: Sandbox) -> None:
    await expect(page.get_by_test_id("sandbox-banner")).to_contain_text("not Telegram")
    await page.get_by_test_id("start-button").click()
    greeting = page.get_by_test_id("message").filter(has_text="Hello")
    await expect(greeting.locator("b")).to_have_text("buyer")

    await page.get_by_test_id("inline-button").filter(has_text="Buy").click()
    await expect(page.get_by_test_id("callback-toast")).to_have_text("Reserved")
    await page.get_by_test_id("pay-button").click()
    await expect(page.get_by_test_id("payment-notice")).to_contain_text("⭐5")
    await expect(page.get_by_test_id("message").filter(has_text="Paid stx")).to_be_visible()
    await expect(page.get_by_test_id("invoice-paid")).to_be_visible()


async def test_a_person_types_and_uploads_a_file_with_a_caption(
    page: Page, sandbox: Sandbox
) -> None:
    await page.get_by_test_id("composer-input").fill("a <b> & c")
    await page.get_by_test_id("composer-input").press("Enter")
    await expect(page.get_by_test_id("message").filter(has_text="echo: a <b> & c")).to_be_visible()

    await page.get_by_test_id("file-input").set_input_files(
        {"name": "stock.csv", "mimeType": "text/csv", "buffer": b"sku\n"}
    )
    await page.get_by_test_id("file-caption").fill("/import SKU")
    await page.get_by_test_id("file-send").click()
    await expect(page.get_by_test_id("document-link")).to_have_text("stock.csv")
    assert sandbox.state.chats[1001].messages[3].caption == "/import SKU"


async def test_a_person_switches_to_a_new_user_with_a_language(
    page: Page, sandbox: Sandbox
) -> None:
    await page.get_by_test_id("user-id-input").fill("7")
    await page.get_by_test_id("user-name-input").fill("Ana")
    await page.get_by_test_id("user-language-input").fill("es")
    await page.get_by_test_id("user-add").click()
    await expect(page.get_by_test_id("user-select")).to_have_value("7")
    await page.get_by_test_id("start-button").click()
    await expect(page.get_by_test_id("message").filter(has_text="Hello")).to_be_visible()
    assert sandbox.user(7).profile.language_code == "es"
