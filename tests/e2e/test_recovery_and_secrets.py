"""Nothing is lost across a restart (what is never logged: test_logs_hold_no_secrets.py)."""

from __future__ import annotations

from bot.app import KamibotApp
from sandbox import Sandbox
from store.services.payment import confirm_payment
from tests.e2e.test_storefront import open_order, shop_order_reference


async def test_a_delivery_decided_before_a_crash_is_sent_once_after_restart(
    sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003)
    await open_order(buyer)
    async with shop.ctx.uow().reading() as tx:  # the invoice payload names the order by id
        order = await tx.orders.by_reference(shop_order_reference(buyer.messages))
    assert order is not None
    order_id = order.id
    await shop.stop()
    # The crash: the payment was confirmed (and its delivery written to the outbox) in the
    # same transaction, and the process died before anything was sent.
    outcome = await confirm_payment(
        shop.ctx.uow,
        user_id=1003,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480,
        charge_id="charge-before-crash",
        now=shop.ctx.clock.now(),
        rules=shop.ctx.hold,
        topup=shop.ctx.topup,
        refunder=shop.ctx.refunder,
    )
    assert outcome.delivered
    await shop.engine.dispose()
    for _ in range(2):  # the first restart delivers; the second finds nothing left to send
        restarted = KamibotApp(shop.settings, runtime=shop.runtime, with_scheduler=False)
        await restarted.start()
        await buyer.wait_for_text("ready for order", new_only=False)
        await restarted.outbox.drain()
        await restarted.stop()
    ready = [m for m in buyer.messages if "ready for order" in (m["text"] or "")]
    assert len(ready) == 1
    await shop.start()  # the fixture stops it again
