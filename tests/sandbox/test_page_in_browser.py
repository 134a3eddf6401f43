"""A person in a browser chats with a real aiogram bot through the sandbox page."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Dispatcher
from playwright.async_api import Browser, Page, ViewportSize, expect

from sandbox import Sandbox
from tests.sandbox.conftest import BotApiClient

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[2] / "artifacts"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def page(browser: Browser, sandbox: Sandbox, aiogram_bot: Dispatcher) -> AsyncIterator[Page]:
    opened = await browser.new_page()
    await opened.goto(sandbox.base_url + "/#user=1001")
    yield opened
    await opened.close()


@pytest.fixture
async def phone(browser: Browser, sandbox: Sandbox, aiogram_bot: Dispatcher) -> AsyncIterator[Page]:
    opened = await browser.new_page(viewport=PHONE)
    yield opened
    await opened.close()


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def png(width: int, height: int, rgb: tuple[int, int, int] = (58, 141, 222)) -> bytes:
    """A real one-colour PNG, so the browser can draw it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


async def test_a_person_starts_the_bot_presses_buy_and_pays_on_the_invoice_sheet(
    page: Page, sandbox: Sandbox
) -> None:
    await expect(page.get_by_test_id("sandbox-banner")).to_contain_text("不是 Telegram")
    await page.get_by_test_id("start-button").click()
    greeting = page.get_by_test_id("message").filter(has_text="Hello")
    await expect(greeting.locator("b")).to_have_text("buyer")

    await page.get_by_test_id("inline-button").filter(has_text="Buy").click()
    await expect(page.get_by_test_id("callback-toast")).to_have_text("Reserved")
    await expect(page.get_by_test_id("invoice-amount")).to_have_text("⭐ 5")
    await expect(page.get_by_test_id("invoice")).not_to_contain_text("XTR")

    await page.get_by_test_id("pay-button").click()
    sheet = page.get_by_test_id("invoice-sheet")
    await expect(sheet).to_be_visible()
    await expect(sheet).to_contain_text("确认购买")
    await expect(page.get_by_test_id("invoice-sheet-amount")).to_have_text("⭐ 5")
    await page.get_by_test_id("invoice-sheet-cancel").click()
    await expect(sheet).to_be_hidden()
    assert sandbox.state.payments == {}  # closing the sheet pays nothing

    await page.get_by_test_id("pay-button").click()
    await expect(page.get_by_test_id("invoice-sheet-pay")).to_have_text("确认并支付 ⭐5")
    await screenshot(page, "sandbox-invoice-sheet.png")
    await page.get_by_test_id("invoice-sheet-pay").click()
    await expect(sheet).to_be_hidden()
    await expect(page.get_by_test_id("payment-notice")).to_have_text("你已支付 ⭐5")
    await expect(page.get_by_test_id("message").filter(has_text="Paid stx")).to_be_visible()
    await expect(page.get_by_test_id("invoice-paid")).to_have_text("收据 ✓")
    await expect(page.get_by_test_id("invoice-paid-label")).to_have_text("✓ 已支付")
    await screenshot(page, "sandbox-paid.png")


async def test_a_person_types_and_uploads_a_file_with_a_caption(
    page: Page, sandbox: Sandbox
) -> None:
    await page.get_by_test_id("start-button").click()
    await page.get_by_test_id("composer-input").fill("a <b> & c")
    await page.get_by_test_id("composer-input").press("Enter")
    await expect(page.get_by_test_id("message").filter(has_text="echo: a <b> & c")).to_be_visible()

    await page.get_by_test_id("file-input").set_input_files(
        {"name": "stock.csv", "mimeType": "text/csv", "buffer": b"sku\n"}
    )
    await page.get_by_test_id("file-caption").fill("/import SKU")
    await page.get_by_test_id("file-send").click()
    await expect(page.get_by_test_id("document-link")).to_have_text("stock.csv")
    [sent] = [m for m in sandbox.state.chats[1001].messages.values() if m.document]
    assert sent.caption == "/import SKU"


