"""The executor carries out a reply's actions in order, through the sender."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.sender import Limits, OutgoingSender, PermanentSendError
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
from handlers.text import Markup
from store.domain.model import StarTransaction

QUERY_GONE = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class RecordingPort:
    """A TelegramPort that records calls; answers to queries fail as after a restart."""

    def __init__(self, *, queries_gone: bool = False, edits_fail: bool = False) -> None:
        self.calls: list[str] = []
        self.queries_gone = queries_gone
        self.edits_fail = edits_fail

    async def send_text(self, action: SendText) -> int:
        self.calls.append(f"send:{action.html}")
        return 1

    async def copy_message(self, action: CopyMessage) -> None:
        self.calls.append("copy")

    async def edit_text(self, action: EditText) -> None:
        if self.edits_fail:
            raise PermanentSendError("Bad Request: message to edit not found")
        self.calls.append(f"edit:{action.html}")

    async def edit_keyboard(self, action: EditKeyboard) -> None:
        self.calls.append(f"keyboard:{action.message_id}")

    async def answer_button(self, action: AnswerButton) -> None:
        if self.queries_gone:
            raise PermanentSendError(QUERY_GONE)
        self.calls.append("answer")

    async def send_invoice(self, action: SendInvoice) -> None:
        self.calls.append("invoice")

    async def answer_pre_checkout(self, action: AnswerPreCheckout) -> None:
        if self.queries_gone:
            raise PermanentSendError(QUERY_GONE)
        self.calls.append("pre_checkout")

    async def send_document(self, action: SendDocument) -> None:
        self.calls.append("document")

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self.calls.append("refund")

    async def set_commands(
        self, commands: list[tuple[str, str]], language_code: str | None, chat_id: int | None = None
    ) -> None:
        self.calls.append("commands")

    async def set_description(
        self, description: str, short_description: str, language_code: str | None
    ) -> None:
        self.calls.append("commands")

    async def delete_webhook(self) -> None:
        self.calls.append("delete_webhook")

    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]:
        return []


def _executor(port: RecordingPort) -> ActionExecutor:
    return ActionExecutor(
        port, OutgoingSender(Limits(per_chat_per_second=1000, per_chat_burst=100))
    )


async def test_a_button_pressed_before_a_restart_still_gets_its_edited_screen() -> None:
    port = RecordingPort(queries_gone=True)
    await _executor(port).perform([AnswerButton("cb1"), EditText(1, 5, Markup("Order #3"))])
    assert port.calls == ["edit:Order #3"]


async def test_a_refused_message_is_not_skipped_silently() -> None:
    port = RecordingPort(edits_fail=True)
    with pytest.raises(PermanentSendError):
        await _executor(port).perform(
            [EditText(1, 5, Markup("Order #3")), SendText(1, Markup("after"))]
        )
    assert port.calls == []


async def test_an_edit_of_a_message_that_is_gone_sends_its_fallback_instead() -> None:
    port = RecordingPort(edits_fail=True)
    notice = SendText(1, Markup("Your keys are ready"))
    edit = EditText(1, 5, Markup("Your keys are ready"), fallback=notice)
    await _executor(port).perform([edit])
    assert port.calls == ["send:Your keys are ready"]
