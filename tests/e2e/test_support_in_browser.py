"""A buyer and an agent side by side on the demo page: an instant answer, then a person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from bot.demo import DEMO_AGENT
from sandbox import Sandbox
from tests.e2e.test_demo_in_browser import ARTIFACTS, demo  # noqa: F401  (the demo fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
async def pages(browser: Browser, demo: Sandbox) -> AsyncIterator[tuple[Page, Page]]:  # noqa: F811
    buyer = await browser.new_page(viewport={"width": 700, "height": 1000})
    agent = await browser.new_page(viewport={"width": 700, "height": 1000})
    await buyer.goto(demo.base_url + "/#user=1003")
    await agent.goto(demo.base_url + f"/#user={DEMO_AGENT}")
    yield buyer, agent
    await buyer.close()
    await agent.close()


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("composer-input").fill(text)
    await page.get_by_test_id("composer-send").click()


def bot_message(page: Page, text: str) -> object:
    return page.get_by_test_id("message").filter(has_text=re.compile(re.escape(text)))


async def test_a_buyer_gets_an_answer_then_a_person_who_replies(pages: tuple[Page, Page]) -> None:
    buyer, agent = pages
    await agent.get_by_test_id("start-button").click()
    await say(agent, "/duty on")
    await expect(agent.get_by_test_id("message").filter(has_text="On duty")).to_be_visible()

    await buyer.get_by_test_id("start-button").click()
    await expect(buyer.get_by_test_id("message").filter(has_text="welcome")).to_be_visible()
    await say(buyer, "how long does delivery take after i pay?")
    await expect(buyer.get_by_test_id("inline-button").filter(has_text="Solved")).to_be_visible()

    await say(buyer, "人工")
    await expect(
        buyer.get_by_test_id("message").filter(has_text="Agent 01 is with you")
    ).to_be_visible()
    await expect(agent.get_by_test_id("message").filter(has_text="Ticket #1")).to_be_visible()
    await say(agent, "Hi Alex, Mei here. What can I do for you?")
    await expect(
        buyer.get_by_test_id("message").filter(has_text="Agent 01: Hi Alex")
    ).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    for page, name in ((buyer, "support-buyer.png"), (agent, "support-agent.png")):
        path = ARTIFACTS / name
        await page.screenshot(path=str(path), full_page=True)
        assert len(await page.screenshot(full_page=True)) > 10_000