async def test_a_person_sends_an_image_as_a_photo_and_the_bot_gets_photo_sizes(
    page: Page, sandbox: Sandbox
) -> None:
    await page.get_by_test_id("start-button").click()
    await page.get_by_test_id("file-input").set_input_files(
        {"name": "error.png", "mimeType": "image/png", "buffer": png(1000, 500)}
    )
    await page.get_by_test_id("file-caption").fill("this key fails")
    await page.get_by_test_id("photo-send").click()
    photo = page.get_by_test_id("message").filter(has=page.get_by_test_id("photo"))
    await expect(photo).to_contain_text("this key fails")
    [sent] = [m for m in sandbox.state.chats[1001].messages.values() if m.photo]
    delivered = sent.to_bot_api(sandbox.state.bot, sandbox.user(1001).profile)
    assert "document" not in delivered
    assert delivered["photo"][-1]["width"] == 1000
    await expect(page.get_by_test_id("photo")).to_have_js_property("naturalWidth", 1000)
    await screenshot(page, "sandbox-photo.png")


async def test_a_person_switches_to_a_new_user_with_a_language(
    page: Page, sandbox: Sandbox
) -> None:
    await expect(page.get_by_test_id("user-switch-caption")).to_contain_text("一次扮演一位")
    await page.get_by_test_id("user-id-input").fill("7")
    await page.get_by_test_id("user-name-input").fill("Ana")
    await page.get_by_test_id("user-language-input").fill("es")
    await page.get_by_test_id("user-add").click()
    await expect(page.get_by_test_id("user-select")).to_have_value("7")
    await expect(page.get_by_test_id("user-switch-caption")).to_contain_text("one Telegram user")
    await page.get_by_test_id("start-button").click()
    await expect(page.get_by_test_id("message").filter(has_text="Hello")).to_be_visible()
    assert sandbox.user(7).profile.language_code == "es"


@pytest.mark.parametrize(
    ("language", "title", "description", "start"),
    [
        ("zh-hans", "这个机器人能做什么？", "游戏卡密，即买即发。", "开始"),
        ("zh-hant", "這個機器人能做什麼？", "遊戲卡密，即買即發。", "開始"),
        ("en", "What can this bot do?", "Game keys, delivered at once.", "START"),
    ],
)
async def test_an_empty_chat_shows_the_description_above_a_full_width_start_bar(
    phone: Page,
    sandbox: Sandbox,
    api: BotApiClient,
    language: str,
    title: str,
    description: str,
    start: str,
) -> None:
    await api.result("setMyDescription", description="Game keys, delivered at once.")
    if language.startswith("zh"):  # Telegram keys descriptions by two letters: one for "zh"
        await api.result("setMyDescription", description=description, language_code="zh")
    sandbox.user(1001, language_code=language)
    await phone.goto(sandbox.base_url + "/#user=1001")
    intro = phone.get_by_test_id("bot-description")
    await expect(intro).to_contain_text(title)
    await expect(intro).to_contain_text(description)
    bar = phone.get_by_test_id("start-button")
    await expect(bar).to_have_text(start)
    box = await bar.bounding_box()
    assert box is not None and box["width"] >= PHONE["width"] - 1
    await expect(phone.get_by_test_id("composer-input")).to_be_hidden()
    await screenshot(phone, f"sandbox-empty-chat-{language}.png")

    await bar.click()
    await expect(phone.get_by_test_id("message").filter(has_text="Hello")).to_be_visible()
    await expect(intro).to_have_count(0)
    await expect(bar).to_be_hidden()
    await expect(phone.get_by_test_id("composer-input")).to_be_visible()


