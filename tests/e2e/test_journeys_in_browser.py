"""The journeys issue 8 fixed, checked in Chromium on the demo page: one order message through
its states, a bad-key screenshot sent as a photo, leaving the queue, the agent's alias, and a
Traditional Chinese buyer from /start to the keys."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import opencc  # type: ignore[import-untyped, unused-ignore]  # ships no type hints
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from bot.demo import DEMO_AGENT
from sandbox import Sandbox
from tests.e2e.test_demo_in_browser import ARTIFACTS, demo  # noqa: F401  (the demo fixture)
from tests.sandbox.test_page_in_browser import png

pytestmark = pytest.mark.browser
CHINESE_BUYER = 1001  # 小李, zh-hans
TRADITIONAL_BUYER = 1002  # 阿明, zh-hant
ENGLISH_BUYER = 1003  # Alex, en
REFERENCE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")
"""An order's short reference, as buyers read it out to support."""


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


@pytest.fixture
async def ming(browser: Browser, demo: Sandbox) -> AsyncIterator[Page]:  # noqa: F811
    page = await browser.new_page(viewport={"width": 900, "height": 1100})
    await page.goto(demo.base_url + f"/#user={TRADITIONAL_BUYER}")
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
    # Either replaced at once or queued for an agent, depending on the replacement rules.
    outcome = re.compile(rf"(report on order|replaced at once \(order) {REFERENCE.pattern}")
    await expect(alex.get_by_test_id("message").filter(has_text=outcome)).to_have_count(1)
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


def simplified_only(text: str) -> set[str]:
    """The characters of `text` that only Simplified Chinese writes (这, 订, 单…): ones a
    Simplified-to-Traditional conversion changes and the reverse conversion leaves alone."""
    to_traditional, to_simplified = opencc.OpenCC("s2t"), opencc.OpenCC("t2s")
    return {
        c
        for c in text
        if "\u4e00" <= c <= "\u9fff"
        and to_traditional.convert(c) != c
        and to_simplified.convert(c) == c
    }


async def expect_traditional(page: Page) -> None:
    """Everything the chat shows is in Traditional characters, the sandbox's chrome included."""
    for part in ("sandbox-banner", "message-list", "start-button", "invoice-sheet"):
        text = await page.get_by_test_id(part).text_content() or ""
        assert not simplified_only(text), (part, sorted(simplified_only(text)), text)


