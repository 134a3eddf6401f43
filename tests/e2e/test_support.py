"""After-sales and human support over both real runtimes, a buyer and an agent side by side."""

from __future__ import annotations

from bot.app import KamibotApp
from bot.scheduler import watch_response_targets
from sandbox import Sandbox
from sandbox.user import ChatMessage, SandboxUser
from tests.conftest import FakeClock
from tests.e2e.conftest import AGENT
from tests.e2e.test_storefront import open_order, pay_with_stars, shop_order_reference


def buttons(message: ChatMessage) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data") or "" for row in markup.get("inline_keyboard", []) for b in row]


async def paid_order(buyer: SandboxUser) -> str:
    """A delivered order whose keys were not revealed; returns its reference."""
    summary = await open_order(buyer)
    reference = shop_order_reference(buyer.messages)
    await pay_with_stars(buyer, summary)
    await buyer.wait_for_text(f"ready for order {reference}")
    return reference


async def on_duty(sandbox: Sandbox) -> SandboxUser:
    agent = sandbox.user(AGENT)
    await agent.send_text("/duty on")
    await agent.wait_for_text("On duty")
    return agent


async def test_a_question_gets_an_instant_answer_with_feedback_buttons(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    await buyer.send_text("/start")
    await buyer.wait_for_text("welcome")
    await buyer.send_text("how long does delivery take after i pay?")
    answer = await buyer.wait_for(
        lambda messages: next(
            (m for m in messages if any(b.startswith("faqok:") for b in buttons(m))), None
        )
    )
    assert any(b.startswith("human:") for b in buttons(answer))
    await buyer.press("👍 Solved", answer)
    assert (await buyer.wait_for_callback_answer()).text == "Thanks for the feedback!"


async def test_a_buyer_reaches_an_agent_who_sees_the_orders_replies_refunds_and_gets_rated(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    reference = await paid_order(buyer)
    agent = await on_duty(sandbox)
    await buyer.send_text("人工")
    await buyer.wait_for_text("Agent 01 is with you")
    card = await agent.wait_for_text("Ticket #")
    assert f"{reference} Steam Wallet" in card["text"] and "Recent orders" in card["text"]
    assert "1003" in card["text"] and "@" not in card["text"]  # an id, never the buyer's username

    await agent.send_text("Hello, this is Mei. How can I help?")
    await buyer.wait_for_text("Agent 01: Hello, this is Mei.")
    await buyer.send_text("please refund my order, i bought the wrong one")
    await agent.wait_for_text("Alex: please refund my order")
    await agent.press(f"agref:{reference}", card)
    confirm = await agent.wait_for_text(f"Refund order {reference}")
    await agent.press("✅ Refund", confirm)
    await buyer.wait_for_text(f"Order {reference} refunded: 480 ⭐ back to your Telegram balance")
    [refund] = sandbox.calls_to("refundStarPayment")
    assert refund["user_id"] == 1003

    await agent.send_text("/close")
    closing = await buyer.wait_for_text("How did Agent 01 do?")
    await buyer.press("⭐⭐⭐⭐⭐", closing)
    await buyer.wait_for_text("Thank you for rating us!")
    assert not sandbox.refused, sandbox.refused


async def test_an_unrevealed_order_refunds_itself_from_the_order_screen(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    reference = await paid_order(buyer)
    await buyer.send_text("/orders")
    await buyer.wait_for_text("My orders")
    await buyer.press(f"order:{reference}")
    await buyer.wait_for_text(f"Order {reference}")
    await buyer.press(f"refund:{reference}")
    await buyer.wait_for_text(f"Order {reference} refunded: 480 ⭐ back to your Telegram balance")
    assert len(sandbox.calls_to("refundStarPayment")) == 1


async def test_a_bad_key_report_outside_the_rules_opens_a_case_for_an_agent(
    sandbox: Sandbox, shop: KamibotApp, clock: FakeClock
) -> None:
    buyer = sandbox.user(1003)
    reference = await paid_order(buyer)
    ready = await buyer.wait_for_text("ready for order", new_only=False)
    await buyer.press("🔑 Show keys", ready)
    await buyer.wait_for_text("STEAM-50-")
    clock.advance(hours=30)  # past the 24-hour automatic replacement
    agent = await on_duty(sandbox)
    await buyer.send_text("/orders")
    await buyer.wait_for_text("My orders")
    await buyer.press(f"order:{reference}")
    await buyer.wait_for_text(f"Order {reference}")
    await buyer.press(f"bad:{reference}")
    await buyer.wait_for_text("What went wrong?")  # its only key: "which key?" is skipped
    await buyer.press("Invalid key")
    await buyer.wait_for_text("Send a screenshot")
    await buyer.press("Skip")
    await buyer.wait_for_text(f"Your report on order {reference} is in")
    card = await agent.wait_for_text("bad-key case")
    assert {"agcase:1:replaced", "agcase:1:refunded", "agcase:1:declined"} <= set(buttons(card))


async def test_a_missed_first_response_alerts_the_agent_once_on_the_scripted_clock(
    sandbox: Sandbox, shop: KamibotApp, clock: FakeClock
) -> None:
    agent = await on_duty(sandbox)
    buyer = sandbox.user(1003)
    await buyer.send_text("/start")
    await buyer.wait_for_text("welcome")
    await buyer.send_text("I need a real person")
    await agent.wait_for_text("Ticket #1")
    clock.advance(minutes=4)
    assert await watch_response_targets(shop.ctx, shop.outbox) == 0
    clock.advance(minutes=2)
    assert await watch_response_targets(shop.ctx, shop.outbox) == 1
    await agent.wait_for_text("Ticket #1 missed its first response target")
    clock.advance(minutes=5)
    assert await watch_response_targets(shop.ctx, shop.outbox) == 0
