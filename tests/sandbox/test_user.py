"""The user side in Python: what tests drive, and what it refuses to fake."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram.types import Message as AiogramMessage
from telegram import Message as PtbMessage

from sandbox import Sandbox, UserActionError
from sandbox.user import OTHER_KINDS
from tests.sandbox.conftest import TOKEN, BotApiClient


def keyboard(*buttons: dict[str, str]) -> dict[str, list[list[dict[str, str]]]]:
    return {"inline_keyboard": [list(buttons)]}


async def test_a_reply_that_came_before_the_wait_still_counts_as_new(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    await sandbox.user(1001).send_text("/start")
    await api.result("sendMessage", chat_id=1001, text="welcome")
    assert (await sandbox.user(1001).wait_for_text("welcome"))["text"] == "welcome"


async def test_an_old_reply_does_not_satisfy_a_wait_for_the_next_one(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_text("first")
    await api.result("sendMessage", chat_id=1001, text="ok")
    await user.send_text("second")
    with pytest.raises(TimeoutError, match="no bot message containing 'ok'"):
        await user.wait_for_text("ok", timeout=0.01)
    assert (await user.wait_for_text("ok", new_only=False))["text"] == "ok"


async def test_an_edit_after_the_action_counts_as_new(sandbox: Sandbox, api: BotApiClient) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    sent = await api.result(
        "sendMessage",
        chat_id=1001,
        text="page 1",
        reply_markup=keyboard({"text": "Next", "callback_data": "next"}),
    )
    await user.press("Next")
    await api.result("editMessageText", chat_id=1001, message_id=sent["message_id"], text="page 2")
    edited = await user.wait_for_text("page 2")
    assert (edited["message_id"], edited["edited"]) == (sent["message_id"], True)
    assert len(user.messages) == 2


async def test_press_uses_the_newest_message_with_that_button(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    await api.result(
        "sendMessage",
        chat_id=1001,
        text="old",
        reply_markup=keyboard({"text": "Go", "callback_data": "old"}),
    )
    await api.result(
        "sendMessage",
        chat_id=1001,
        text="new",
        reply_markup=keyboard({"text": "Go", "callback_data": "new"}),
    )
    query_id = await user.press("Go")
    update = (await api.result("getUpdates"))[-1]["callback_query"]
    assert (update["id"], update["data"], update["message"]["text"]) == (query_id, "new", "new")
    await user.press("Go", message=update["message"]["message_id"] - 1)
    assert (await api.result("getUpdates"))[-1]["callback_query"]["data"] == "old"


async def test_pressing_a_missing_button_names_the_buttons_on_screen(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    await api.result(
        "sendMessage",
        chat_id=1001,
        text="menu",
        reply_markup=keyboard({"text": "Help", "callback_data": "help"}),
    )
    with pytest.raises(UserActionError, match=r"no button 'Buy'; buttons on screen: \['Help'\]"):
        await user.press("Buy")


async def test_a_url_button_sends_nothing_to_the_bot(sandbox: Sandbox, api: BotApiClient) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    await api.result(
        "sendMessage",
        chat_id=1001,
        text="site",
        reply_markup=keyboard({"text": "Site", "url": "https://example.com"}),
    )
    with pytest.raises(UserActionError, match="not a callback button"):
        await user.press("Site")


async def test_paying_needs_an_unpaid_invoice(sandbox: Sandbox, api: BotApiClient) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    with pytest.raises(UserActionError, match="no invoice"):
        await user.pay()
    with pytest.raises(UserActionError, match="no payment"):
        await user.redeliver_last_payment()
    await api.result(
        "sendInvoice",
        chat_id=1001,
        title="K",
        description="D",
        payload="p",
        currency="XTR",
        prices=[{"label": "K", "amount": 1}],
    )
    paying = asyncio.create_task(user.pay())
    await api.answer_next_pre_checkout(ok=True)
    assert (await paying).ok
    with pytest.raises(UserActionError, match="already paid"):
        await user.pay()


async def test_two_payments_get_different_charge_ids(sandbox: Sandbox, api: BotApiClient) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    charges = []
    for payload in ("a", "b"):
        await api.result(
            "sendInvoice",
            chat_id=1001,
            title="K",
            description="D",
            payload=payload,
            currency="XTR",
            prices=[{"label": "K", "amount": 2}],
        )
        paying = asyncio.create_task(user.pay())
        await api.answer_next_pre_checkout(ok=True)
        charges.append((await paying).telegram_payment_charge_id)
    assert len(set(charges)) == 2


async def test_a_payment_waiting_when_the_sandbox_stops_ends_unpaid(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    await api.result(
        "sendInvoice",
        chat_id=1001,
        title="K",
        description="D",
        payload="p",
        currency="XTR",
        prices=[{"label": "K", "amount": 1}],
    )
    paying = asyncio.create_task(user.pay())
    await sandbox.state.wait_until(lambda: bool(sandbox.state.pre_checkout_queries), 10)
    await sandbox.stop()
    result = await paying
    assert (result.ok, result.error_message) == (False, "the sandbox stopped")


async def test_a_forged_press_carries_data_no_button_has(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    sent = await api.result(
        "sendMessage",
        chat_id=1001,
        text="menu",
        reply_markup=keyboard({"text": "Help", "callback_data": "help"}),
    )
    query_id = await user.press_forged("pay:someone-else")
    update = (await api.result("getUpdates"))[-1]["callback_query"]
    assert (update["id"], update["data"], update["message"]["message_id"]) == (
        query_id,
        "pay:someone-else",
        sent["message_id"],
    )
    with pytest.raises(UserActionError, match="1-64 bytes"):
        await user.press_forged("x" * 65)


# --- messages of other kinds ---------------------------------------------------------------


@pytest.mark.parametrize("kind", OTHER_KINDS)
async def test_a_message_of_another_kind_arrives_as_telegram_sends_it(
    sandbox: Sandbox, api: BotApiClient, kind: str
) -> None:
    message_id = await sandbox.user(1001).send_other(kind)
    [update] = await api.result("getUpdates")
    message = update["message"]
    assert message["message_id"] == message_id and kind in message
    assert "text" not in message and "caption" not in message
    # Both libraries accept it, with every field they require.
    parsed = AiogramMessage.model_validate(message)
    assert getattr(parsed, kind) is not None
    assert getattr(PtbMessage.de_json(message, None), kind) is not None


async def test_a_venue_is_also_a_location_and_a_gif_also_a_document_as_in_telegram(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_other("venue")
    await user.send_other("animation")
    venue, gif = (u["message"] for u in await api.result("getUpdates"))
    assert venue["location"] == venue["venue"]["location"]
    assert gif["document"]["file_id"] == gif["animation"]["file_id"]


async def test_a_voice_message_carries_a_caption_and_its_file_can_be_downloaded(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_other("voice", caption="listen /start", content=b"OggS voice")
    [update] = await api.result("getUpdates")
    message = update["message"]
    assert message["caption"] == "listen /start"
    assert message["caption_entities"] == [{"type": "bot_command", "offset": 7, "length": 6}]
    found = await api.result("getFile", file_id=message["voice"]["file_id"])
    async with aiohttp.ClientSession() as session:
        url = f"{sandbox.base_url}/file/bot{TOKEN}/{found['file_path']}"
        async with session.get(url) as response:
            assert await response.read() == b"OggS voice"
    assert user.messages[-1]["other"]["kind"] == "voice"


async def test_only_kinds_telegram_has_are_sent_and_only_some_take_a_caption(
    sandbox: Sandbox,
) -> None:
    user = sandbox.user(1001)
    with pytest.raises(UserActionError, match="no message of kind 'hologram'"):
        await user.send_other("hologram")
    for kind in ("sticker", "video_note", "location", "venue", "contact", "dice", "poll"):
        with pytest.raises(UserActionError, match="takes no caption"):
            await user.send_other(kind, caption="hi")
