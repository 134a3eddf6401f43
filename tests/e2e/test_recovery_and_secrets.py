"""Nothing is lost across a restart, and nothing secret is ever logged."""

from __future__ import annotations

import logging

import pytest

from bot.app import KamibotApp
from bot.sandbox import Sandbox
from bot.sandbox.sandbox import DEFAULT_TOKEN
from store.service.payment import confirm_payment
from tests.e2e.conftest import SECRET
from tests.e2e.test_storefront import open_order, pay_with_stars, shop_order_id


async def test_a_delivery_decided_before_a_crash_is_sent_once_after_restart(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    await open_order(buyer)
    order_id = shop_order_id(buyer.messages)
    await shop.stop()
    # The crash: the payment was confirmed (and its delivery written to the outbox) in the
    # same transaction, and the process died before anything was sent.
    outcome = await confirm_payment(
        shop.ctx.uow(),
        user_id=1003,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480,
        charge_id="charge-before-crash",
        now=shop.ctx.clock.now(),
        rules=shop.ctx.hold,
        topup=shop.ctx.topup,
    )
    assert outcome.delivered
    await shop.engine.dispose()
    for _ in range(2):  # the first restart delivers; the second finds nothing left to send
        restarted = KamibotApp(shop.settings, runtime=shop.runtime, with_scheduler=False)
        await restarted.start()
        await buyer.wait_for_text("Your keys are ready", new_only=False)
        await restarted.delivery.drain()
        await restarted.stop()
    ready = [m for m in buyer.messages if "Your keys are ready" in (m["text"] or "")]
    assert len(ready) == 1
    await shop.start()  # the fixture stops it again


async def test_no_log_line_carries_a_key_the_token_or_the_secret(
    sandbox: Sandbox, shop: KamibotApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    buyer = sandbox.user(1003)
    await pay_with_stars(buyer, await open_order(buyer))
    ready = await buyer.wait_for_text("Your keys are ready")
    await buyer.press("🔑 Show keys", ready)
    shown = await buyer.wait_for_text("STEAM-50-000000")
    assert shown
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert logged  # the runtimes and the shop did log at DEBUG
    secret_token = DEFAULT_TOKEN.split(":", 1)[1]
    for forbidden in ("STEAM-50-000000", secret_token, SECRET):
        assert forbidden not in logged
