"""An edit that changes nothing is not an error on either runtime (a delivery repeated after a
crash is exactly that)."""

from __future__ import annotations

from bot.app import KamibotApp
from handlers.action import EditText, SendText
from handlers.text import Markup
from sandbox import Sandbox


async def test_editing_a_message_to_what_it_already_says_succeeds_quietly(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    await buyer.send_text("/start")
    await buyer.wait_for_text("welcome")
    message_id = await shop.port.send_text(SendText(1003, Markup("🎉 Your keys are ready")))
    edit = EditText(1003, message_id, Markup("🎉 Your keys are ready, order #1"))
    await shop.port.edit_text(edit)
    await shop.port.edit_text(edit)  # Telegram: "message is not modified"
    assert sandbox.refused and "not modified" in sandbox.refused[-1][1].description
    assert next(m for m in buyer.messages if m["message_id"] == message_id)["edited"]
