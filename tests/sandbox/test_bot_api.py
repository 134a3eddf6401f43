"""The bot side over HTTP: Telegram's checks, errors, long polling, flood control, payments."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from sandbox import Sandbox, UserProfile
from tests.sandbox.conftest import TOKEN, BotApiClient, FakeClock

BUY = {"inline_keyboard": [[{"text": "Buy", "callback_data": "buy"}]]}


def invoice(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "chat_id": 1001,
        "title": "Key",
        "description": "One key",
        "payload": "order-1",
        "currency": "XTR",
        "prices": [{"label": "Key", "amount": 5}],
    }
    params.update(overrides)
    return params


@pytest.fixture
async def started(sandbox: Sandbox) -> Sandbox:
    """The preset user has written to the bot, so the bot may write back."""
    await sandbox.user(1001).send_text("/start")
    return sandbox


async def refusal(api: BotApiClient, method: str, **params: Any) -> tuple[int, str]:
    status, body = await api.call(method, **params)
    assert body["ok"] is False, body
    assert body["error_code"] == status
    return status, body["description"]


# --- the connection ---


async def test_a_wrong_token_is_unauthorized(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as session:
        api = BotApiClient(session, sandbox.base_url, token="999:wrong")
        assert await refusal(api, "getMe") == (401, "Unauthorized")


async def test_get_me_names_the_bot_by_the_tokens_number(api: BotApiClient) -> None:
    me = await api.result("getMe")
    assert (me["id"], me["is_bot"], me["username"]) == (123456, True, "sandbox_bot")


async def test_an_unknown_method_is_not_found(api: BotApiClient) -> None:
    assert await refusal(api, "sendTelepathy") == (404, "Not Found")


async def test_form_encoded_calls_with_json_fields_are_understood(
    started: Sandbox, api: BotApiClient
) -> None:
    form = {
        "chat_id": "1001",
        "text": "hi",
        "reply_markup": '{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}',
    }
    url = f"{started.base_url}/bot{TOKEN}/sendMessage"
    async with api.session.post(url, data=form) as response:
        body = await response.json()
    assert body["result"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }
    assert started.calls_to("sendMessage")[0]["chat_id"] == 1001


# --- who the bot may write to ---


async def test_the_bot_cannot_write_first_to_a_user(api: BotApiClient) -> None:
    assert await refusal(api, "sendMessage", chat_id=1001, text="hi") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )


async def test_an_unknown_chat_is_not_found(api: BotApiClient) -> None:
    assert await refusal(api, "sendMessage", chat_id=5, text="hi") == (
        400,
        "Bad Request: chat not found",
    )


async def test_a_user_who_blocked_the_bot_is_forbidden(started: Sandbox, api: BotApiClient) -> None:
    await started.user(1001).block()
    assert await refusal(api, "sendMessage", chat_id=1001, text="hi") == (
        403,
        "Forbidden: bot was blocked by the user",
    )


# --- messages and their checks ---


async def test_a_sent_message_has_what_both_libraries_need(
    started: Sandbox, api: BotApiClient
) -> None:
    message = await api.result(
        "sendMessage", chat_id=1001, text="<b>hi</b>", parse_mode="HTML", reply_markup=BUY
    )
    assert message["from"]["is_bot"] is True
    assert message["chat"] == {"id": 1001, "type": "private", "first_name": "Li"}
    assert message["text"] == "hi"
    assert message["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert message["reply_markup"] == BUY
    assert isinstance(message["message_id"], int) and isinstance(message["date"], int)


async def test_unescaped_html_is_refused(started: Sandbox, api: BotApiClient) -> None:
    status, description = await refusal(
        api, "sendMessage", chat_id=1001, text="5 < 6 & 7", parse_mode="HTML"
    )
    assert status == 400
    assert description.startswith("Bad Request: can't parse entities:")


async def test_empty_text_is_refused_even_when_only_tags_remain(
    started: Sandbox, api: BotApiClient
) -> None:
    for text in ("", "  ", "<b></b>"):
        _, description = await refusal(
            api, "sendMessage", chat_id=1001, text=text, parse_mode="HTML"
        )
        assert description == "Bad Request: message text is empty"


async def test_text_over_4096_characters_after_parsing_is_refused(
    started: Sandbox, api: BotApiClient
) -> None:
    await api.result(
        "sendMessage", chat_id=1001, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML"
    )
    _, description = await refusal(api, "sendMessage", chat_id=1001, text="x" * 4097)
    assert description == "Bad Request: message is too long"


async def test_callback_data_over_64_bytes_is_refused(started: Sandbox, api: BotApiClient) -> None:
    fits = {"inline_keyboard": [[{"text": "ok", "callback_data": "é" * 32}]]}
    await api.result("sendMessage", chat_id=1001, text="x", reply_markup=fits)
    too_long = {"inline_keyboard": [[{"text": "no", "callback_data": "é" * 32 + "x"}]]}
    _, description = await refusal(
        api, "sendMessage", chat_id=1001, text="x", reply_markup=too_long
    )
    assert description == "Bad Request: BUTTON_DATA_INVALID"


async def test_buttons_need_text_and_exactly_one_action(
    started: Sandbox, api: BotApiClient
) -> None:
    cases = [
        ({"text": "", "callback_data": "a"}, "Bad Request: BUTTON_TEXT_INVALID"),
        ({"text": "A"}, "Bad Request: text buttons are unallowed in the inline keyboard"),
        ({"text": "A", "callback_data": "a", "url": "https://t.me"}, "exactly one"),
        ({"text": "A", "pay": True}, "Bad Request: BUTTON_TYPE_INVALID"),
        ({"text": "A", "url": "javascript:alert(1)"}, "Wrong HTTP URL"),
    ]
    for button, expected in cases:
        markup = {"inline_keyboard": [[button]]}
        _, description = await refusal(
            api, "sendMessage", chat_id=1001, text="x", reply_markup=markup
        )
        assert expected in description, (button, description)


async def test_editing_to_the_same_text_and_markup_is_not_modified(
    started: Sandbox, api: BotApiClient
) -> None:
    sent = await api.result(
        "sendMessage", chat_id=1001, text="<b>A</b>", parse_mode="HTML", reply_markup=BUY
    )
    same = {
        "chat_id": 1001,
        "message_id": sent["message_id"],
        "text": "<b>A</b>",
        "parse_mode": "HTML",
    }
    _, description = await refusal(api, "editMessageText", **same, reply_markup=BUY)
    assert description.startswith("Bad Request: message is not modified")
    edited = await api.result("editMessageText", **same)  # no markup: the keyboard goes away
    assert "reply_markup" not in edited and "edit_date" in edited
    view = started.user(1001).messages[-1]
    assert (view["edited"], view["reply_markup"]) == (True, None)


async def test_editing_a_missing_message_is_not_found(started: Sandbox, api: BotApiClient) -> None:
    _, description = await refusal(api, "editMessageText", chat_id=1001, message_id=999, text="x")
    assert description == "Bad Request: message to edit not found"


async def test_a_deleted_message_leaves_the_users_chat(started: Sandbox, api: BotApiClient) -> None:
    sent = await api.result("sendMessage", chat_id=1001, text="bye")
    assert await api.result("deleteMessage", chat_id=1001, message_id=sent["message_id"]) is True
    assert [m["text"] for m in started.user(1001).messages] == ["/start"]
    _, description = await refusal(
        api, "deleteMessage", chat_id=1001, message_id=sent["message_id"]
    )
    assert description == "Bad Request: message to delete not found"


async def test_copying_a_users_message_sends_it_as_the_bot(
    started: Sandbox, api: BotApiClient
) -> None:
    admin = started.user(42, "Admin")
    await admin.send_text("hello")
    copied = await api.result("copyMessage", chat_id=42, from_chat_id=1001, message_id=1)
    assert admin.messages[-1]["message_id"] == copied["message_id"]
    assert (admin.messages[-1]["sender"], admin.messages[-1]["text"]) == ("bot", "/start")


# --- flood control ---


async def test_a_chat_flooded_past_its_burst_gets_429_with_retry_after(clock: FakeClock) -> None:
    async with (
        Sandbox(TOKEN, per_chat_burst=3, clock=clock) as box,
        aiohttp.ClientSession() as session,
    ):
        api = BotApiClient(session, box.base_url)
        await box.user(1001).send_text("/start")
        for _ in range(3):
            await api.result("sendMessage", chat_id=1001, text="x")
        status, body = await api.call("sendMessage", chat_id=1001, text="x")
        assert status == 429
        assert body["parameters"] == {"retry_after": 1}
        assert body["description"] == "Too Many Requests: retry after 1"
        clock.advance(1.0)
        await api.result("sendMessage", chat_id=1001, text="x")


async def test_edits_count_towards_the_bots_global_limit(clock: FakeClock) -> None:
    async with (
        Sandbox(TOKEN, per_bot_per_second=2, clock=clock) as box,
        aiohttp.ClientSession() as session,
    ):
        api = BotApiClient(session, box.base_url)
        await box.user(1001).send_text("/start")
        await box.user(1002).send_text("/start")
        sent = await api.result("sendMessage", chat_id=1001, text="a")
        await api.result("editMessageText", chat_id=1001, message_id=sent["message_id"], text="b")
        status, _ = await api.call("sendMessage", chat_id=1002, text="c")
        assert status == 429


async def test_the_default_limits_let_a_short_burst_through(
    started: Sandbox, api: BotApiClient
) -> None:
    for number in range(20):
        await api.result("sendMessage", chat_id=1001, text=f"line {number}")


# --- updates ---


async def test_get_updates_long_polls_until_the_user_acts(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    poll = asyncio.create_task(api.result("getUpdates", timeout=50))
    await sandbox.wait_for_call("getUpdates")
    assert not poll.done()
    await sandbox.user(1001).send_text("/start payload")
    updates = await poll
    message = updates[0]["message"]
    assert message["text"] == "/start payload"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["from"]["language_code"] == "zh-hans"


async def test_an_offset_confirms_earlier_updates(sandbox: Sandbox, api: BotApiClient) -> None:
    user = sandbox.user(1001)
    await user.send_text("one")
    await user.send_text("two")
    first = await api.result("getUpdates")
    assert [u["message"]["text"] for u in first] == ["one", "two"]
    rest = await api.result("getUpdates", offset=first[0]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["two"]
    assert await api.result("getUpdates", offset=first[1]["update_id"] + 1) == []


async def test_a_limit_outside_1_to_100_is_clamped_as_telegram_does(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    for text in ("one", "two", "three"):
        await user.send_text(text)
    assert len(await api.result("getUpdates", limit=0)) == 1
    assert len(await api.result("getUpdates", limit=-5)) == 1
    assert len(await api.result("getUpdates", limit=500)) == 3


async def test_allowed_updates_leave_other_kinds_out(sandbox: Sandbox, api: BotApiClient) -> None:
    await api.result("getUpdates", allowed_updates=["callback_query"])
    await sandbox.user(1001).send_text("ignored")
    assert await api.result("getUpdates") == []


async def test_a_second_poller_ends_the_first_with_a_conflict(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=50))
    await sandbox.wait_for_call("getUpdates")
    await api.result("getUpdates", timeout=0)
    status, body = await first
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


# --- commands and callback answers ---


async def test_commands_are_kept_per_scope_and_language(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    english = [{"command": "start", "description": "Start"}]
    chinese = [{"command": "start", "description": "开始"}]
    await api.result("setMyCommands", commands=english)
    await api.result("setMyCommands", commands=chinese, language_code="zh")
    assert await api.result("getMyCommands") == english
    assert await api.result("getMyCommands", language_code="zh") == chinese
    assert sandbox.state.resolve_commands(sandbox.user(1001).profile) == chinese
    await api.result("deleteMyCommands", language_code="zh")
    assert await api.result("getMyCommands", language_code="zh") == []


async def test_malformed_commands_are_refused(api: BotApiClient) -> None:
    for command, description in [("Start", "x"), ("a" * 33, "x"), ("ok", ""), ("ok", "d" * 257)]:
        status, _ = await refusal(
            api, "setMyCommands", commands=[{"command": command, "description": description}]
        )
        assert status == 400


async def test_a_callback_answer_over_200_characters_is_refused(
    started: Sandbox, api: BotApiClient
) -> None:
    await api.result("sendMessage", chat_id=1001, text="menu", reply_markup=BUY)
    query_id = await started.user(1001).press("Buy")
    await refusal(api, "answerCallbackQuery", callback_query_id=query_id, text="x" * 201)
    assert await api.result("answerCallbackQuery", callback_query_id=query_id, text="ok") is True
    assert started.user(1001).last_callback_answer(query_id) is not None
    _, description = await refusal(api, "answerCallbackQuery", callback_query_id=query_id)
    assert "query is too old" in description


# --- invoices and payments ---


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"currency": "USD"}, "CURRENCY_INVALID"),
        ({"provider_token": "284685063:TEST"}, "PAYMENT_PROVIDER_INVALID"),
        (
            {"prices": [{"label": "A", "amount": 1}, {"label": "B", "amount": 1}]},
            "STARS_INVOICE_INVALID",
        ),
        ({"prices": [{"label": "A", "amount": 0}]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"prices": [{"label": "A", "amount": 1.5}]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"title": "t" * 33}, "INVOICE_TITLE_INVALID"),
        ({"description": ""}, "INVOICE_DESCRIPTION_INVALID"),
        ({"payload": "p" * 129}, "INVOICE_PAYLOAD_INVALID"),
    ],
)
async def test_bad_invoices_are_refused(
    started: Sandbox, api: BotApiClient, overrides: dict[str, Any], expected: str
) -> None:
    _, description = await refusal(api, "sendInvoice", **invoice(**overrides))
    assert expected in description


async def test_an_invoice_gets_a_pay_button_and_the_full_invoice_object(
    started: Sandbox, api: BotApiClient
) -> None:
    sent = await api.result("sendInvoice", **invoice())
    assert sent["invoice"] == {
        "title": "Key",
        "description": "One key",
        "start_parameter": "",
        "currency": "XTR",
        "total_amount": 5,
    }
    assert sent["reply_markup"]["inline_keyboard"][0][0]["pay"] is True


async def test_a_payment_the_bot_approves_delivers_successful_payment(
    started: Sandbox, api: BotApiClient
) -> None:
    await api.result("getUpdates", offset=-1)
    await api.result("sendInvoice", **invoice())
    user = started.user(1001)
    paying = asyncio.create_task(user.pay())
    query = await api.answer_next_pre_checkout(ok=True)
    result = await paying
    assert result.ok and result.telegram_payment_charge_id
    assert (query["currency"], query["total_amount"], query["invoice_payload"]) == (
        "XTR",
        5,
        "order-1",
    )

    updates = await api.result("getUpdates", timeout=50)
    payment = updates[-1]["message"]["successful_payment"]
    assert payment["telegram_payment_charge_id"] == result.telegram_payment_charge_id
    assert payment["invoice_payload"] == "order-1"

    assert await user.redeliver_last_payment() == result.telegram_payment_charge_id
    again = await api.result("getUpdates", offset=updates[-1]["update_id"] + 1)
    assert again[0]["message"]["successful_payment"] == payment
    assert again[0]["update_id"] != updates[-1]["update_id"]

    transactions = (await api.result("getStarTransactions"))["transactions"]
    assert [(t["id"], t["amount"]) for t in transactions] == [
        (result.telegram_payment_charge_id, 5)
    ]


async def test_a_declined_pre_checkout_tells_the_user_why(
    started: Sandbox, api: BotApiClient
) -> None:
    await api.result("sendInvoice", **invoice())
    paying = asyncio.create_task(started.user(1001).pay())
    await api.answer_next_pre_checkout(ok=False, error="Sold out")
    result = await paying
    assert (result.ok, result.error_message) == (False, "Sold out")


async def test_a_pre_checkout_left_unanswered_times_out(clock: FakeClock) -> None:
    async with (
        Sandbox(TOKEN, pre_checkout_timeout=0.01, clock=clock) as box,
        aiohttp.ClientSession() as session,
    ):
        api = BotApiClient(session, box.base_url)
        user = box.user(1001)
        await user.send_text("/start")
        await api.result("sendInvoice", **invoice())
        result = await user.pay()
        assert (result.ok, result.timed_out) == (False, True)
        update = (await api.result("getUpdates"))[-1]
        _, description = await refusal(
            api,
            "answerPreCheckoutQuery",
            pre_checkout_query_id=update["pre_checkout_query"]["id"],
            ok=True,
        )
        assert "query is too old" in description


async def test_a_refund_works_once_and_names_the_charge(
    started: Sandbox, api: BotApiClient
) -> None:
    await api.result("sendInvoice", **invoice())
    paying = asyncio.create_task(started.user(1001).pay())
    await api.answer_next_pre_checkout(ok=True)
    charge_id = (await paying).telegram_payment_charge_id
    refund = {"user_id": 1001, "telegram_payment_charge_id": charge_id}

    assert await api.result("refundStarPayment", **refund) is True
    _, description = await refusal(api, "refundStarPayment", **refund)
    assert description == "Bad Request: CHARGE_ALREADY_REFUNDED"
    _, description = await refusal(
        api, "refundStarPayment", user_id=1001, telegram_payment_charge_id="nope"
    )
    assert description == "Bad Request: CHARGE_NOT_FOUND"
    transactions = (await api.result("getStarTransactions"))["transactions"]
    assert ["source" in t for t in transactions] == [True, False]
    assert transactions[1]["receiver"]["user"]["id"] == 1001


async def test_preset_users_are_listed_but_not_started(sandbox: Sandbox) -> None:
    assert sandbox.state.chats[1001].user == UserProfile(1001, "Li", "zh-hans")
    assert sandbox.state.chats[1001].started is False


async def test_commands_for_one_chat_come_before_private_chats_and_the_default(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    default = [{"command": "start", "description": "Start"}]
    private = [{"command": "help", "description": "Help"}]
    agent = [{"command": "duty", "description": "值班"}]
    await api.result("setMyCommands", commands=default)
    assert sandbox.state.resolve_commands(sandbox.user(1001).profile) == default
    await api.result("setMyCommands", commands=private, scope={"type": "all_private_chats"})
    assert sandbox.state.resolve_commands(sandbox.user(1001).profile) == private
    await api.result(
        "setMyCommands", commands=agent, scope={"type": "chat", "chat_id": 1001}, language_code="zh"
    )
    assert sandbox.state.resolve_commands(sandbox.user(1001).profile) == agent
    assert sandbox.state.resolve_commands(sandbox.user(1002, language_code="zh").profile) == private
    assert await api.result("getMyCommands", scope={"type": "chat", "chat_id": 1001}) == []
    await api.result(
        "deleteMyCommands", scope={"type": "chat", "chat_id": 1001}, language_code="zh"
    )
    assert sandbox.state.resolve_commands(sandbox.user(1001).profile) == private


async def test_a_command_scope_telegram_does_not_know_is_refused(api: BotApiClient) -> None:
    commands = [{"command": "start", "description": "Start"}]
    for scope in ({"type": "everyone"}, {"type": "chat"}, {"type": "chat", "chat_id": 999}):
        status, _ = await refusal(api, "setMyCommands", commands=commands, scope=scope)
        assert status == 400


async def test_descriptions_are_kept_per_language_and_fall_back_to_the_default(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    await api.result("setMyDescription", description="A shop for game keys.")
    await api.result("setMyDescription", description="游戏卡密商店。", language_code="zh")
    await api.result("setMyShortDescription", short_description="Game keys")
    assert await api.result("getMyDescription") == {"description": "A shop for game keys."}
    assert await api.result("getMyDescription", language_code="zh") == {
        "description": "游戏卡密商店。"
    }
    assert await api.result("getMyShortDescription", language_code="zh") == {
        "short_description": ""
    }
    chinese = sandbox.user(1001).profile
    assert sandbox.state.resolve_description(chinese) == "游戏卡密商店。"
    assert sandbox.state.resolve_description(chinese, "short_description") == "Game keys"
    await api.result("setMyDescription", description="", language_code="zh")
    assert sandbox.state.resolve_description(chinese) == "A shop for game keys."


async def test_a_description_over_telegrams_limit_is_refused(api: BotApiClient) -> None:
    status, _ = await refusal(api, "setMyDescription", description="d" * 513)
    assert status == 400
    status, _ = await refusal(api, "setMyShortDescription", short_description="d" * 121)
    assert status == 400
    status, _ = await refusal(api, "setMyDescription", description="d", language_code="zh-hans")
    assert status == 400
