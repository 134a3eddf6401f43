"""A real aiogram bot long-polls the sandbox; a sandbox user talks to it, presses and pays."""

from __future__ import annotations

from aiogram import Dispatcher

from sandbox import Sandbox


async def test_an_aiogram_bot_echoes_answers_a_press_and_takes_a_payment(
    sandbox: Sandbox, aiogram_bot: Dispatcher
) -> None:
    user = sandbox.user(1001)

    await user.send_text("hi there")
    assert (await user.wait_for_text("echo: hi there"))["sender"] == "bot"

    await user.send_text("/start")
    greeting = await user.wait_for_text("Hello")
    assert greeting["html"] == "Hello, <b>buyer</b> &amp; friend"

    query_id = await user.press("Buy")
    answer = await user.wait_for_callback_answer(query_id)
    assert answer.text == "Reserved"
    invoice = await user.wait_for(lambda ms: [m for m in ms if m["invoice"]])

    result = await user.pay()
    assert result.ok, result
    await user.wait_for_text(f"Paid {result.telegram_payment_charge_id}")

    assert invoice[0]["invoice"]["total_amount"] == 5
    assert [p["ok"] for p in sandbox.calls_to("answerPreCheckoutQuery")] == [True]
    sent = sandbox.calls_to("sendInvoice")[0]
    assert (sent["currency"], sent["prices"], sent["payload"]) == (
        "XTR",
        [{"label": "Key", "amount": 5}],
        "order-1",
    )
    assert sandbox.refused == []
