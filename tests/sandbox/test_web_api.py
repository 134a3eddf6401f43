"""The user side over HTTP, as the web page uses it, and the page itself."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox import Sandbox
from tests.sandbox.conftest import BotApiClient

API = "/sandbox/api"


class PageClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def get(self, path: str) -> Any:
        async with self.session.get(self.base_url + API + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        async with self.session.post(self.base_url + API + path, json=body) as response:
            assert response.status == status, await response.text()
            return await response.json()


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[PageClient]:
    async with aiohttp.ClientSession() as session:
        yield PageClient(session, sandbox.base_url)


async def test_the_preset_users_are_listed_with_the_bot(page: PageClient) -> None:
    listed = await page.get("/users")
    assert listed["bot"]["username"] == "sandbox_bot"
    assert [(u["user_id"], u["language_code"], u["preset"]) for u in listed["users"]] == [
        (1001, "zh-hans", True)
    ]


async def test_another_user_can_be_added_by_id_and_language(page: PageClient) -> None:
    added = await page.post("/users", {"user_id": 7, "first_name": "Ana", "language_code": "es"})
    assert (added["user_id"], added["first_name"], added["language_code"]) == (7, "Ana", "es")
    await page.post("/users", {"user_id": "x"}, status=400)


async def test_text_sent_from_the_page_reaches_the_bot_and_the_chat(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    sent = await page.post("/chats/1001/text", {"text": "hello"})
    updates = await api.result("getUpdates")
    assert updates[0]["message"]["message_id"] == sent["message_id"]
    chat = await page.get("/chats/1001/messages")
    assert [(m["sender"], m["text"]) for m in chat["messages"]] == [("user", "hello")]


async def test_the_chat_long_poll_answers_when_the_bot_writes(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    await page.post("/chats/1001/text", {"text": "hi"})
    version = (await page.get("/chats/1001/messages"))["version"]
    waiting = asyncio.create_task(page.get(f"/chats/1001/messages?since={version}&timeout=30"))
    await api.result("sendMessage", chat_id=1001, text="<i>reply</i>", parse_mode="HTML")
    chat = await waiting
    assert chat["version"] > version
    assert chat["messages"][-1]["html"] == "<i>reply</i>"


async def test_buttons_are_pressed_by_position_and_answers_come_back(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    await page.post("/chats/1001/text", {"text": "/start"})
    markup = {
        "inline_keyboard": [
            [{"text": "A", "callback_data": "a"}, {"text": "B", "callback_data": "b"}]
        ]
    }
    sent = await api.result("sendMessage", chat_id=1001, text="menu", reply_markup=markup)
    pressed = await page.post(
        "/chats/1001/press", {"message_id": sent["message_id"], "row": 0, "column": 1}
    )
    update = (await api.result("getUpdates"))[-1]["callback_query"]
    assert (update["id"], update["data"]) == (pressed["callback_query_id"], "b")
    await api.result(
        "answerCallbackQuery", callback_query_id=update["id"], text="Got B", show_alert=True
    )
    answers = (await page.get("/chats/1001/messages"))["callback_answers"]
    assert answers[-1]["text"] == "Got B" and answers[-1]["show_alert"] is True
    await page.post(
        "/chats/1001/press", {"message_id": sent["message_id"], "row": 3, "column": 0}, status=400
    )


async def test_an_invoice_is_paid_from_the_page(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    await page.post("/chats/1001/text", {"text": "/start"})
    sent = await api.result(
        "sendInvoice",
        chat_id=1001,
        title="Key",
        description="One key",
        payload="p-1",
        currency="XTR",
        prices=[{"label": "Key", "amount": 3}],
    )
    paying = asyncio.create_task(page.post("/chats/1001/pay", {"message_id": sent["message_id"]}))
    await api.answer_next_pre_checkout(ok=True)
    result = await paying
    assert result["ok"] is True and result["telegram_payment_charge_id"]
    chat = await page.get("/chats/1001/messages")
    assert chat["messages"][1]["invoice"]["paid"] is True
    assert chat["messages"][-1]["successful_payment"]["total_amount"] == 3


async def test_a_document_uploaded_from_the_page_can_be_downloaded_again(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"a,b\n", filename="stock.csv", content_type="text/csv")
    form.add_field("caption", "/import SKU-1")
    async with page.session.post(
        f"{sandbox.base_url}{API}/chats/1001/document", data=form
    ) as response:
        assert response.status == 200
    message = (await api.result("getUpdates"))[0]["message"]
    assert message["document"]["file_name"] == "stock.csv"
    assert message["caption"] == "/import SKU-1"
    shown = (await page.get("/chats/1001/messages"))["messages"][0]["document"]
    assert "content" not in shown
    async with page.session.get(sandbox.base_url + shown["url"]) as response:
        assert await response.read() == b"a,b\n"
        assert "stock.csv" in response.headers["Content-Disposition"]


async def test_an_unknown_user_is_not_found(page: PageClient) -> None:
    async with page.session.get(f"{page.base_url}{API}/chats/555/messages") as response:
        assert response.status == 404


async def test_the_page_is_self_contained_and_labelled_for_tests(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as session, session.get(sandbox.base_url + "/") as response:
        html = await response.text()
    assert response.content_type == "text/html"
    assert "not Telegram" in html
    assert not re.search(r"""(src|href)=["']https?://""", html), "no CDN, no external fonts"
    assert "innerHTML" not in html, "bot text is built as DOM nodes, never parsed as HTML"
    for testid in (
        "sandbox-banner",
        "user-select",
        "user-id-input",
        "user-language-input",
        "user-add",
        "message-list",
        "composer-input",
        "composer-send",
        "file-input",
        "file-caption",
        "file-send",
        "photo-send",
        "commands-button",
        "callback-toast",
        "start-button",
        "user-switch-caption",
        "persona-notice",
        "invoice-sheet",
        "invoice-sheet-pay",
    ):
        assert f'data-testid="{testid}"' in html, testid
    for testid in (
        "message",
        "inline-button",
        "pay-button",
        "document-link",
        "invoice",
        "bot-description",
    ):
        assert f'testid: "{testid}"' in html, testid


