"""Stickers, voice, locations, contacts, dice and polls over both real runtimes.

Outside a conversation with an agent they get a friendly reply with the menu; inside one they are
copied to the other side, or (dice, polls) the sender is told they were not passed on.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.app import KamibotApp
from sandbox import Sandbox
from sandbox.user import ChatMessage, SandboxUser
from tests.e2e.test_support import buttons, on_duty


def copied(kind: str, *, after: int) -> Callable[[list[ChatMessage]], ChatMessage | None]:
    """A wait for the bot's copy of a message of this kind, newer than message `after`."""

    def find(messages: list[ChatMessage]) -> ChatMessage | None:
        for message in messages:
            mine = message["sender"] == "bot" and message["message_id"] > after
            if mine and (message["other"] or {}).get("kind") == kind:
                return message
        return None

    return find


async def talking_to_an_agent(sandbox: Sandbox) -> tuple[SandboxUser, SandboxUser]:
    agent = await on_duty(sandbox)
    buyer = sandbox.user(1003)
    await buyer.send_text("人工")
    await buyer.wait_for_text("Agent 01 is with you")
    await agent.wait_for_text("Ticket #")
    return buyer, agent


async def test_other_kinds_of_message_get_a_friendly_reply_with_the_menu(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    kinds = ("sticker", "voice", "video_note", "animation", "location", "venue", "contact")
    for kind in (*kinds, "dice", "poll"):  # a GIF (animation) also carries a document
        await buyer.send_other(kind)
        reply = await buyer.wait_for_text("I can read text, photos and files")
        assert "shop" in buttons(reply), kind
    chinese = sandbox.user(1001)
    await chinese.send_other("sticker")
    reply = await chinese.wait_for_text("我能看懂文字、图片和文件")
    assert "shop" in buttons(reply)
    assert not sandbox.refused, sandbox.refused


async def test_in_a_conversation_a_dice_is_acknowledged_and_a_sticker_announced_to_the_agent(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer, agent = await talking_to_an_agent(sandbox)
    await buyer.send_other("dice")
    await buyer.wait_for_text("can't be passed on")
    await buyer.send_other("sticker")
    await agent.wait_for_text("Alex sent a sticker")
    assert not any("dice" in (m["text"] or "") for m in agent.messages)


async def test_in_a_conversation_a_sticker_and_a_voice_message_are_copied_both_ways(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer, agent = await talking_to_an_agent(sandbox)
    newest = agent.messages[-1]["message_id"]
    await buyer.send_other("sticker")
    await agent.wait_for(copied("sticker", after=newest), timeout=3)
    newest = buyer.messages[-1]["message_id"]
    await agent.send_other("voice", caption="listen")
    voice = await buyer.wait_for(copied("voice", after=newest), timeout=3)
    assert voice["text"] == "👩‍💼 Agent 01: listen"
