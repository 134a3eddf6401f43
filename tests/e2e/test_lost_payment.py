"""A payment whose update a dying bot confirmed and never handled is found and delivered."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.app import KamibotApp
from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from tests.e2e.test_storefront import open_order


class DyingBot:
    """What aiogram's and PTB's own polling did: fetch an update, confirm it, then die."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._api = f"{base_url}/bot{DEFAULT_TOKEN}"

    async def call(self, method: str, **params: Any) -> Any:
        async with self._session.post(f"{self._api}/{method}", json=params) as response:
            answer = await response.json()
        assert answer["ok"], answer
        return answer["result"]

    async def take(self, kind: str) -> dict[str, Any]:
        """Long-poll until an update of `kind` comes, and confirm everything up to it."""
        while True:
            updates: list[dict[str, Any]] = await self.call("getUpdates", timeout=5)
            for update in updates:
                await self.call("getUpdates", offset=update["update_id"] + 1, timeout=0)
                if kind in update:
                    return update


async def test_a_payment_confirmed_by_a_dying_bot_is_delivered_after_restart(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    summary = await open_order(buyer)
    await buyer.press("⭐ Pay 480 Stars", summary)
    await buyer.wait_for(lambda messages: [m for m in messages if m.get("invoice")])
    await shop.stop()
    async with aiohttp.ClientSession() as session:
        dying = DyingBot(session, sandbox.base_url)
        paying = asyncio.ensure_future(buyer.pay())
        checkout = await dying.take("pre_checkout_query")
        await dying.call(
            "answerPreCheckoutQuery",
            pre_checkout_query_id=checkout["pre_checkout_query"]["id"],
            ok=True,
        )
        assert (await paying).ok  # Telegram took the Stars
        payment = await dying.take("message")  # ... and the bot confirmed the update, then died
        assert "successful_payment" in payment["message"]
    assert not sandbox.state.updates  # Telegram will never send it again

    await shop.start()  # start-up reconciles with getStarTransactions
    ready = await buyer.wait_for_text("ready for order", new_only=False)
    await buyer.press("🔑 Show keys", ready)
    await buyer.wait_for_text("STEAM-50-000000")
    assert not sandbox.refused, sandbox.refused