async def test_a_photo_sent_from_the_page_reaches_the_bot_as_a_photo(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"\xff\xd8\xff\xe0jpeg", filename="shot.jpg", content_type="image/jpeg")
    form.add_field("caption", "bad key")
    async with page.session.post(f"{sandbox.base_url}{API}/chats/1001/photo", data=form) as sent:
        assert sent.status == 200, await sent.text()
    [update] = await api.result("getUpdates")
    assert update["message"]["caption"] == "bad key"
    assert update["message"]["photo"][-1]["file_id"]
    chat = await page.get("/chats/1001/messages")
    assert chat["messages"][-1]["photo"]["url"].startswith(API + "/files/")


async def test_the_empty_chat_shows_the_description_in_the_users_language(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    await api.result("setMyDescription", description="Game keys, delivered at once.")
    await api.result("setMyDescription", description="游戏卡密，即买即发。", language_code="zh")
    chat = await page.get("/chats/1001/messages")
    assert chat["description"] == "游戏卡密，即买即发。"
    await page.post("/users", {"user_id": 7, "language_code": "en"})
    assert (await page.get("/chats/7/messages"))["description"] == "Game keys, delivered at once."


async def test_the_user_list_waits_for_a_message_to_another_persona(
    sandbox: Sandbox, page: PageClient, api: BotApiClient
) -> None:
    await sandbox.user(1001).send_text("/start")
    await page.post("/users", {"user_id": 7})
    listed = await page.get("/users")
    waiting = asyncio.create_task(page.get(f"/users?since={listed['version']}&timeout=10"))
    await api.result("sendMessage", chat_id=1001, text="your order is ready")
    changed = await waiting
    [buyer] = [u for u in changed["users"] if u["user_id"] == 1001]
    assert buyer["last_bot_message"]["preview"] == "your order is ready"
    assert changed["version"] > listed["version"]