async def test_the_page_fits_a_phone_without_sideways_scrolling(
    phone: Page, sandbox: Sandbox, api: BotApiClient
) -> None:
    await phone.goto(sandbox.base_url + "/#user=1001")
    await phone.get_by_test_id("start-button").click()
    await expect(phone.get_by_test_id("message").filter(has_text="Hello")).to_be_visible()
    long_word = "STEAM-" + "X" * 120
    wide = {
        "inline_keyboard": [[{"text": f"Option {n} " * 3, "callback_data": "x"} for n in "ABCD"]]
    }
    await api.result("sendMessage", chat_id=1001, text=long_word, reply_markup=wide)
    await api.result("sendMessage", chat_id=1001, text=f"<pre>{long_word}</pre>", parse_mode="HTML")
    await phone.get_by_test_id("inline-button").filter(has_text="Buy").click()
    await phone.get_by_test_id("pay-button").click()
    await expect(phone.get_by_test_id("invoice-sheet")).to_be_visible()
    await screenshot(phone, "sandbox-phone-sheet.png")
    await phone.get_by_test_id("invoice-sheet-cancel").click()
    await expect(phone.get_by_test_id("message").filter(has_text=long_word)).to_have_count(2)
    scroll_width = await phone.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    await screenshot(phone, "sandbox-phone.png")


async def test_another_persona_receiving_a_message_shows_a_notice(
    page: Page, sandbox: Sandbox, api: BotApiClient
) -> None:
    mei = sandbox.user(2002, first_name="Mei", language_code="zh-hans")
    await mei.send_text("/start")
    await mei.wait_for_text("Hello")  # the bot's reply is there before the page counts it as seen
    await page.reload()
    await page.get_by_test_id("start-button").click()
    await expect(page.get_by_test_id("message").filter(has_text="Hello")).to_be_visible()
    notice = page.get_by_test_id("persona-notice")
    await expect(notice).to_be_hidden()

    await api.result("sendMessage", chat_id=2002, text="New ticket #K7Q2 from a buyer")
    await expect(notice).to_contain_text("Mei 收到一条新消息")
    await expect(notice).to_contain_text("New ticket #K7Q2")
    await expect(
        page.get_by_test_id("user-select").locator("option[value='2002']")
    ).to_contain_text("●")
    await screenshot(page, "sandbox-persona-notice.png")
    await page.get_by_test_id("persona-notice-open").click()
    await expect(page.get_by_test_id("user-select")).to_have_value("2002")
    await expect(notice).to_be_hidden()
    await expect(page.get_by_test_id("message").filter(has_text="#K7Q2")).to_be_visible()


async def test_the_command_menu_is_the_one_set_for_this_persona(
    page: Page, sandbox: Sandbox, api: BotApiClient
) -> None:
    await api.result("setMyCommands", commands=[{"command": "start", "description": "Start"}])
    await api.result(
        "setMyCommands",
        commands=[{"command": "duty", "description": "值班开关"}],
        scope={"type": "chat", "chat_id": 1001},
        language_code="zh",
    )
    await page.get_by_test_id("start-button").click()
    await page.get_by_test_id("commands-button").click()
    await expect(page.get_by_test_id("command-item")).to_have_text(["/duty值班开关"])


async def test_a_declined_payment_shows_the_bots_reason_on_the_sheet(
    browser: Browser, sandbox: Sandbox, api: BotApiClient
) -> None:
    await sandbox.user(1001).send_text("/start")
    await api.result(
        "sendInvoice",
        chat_id=1001,
        title="Key",
        description="One key",
        payload="order-9",
        currency="XTR",
        prices=[{"label": "Key", "amount": 480}],
    )
    opened = await browser.new_page()
    await opened.goto(sandbox.base_url + "/#user=1001")
    await opened.get_by_test_id("pay-button").click()
    await opened.get_by_test_id("invoice-sheet-pay").click()
    await expect(opened.get_by_test_id("invoice-sheet-pay")).to_be_disabled()
    await api.answer_next_pre_checkout(ok=False, error="刚刚卖完了")
    error = opened.get_by_test_id("invoice-sheet-error")
    await expect(error).to_have_text("机器人拒绝了这笔付款：刚刚卖完了")
    await expect(opened.get_by_test_id("invoice-sheet-pay")).to_be_enabled()
    assert sandbox.state.payments == {}
    await opened.close()
