"""The journeys issue 8 fixed, checked in Chromium on the demo page: one order message through
its states, a bad-key screenshot sent as a photo, leaving the queue, and the agent's alias."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from bot.demo import DEMO_AGENT
from sandbox import Sandbox
from tests.e2e.test_demo_in_browser import ARTIFACTS, demo  # noqa: F401  (the demo fixture)
from tests.sandbox.test_page_in_browser import png

pytestmark = pytest.mark.browser
CHINESE_BUYER = 1001  # 小李, zh-hans
ENGLISH_BUYER = 1003  # Alex, en


@pytest.fixture
async def pages(browser: Browser, demo: Sandbox) -> AsyncIterator[tuple[Page, Page]]:  # noqa: F811
    """A Chinese buyer's page and the agent's page, side by side."""
    buyer = await browser.new_page(viewport={"width": 700, "height": 1000})
    agent = await browser.new_page(viewport={"width": 700, "height": 1000})
    await buyer.goto(demo.base_url + f"/#user={CHINESE_BUYER}")
    await agent.goto(demo.base_url + f"/#user={DEMO_AGENT}")
    yield buyer, agent
    await buyer.close()
    await agent.close()


@pytest.fixture
async def alex(browser: Browser, demo: Sandbox) -> AsyncIterator[Page]:  # noqa: F811
    page = await browser.new_page(viewport={"width": 900, "height": 1100})
    await page.goto(demo.base_url + f"/#user={ENGLISH_BUYER}")
    yield page
    await page.close()


def buttons(scope: Page | Locator, text: str) -> Locator:
    """The inline buttons in `scope` whose whole label ends with `text`."""
    return scope.get_by_test_id("inline-button").filter(has_text=re.compile(re.escape(text) + "$"))


async def click(page: Page, text: str) -> None:
    """Press the newest inline button whose whole label ends with `text`."""
    await buttons(page, text).last.click()


def message(page: Page, text: str) -> Locator:
    return page.get_by_test_id("message").filter(has_text=text)


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("composer-input").fill(text)
    await page.get_by_test_id("composer-send").click()


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


async def open_product(page: Page) -> None:
    await click(page, "Shop")
    await click(page, "Game cards")
    await click(page, "Steam Wallet card ¥50 · ¥48.00")
    await expect(message(page, "How to redeem").last).to_be_visible()


async def buy_and_pay(page: Page) -> Locator:
    """Buy one Steam card, check its held summary, pay it in Stars; the summary is returned."""
    await page.get_by_test_id("start-button").click()
    await expect(message(page, "welcome")).to_be_visible()
    await open_product(page)
    await click(page, "Buy ×1 · ¥48.00")
    held = message(page, "Your keys are held")
    await expect(held).to_have_count(1)
    message_id = await held.get_attribute("data-message-id")
    summary = page.locator(f'[data-testid="message"][data-message-id="{message_id}"]')
    await expect(buttons(summary, "Pay 480 Stars")).to_have_count(1)
    await expect(buttons(summary, "Cancel order")).to_have_count(1)
    await expect(buttons(summary, "Show keys")).to_have_count(0)

    await click(page, "Pay 480 Stars")
    await page.get_by_test_id("pay-button").last.click()
    await expect(page.get_by_test_id("invoice-sheet-amount")).to_have_text("⭐ 480")
    await page.get_by_test_id("invoice-sheet-pay").click()
    await expect(summary).to_contain_text("Your key is ready for order")
    await expect(summary).to_contain_text("Paid 480 ⭐")
    return summary


async def test_one_order_message_goes_from_held_to_ready_and_another_is_cancelled(
    alex: Page,
) -> None:
    summary = await buy_and_pay(alex)
    await expect(summary).not_to_contain_text("held")
    await expect(buttons(summary, "Pay 480 Stars")).to_have_count(0)
    await expect(buttons(summary, "Cancel order")).to_have_count(0)
    await expect(buttons(summary, "Show keys")).to_have_count(1)
    await expect(message(alex, "ready for order")).to_have_count(1)  # one status message

    await say(alex, "/start")
    await open_product(alex)
    await click(alex, "Buy ×1 · ¥48.00")
    second = message(alex, "Your keys are held")
    await expect(second).to_have_count(1)
    second_id = await second.get_attribute("data-message-id")
    assert second_id != await summary.get_attribute("data-message-id")
    cancelled = alex.locator(f'[data-testid="message"][data-message-id="{second_id}"]')
    await buttons(cancelled, "Cancel order").click()
    await expect(cancelled).to_contain_text("is cancelled")
    await expect(cancelled).to_contain_text("The keys held for it went back on sale.")
    await expect(cancelled).not_to_contain_text("expired")
    await expect(buttons(cancelled, "Order again")).to_have_count(1)
    await expect(buttons(cancelled, "Pay 480 Stars")).to_have_count(0)
    await expect(buttons(cancelled, "Cancel order")).to_have_count(0)
    await expect(summary).to_contain_text("Your key is ready for order")  # the first is untouched
    await screenshot(alex, "journey-order-states.png")


async def test_a_buyer_reports_a_bad_key_with_a_photo_and_the_case_opens(
    alex: Page,
    demo: Sandbox,  # noqa: F811
) -> None:
    await buy_and_pay(alex)
    await click(alex, "Show keys")
    keys = message(alex, "Tap a key to copy it.")
    await expect(keys.locator("code").first).to_contain_text("STEAM-")
    await buttons(keys.last, "My key doesn't work").click()
    await click(alex, "Invalid key")
    await expect(message(alex, "Send a screenshot if you have one")).to_be_visible()

    await alex.get_by_test_id("file-input").set_input_files(
        {"name": "error.png", "mimeType": "image/png", "buffer": png(800, 400, (200, 60, 60))}
    )
    await alex.get_by_test_id("file-caption").fill("the store says invalid code")
    await alex.get_by_test_id("photo-send").click()
    photo = alex.get_by_test_id("message").filter(has=alex.get_by_test_id("photo"))
    await expect(photo).to_contain_text("the store says invalid code")
    await expect(message(alex, "ase #")).to_have_count(1)  # "Case #…" or "replaced (case #…)"
    await expect(alex.get_by_test_id("message-list")).not_to_contain_text("admins only")
    await expect(alex.get_by_test_id("message-list")).not_to_contain_text("nothing is waiting")
    [sent] = [m for m in demo.state.chats[ENGLISH_BUYER].messages.values() if m.photo]
    assert sent.caption == "the store says invalid code"
    await screenshot(alex, "journey-bad-key-photo.png")


async def test_a_buyer_leaves_the_queue_with_the_button(pages: tuple[Page, Page]) -> None:
    buyer, agent = pages
    await buyer.get_by_test_id("start-button").click()
    await expect(buyer.get_by_test_id("message").first).to_be_visible()
    await say(buyer, "人工")
    leave = buttons(buyer, "取消排队")
    await expect(leave).to_have_count(1)
    queue = buyer.get_by_test_id("message").filter(has=leave)
    queue_id = await queue.get_attribute("data-message-id")
    await leave.click()
    queued = buyer.locator(f'[data-testid="message"][data-message-id="{queue_id}"]')
    await expect(queued).to_contain_text("已取消排队")
    await expect(buttons(buyer, "取消排队")).to_have_count(0)
    await expect(message(buyer, "已为您取消排队")).to_be_visible()

    # The ticket is closed: an agent coming on duty finds nobody waiting.
    await agent.get_by_test_id("start-button").click()
    await say(agent, "/duty on")
    await expect(message(agent, "On duty")).to_be_visible()
    await say(agent, "/next")
    await expect(message(agent, "Nobody is waiting in the queue.")).to_be_visible()
    await expect(message(agent, "Ticket #")).to_have_count(0)
    await screenshot(buyer, "journey-leave-queue.png")


async def test_the_buyer_sees_the_agents_alias_and_never_their_telegram_name(
    pages: tuple[Page, Page],
) -> None:
    buyer, agent = pages
    await agent.get_by_test_id("start-button").click()
    await expect(message(agent, "welcome")).to_be_visible()
    await say(agent, "/duty on")  # /alias answers "Come on duty first" before this
    await expect(message(agent, "On duty")).to_be_visible()
    await say(agent, "/alias 小美")
    await expect(message(agent, "buyers now see you as “Agent 小美”")).to_be_visible()

    await buyer.get_by_test_id("start-button").click()
    await expect(buyer.get_by_test_id("message").first).to_be_visible()
    await say(buyer, "人工")
    await expect(message(buyer, "客服 小美 正在为您服务")).to_be_visible()
    await expect(message(agent, "Ticket #")).to_be_visible()
    await say(agent, "您好，请问有什么可以帮您？")
    await expect(message(buyer, "客服 小美：您好，请问有什么可以帮您？")).to_be_visible()
    history = buyer.get_by_test_id("message-list")
    await expect(history).not_to_contain_text("Mei")
    await expect(history).not_to_contain_text(str(DEMO_AGENT))
    await screenshot(buyer, "journey-alias-buyer.png")
    await screenshot(agent, "journey-alias-agent.png")
