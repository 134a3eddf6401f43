"""The outbox worker against a recording Telegram port: what goes out, and what a failure keeps."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.outbox_worker import OutboxWorker
from bot.sender import Limits, OutgoingSender, TransientSendError
from bot.telegram_port import ActionExecutor
from handlers.action import (
    AnswerButton,
    AnswerPreCheckout,
    CopyMessage,
    EditKeyboard,
    EditText,
    SendDocument,
    SendInvoice,
    SendText,
)
from handlers.context import ShopContext
from handlers.event import Person, TextMessage
from handlers.router import dispatch
from store.domain.model import StarTransaction
from tests.conversation.conftest import AGENT
from tests.factories import text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

BUYER = 1001


class RecordingPort:
    """A TelegramPort that keeps what each chat was sent; a chat may refuse its next send once."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.new_messages: dict[int, list[int]] = {}
        self.edited: list[tuple[int, int, str]] = []
        self.failing: set[int] = set()
        self._ids = iter(range(100, 10_000))

    def fail_next_send_to(self, chat_id: int) -> None:
        self.failing.add(chat_id)

    def _refuse_once(self, chat_id: int) -> None:
        if chat_id in self.failing:
            self.failing.discard(chat_id)
            raise TransientSendError("Telegram did not answer")

    async def send_text(self, action: SendText) -> int:
        self._refuse_once(action.chat_id)
        self.sent.append((action.chat_id, action.html))
        message_id = next(self._ids)
        self.new_messages.setdefault(action.chat_id, []).append(message_id)
        return message_id

    async def copy_message(self, action: CopyMessage) -> None:
        self._refuse_once(action.chat_id)
        self.sent.append((action.chat_id, action.caption_html or "<copy>"))

    async def edit_text(self, action: EditText) -> None:
        self._refuse_once(action.chat_id)
        self.sent.append((action.chat_id, action.html))
        self.edited.append((action.chat_id, action.message_id, action.html))

    async def edit_keyboard(self, action: EditKeyboard) -> None:
        self._refuse_once(action.chat_id)

    async def answer_button(self, action: AnswerButton) -> None:
        pass

    async def send_invoice(self, action: SendInvoice) -> None:
        self.sent.append((action.chat_id, action.title))

    async def answer_pre_checkout(self, action: AnswerPreCheckout) -> None:
        pass

    async def send_document(self, action: SendDocument) -> None:
        self.sent.append((action.chat_id, action.file_name))

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        pass

    async def set_commands(
        self, commands: list[tuple[str, str]], language_code: str | None, chat_id: int | None = None
    ) -> None:
        pass

    async def set_description(
        self, description: str, short_description: str, language_code: str | None
    ) -> None:
        pass

    async def delete_webhook(self) -> None:
        pass

    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]:
        return []

    def seen_by(self, chat_id: int) -> str:
        return "\n".join(html for chat, html in self.sent if chat == chat_id)


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


@pytest.fixture
def executor(port: RecordingPort) -> ActionExecutor:
    """No retries inside the sender: a refused send is the outbox's to try again."""
    limits = Limits(per_chat_per_second=1000, per_chat_burst=100, max_attempts=1)
    return ActionExecutor(port, OutgoingSender(limits))


async def handle(event: TextMessage, ctx: ShopContext, executor: ActionExecutor) -> None:
    """As the app does: the conversation decides, the executor sends the replies."""
    await executor.perform(await dispatch(event, ctx))


def agent_says(body: str) -> TextMessage:
    return TextMessage(Person(AGENT, AGENT, "Mei", "en"), body, 1)


async def test_what_a_waiting_buyer_wrote_reaches_the_agent_even_when_the_first_send_failed(
    ctx: ShopContext, executor: ActionExecutor, port: RecordingPort
) -> None:
    worker = OutboxWorker(ctx, executor)
    await handle(text("/human", user_id=BUYER), ctx, executor)  # nobody on duty: queued
    await worker.drain()
    await handle(text("the key says it was already redeemed", user_id=BUYER), ctx, executor)
    await handle(agent_says("/duty on"), ctx, executor)  # the ticket is assigned: card queued
    port.fail_next_send_to(AGENT)
    await worker.drain()  # the card does not go out: the item is tried again
    assert "already redeemed" not in port.seen_by(AGENT)
    await worker.drain()
    assert "Ticket #" in port.seen_by(AGENT)
    assert "already redeemed" in port.seen_by(AGENT)


async def test_a_waiting_buyers_place_is_one_message_edited_as_the_queue_moves(
    ctx: ShopContext, executor: ActionExecutor, port: RecordingPort
) -> None:
    worker = OutboxWorker(ctx, executor)
    await handle(agent_says("/duty on"), ctx, executor)
    for busy in (3001, 3002):  # the agent's two places are taken
        await handle(text("/human", user_id=busy), ctx, executor)
    await handle(text("/human", user_id=3003), ctx, executor)
    await handle(text("/human", user_id=BUYER), ctx, executor)
    await worker.drain()
    [place] = port.new_messages[BUYER]  # sent by the outbox, its id kept once Telegram took it
    assert "number 2" in port.seen_by(BUYER)
    await handle(agent_says("/close"), ctx, executor)  # room for 3003: the buyer moves up
    await worker.drain()
    assert port.new_messages[BUYER] == [place]
    [(_, edited, moved)] = [e for e in port.edited if e[0] == BUYER]
    assert edited == place and "You're next" in moved