async def test_a_traditional_chinese_buyer_buys_and_asks_in_traditional_characters(
    ming: Page,
) -> None:
    # The sandbox plays Telegram in 阿明's language before the bot has said anything.
    await expect(ming.locator("html")).to_have_attribute("lang", "zh-Hant")
    await expect(ming.get_by_test_id("sandbox-banner")).to_contain_text("本機 Telegram 沙盒")
    await expect(ming.get_by_test_id("start-button")).to_have_text("開始")
    await expect(ming.get_by_test_id("composer-send")).to_have_text("傳送")
    await expect(ming.get_by_test_id("composer-input")).to_have_attribute(
        "placeholder", "傳送訊息…"
    )
    await expect(ming.get_by_test_id("file-name")).to_have_text("選擇檔案或圖片")
    await expect(ming.get_by_test_id("user-switch-caption")).to_contain_text("本頁面一次扮演")
    await expect(ming.get_by_test_id("bot-description")).to_contain_text("這個機器人能做什麼？")
    await screenshot(ming, "journey-traditional-0-before-start.png")

    await ming.get_by_test_id("start-button").click()
    welcome = message(ming, "歡迎來到")
    await expect(welcome).to_contain_text("你好，阿明！")
    for label in ("🛒 商城", "📦 我的訂單", "💰 餘額", "🙋 聯絡客服"):
        await expect(buttons(welcome, label)).to_have_count(1)
    await expect_traditional(ming)
    await screenshot(ming, "journey-traditional-1-welcome.png")

    await click(ming, "🛒 商城")
    await expect(message(ming, "請選擇分類")).to_be_visible()
    await click(ming, "遊戲點數卡")
    products = message(ming, "🛒 遊戲點數卡")
    await expect(products).to_contain_text("原神 創世結晶 ×60 — ¥5.80 · 庫存 30")
    await expect(products).to_contain_text("Steam 錢包儲值卡 ¥50")
    await click(ming, "原神 創世結晶 ×60 · ¥5.80")
    card = message(ming, "使用方法").last
    await expect(card).to_contain_text("原神 創世結晶 ×60")
    await expect(card).to_contain_text("官服兌換碼。")  # the zh text, in Traditional characters
    await expect(card).to_contain_text("價格：¥5.80（⭐ 58）")
    await expect(card).to_contain_text("登入遊戲 → 設定 → 帳戶 → 兌換碼。")
    await expect_traditional(ming)
    await screenshot(ming, "journey-traditional-2-product.png")

    await click(ming, "購買 ×1 · ¥5.80")
    held = message(ming, "卡密已為您保留至")
    await expect(held).to_have_count(1)
    await expect(held).to_contain_text(re.compile(rf"訂單 {REFERENCE.pattern}\s*原神 創世結晶 ×60"))
    await expect(held).to_contain_text("合計：¥5.80（⭐ 58）")
    summary_text = await held.text_content() or ""
    found = REFERENCE.search(summary_text)
    assert found, summary_text
    reference = found.group()
    message_id = await held.get_attribute("data-message-id")
    summary = ming.locator(f'[data-testid="message"][data-message-id="{message_id}"]')
    await expect(buttons(summary, "⭐ 用 58 Stars 支付")).to_have_count(1)
    await expect(buttons(summary, "✖️ 取消訂單")).to_have_count(1)
    await expect_traditional(ming)
    await screenshot(ming, "journey-traditional-3-order.png")

    await click(ming, "⭐ 用 58 Stars 支付")
    invoice = ming.get_by_test_id("message").filter(has=ming.get_by_test_id("invoice"))
    await expect(invoice).to_contain_text(f"訂單 {reference}")
    await invoice.get_by_test_id("pay-button").click()
    sheet = ming.get_by_test_id("invoice-sheet")
    await expect(sheet).to_contain_text("確認購買")
    await expect(sheet).to_contain_text("模擬的 Telegram 星星，不會真的扣款。")
    await expect(ming.get_by_test_id("invoice-sheet-amount")).to_have_text("⭐ 58")
    await expect(ming.get_by_test_id("invoice-sheet-pay")).to_have_text("確認並付款 ⭐58")
    await expect(ming.get_by_test_id("invoice-sheet-cancel")).to_have_text("取消")
    await expect_traditional(ming)
    await screenshot(ming, "journey-traditional-4-invoice-sheet.png")
    await ming.get_by_test_id("invoice-sheet-pay").click()

    await expect(summary).to_contain_text(f"🎉 訂單 {reference} 的卡密已就緒：原神 創世結晶 ×60")
    await expect(summary).to_contain_text("✅ 已付款 58 ⭐")
    await expect(summary.get_by_test_id("message-edited")).to_have_text("已編輯 ")
    await expect(ming.get_by_test_id("payment-notice")).to_have_text("你已付款 ⭐58")
    await expect(invoice.get_by_test_id("invoice-paid")).to_have_text("收據 ✓")
    await expect(invoice.get_by_test_id("invoice-paid-label")).to_have_text("✓ 已付款")
    await buttons(summary, "🔑 檢視卡密").click()
    keys = message(ming, "點選卡密即可複製。")
    await expect(keys).to_contain_text(f"🔑 訂單 {reference} · 原神 創世結晶 ×60")
    await expect(keys.locator("code").first).to_contain_text("GENSHIN-")
    await expect(keys).to_contain_text("登入遊戲 → 設定 → 帳戶 → 兌換碼。")
    await expect(buttons(keys, "⚠️ 卡密無法使用")).to_have_count(1)
    await expect(buttons(keys, "🛒 繼續購物")).to_have_count(1)
    await expect_traditional(ming)
    await screenshot(ming, "journey-traditional-5-keys.png")

    await say(ming, "怎麼退款")
    answer = message(ming, "申請退款").last
    await expect(answer).to_contain_text("在「📦 我的訂單」裡選中訂單，點「申請退款」")
    await expect(buttons(answer, "↩️ 申請退款")).to_have_count(1)
    await expect(buttons(answer, "👍 已解決")).to_have_count(1)
    await expect_traditional(ming)
    await screenshot(ming, "journey-traditional-6-faq.png")
