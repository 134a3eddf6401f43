"""A real python-telegram-bot Application long-polls the sandbox; a user talks, presses, pays."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from sandbox import Sandbox
from tests.sandbox.conftest import TOKEN


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Hello, <i>buyer</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Buy", callback_data="buy:1")]]),
    )


async def on_buy_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer("Reserved")
    await context.bot.send_invoice(
        chat_id=update.effective_chat.id,
        title="Key",
        description="One key",
        payload="order-2",
        currency="XTR",
        prices=[LabeledPrice("Key", 7)],
    )


async def on_pre_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.pre_checkout_query is not None
    await update.pre_checkout_query.answer(ok=True)


async def on_paid(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.successful_payment is not None
    await message.reply_text(f"Paid {message.successful_payment.telegram_payment_charge_id}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


@pytest.fixture
async def polling_application(sandbox: Sandbox) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url + "/bot")
        .base_file_url(sandbox.base_url + "/file/bot")
        .build()
    )
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_buy_pressed, pattern="^buy:"))
    application.add_handler(PreCheckoutQueryHandler(on_pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, on_paid))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling()
    await sandbox.wait_for_call("getUpdates")
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def test_a_ptb_application_echoes_answers_a_press_and_takes_a_payment(
    sandbox: Sandbox,
    polling_application: Application,  # type: ignore[type-arg]
) -> None:
    user = sandbox.user(1001)

    await user.send_text("hi there")
    await user.wait_for_text("echo: hi there")

    await user.send_text("/start")
    greeting = await user.wait_for_text("Hello")
    assert greeting["html"] == "Hello, <i>buyer</i>"

    query_id = await user.press("buy:1")
    assert (await user.wait_for_callback_answer(query_id)).text == "Reserved"
    await user.wait_for(lambda ms: any(m["invoice"] for m in ms))

    result = await user.pay()
    assert result.ok, result
    await user.wait_for_text(f"Paid {result.telegram_payment_charge_id}")

    assert sandbox.calls_to("deleteWebhook"), "PTB clears the webhook before polling"
    assert sandbox.calls_to("sendInvoice")[0]["prices"] == [{"label": "Key", "amount": 7}]
    assert sandbox.refused == []
