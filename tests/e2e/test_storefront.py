"""A buyer in the sandbox, with the real aiogram and python-telegram-bot runtimes over HTTP."""

from __future__ import annotations

from typing import Any, cast

from bot.app import KamibotApp
from sandbox import Sandbox
from sandbox.user import ChatMessage, SandboxUser


async def open_order(
    buyer: SandboxUser, welcome: str = "welcome", stock: str = "in stock"
) -> ChatMessage:
    """/start → Shop → Game cards → the product → Buy ×1; returns the order summary."""
    await buyer.send_text("/start")
    await buyer.wait_for_text(welcome)
    await buyer.press("shop")
    await buyer.wait_for_text("Choose a category")
    await buyer.press("cat:game:0")
    await buyer.wait_for_text(stock)
    await buyer.press("prod:STEAM-50")
    await buyer.wait_for_text("How to redeem")
    await buyer.press("buy:STEAM-50:1")
    return await buyer.wait_for_text("Your keys are held")


async def pay_with_stars(buyer: SandboxUser, summary: ChatMessage) -> None:
    await buyer.press("⭐ Pay 480 Stars", summary)
    await buyer.wait_for(lambda messages: [m for m in messages if m.get("invoice")])
    assert (await buyer.pay()).ok


async def test_a_buyer_browses_buys_with_stars_and_reveals_the_key(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    summary = await open_order(buyer, stock="3 in stock")
    await pay_with_stars(buyer, summary)
    ready = await buyer.wait_for_text("ready for order")
    await buyer.press("🔑 Show keys", ready)
    shown = await buyer.wait_for_text("STEAM-50-000000")
    assert "<code>STEAM-50-000000</code>" in shown["html"]
    commands = sandbox.calls_to("setMyCommands")
    assert {c.get("language_code") for c in commands} >= {"zh", "en"}
    assert not sandbox.refused, sandbox.refused


async def test_a_repeated_successful_payment_delivers_once(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    await pay_with_stars(buyer, await open_order(buyer))
    await buyer.wait_for_text("ready for order")
    await buyer.redeliver_last_payment()
    await buyer.send_text("/orders")
    await buyer.wait_for_text("My orders")
    ready = [m for m in buyer.messages if "ready for order" in (m["text"] or "")]
    assert len(ready) == 1
    assert not sandbox.refused, sandbox.refused


async def test_a_forged_button_for_another_buyers_order_is_refused(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer, other = sandbox.user(1003), sandbox.user(1001)
    await open_order(buyer)
    reference = shop_order_reference(buyer.messages)
    await other.send_text("/start")
    await other.wait_for_text("欢迎")
    query = await other.press_forged(f"paystars:{reference}")
    answer = await other.wait_for_callback_answer(query)
    assert answer.text == "这不是您的订单。" and answer.show_alert
    assert not sandbox.calls_to("sendInvoice")


def shop_order_reference(messages: list[dict[str, object]]) -> str:
    """The reference of the latest order summary in the chat, as its Pay button names it."""
    for message in reversed(messages):
        markup = cast(dict[str, Any], message.get("reply_markup") or {})  # Bot API JSON
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data") or ""
                if data.startswith("paystars:"):
                    return str(data.split(":")[1])
    raise AssertionError("no order summary in the chat")
