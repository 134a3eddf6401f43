"""What the conversation asks the adapter to do, as plain values (no Telegram types)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

CALLBACK_DATA_LIMIT = 64
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
"""Telegram's limits on a message's text and a caption, counted after the HTML is parsed."""


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None
    url: str | None = None
    pay: bool = False

    def __post_init__(self) -> None:
        if not self.text:
            raise ValueError("a button needs text")
        if self.data is not None and not 1 <= len(self.data.encode()) <= CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data must be 1-64 bytes: {self.data!r}")


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class SendText:
    chat_id: int
    html: str
    keyboard: Keyboard | None = None
    sensitive: bool = False
    """Carries card keys: its text is never shown in a repr or a log line."""
    receipt: Callable[[int], Awaitable[None]] | None = field(default=None, compare=False)
    """Told the sent message's id (to edit it later, e.g. a buyer's place in the queue)."""

    def __repr__(self) -> str:
        shown = "<hidden>" if self.sensitive else repr(self.html)
        return f"SendText(chat_id={self.chat_id}, html={shown})"


@dataclass(frozen=True)
class EditText:
    chat_id: int
    message_id: int
    html: str
    keyboard: Keyboard | None = None
    fallback: SendText | None = None
    """Sent instead when the message cannot be edited (deleted by the user, say)."""


@dataclass(frozen=True)
class AnswerButton:
    callback_id: str
    text: str | None = None
    alert: bool = False


@dataclass(frozen=True)
class SendInvoice:
    chat_id: int
    title: str
    description: str
    payload: str
    stars: int
    label: str
    keyboard: Keyboard | None = None


@dataclass(frozen=True)
class AnswerPreCheckout:
    query_id: str
    ok: bool
    error_message: str | None = None


@dataclass(frozen=True)
class SendDocument:
    chat_id: int
    file_name: str
    content: bytes
    caption_html: str = ""

    def __repr__(self) -> str:  # content may be card keys: never print it
        size = len(self.content)
        return f"SendDocument(chat_id={self.chat_id}, file_name={self.file_name!r}, bytes={size})"


@dataclass(frozen=True)
class CopyMessage:
    """Relay a message (photo, file) without showing whose it was: Telegram's copyMessage."""

    chat_id: int
    from_chat_id: int
    message_id: int
    caption_html: str | None = None
    keyboard: Keyboard | None = None


Action = (
    SendText
    | EditText
    | AnswerButton
    | SendInvoice
    | AnswerPreCheckout
    | SendDocument
    | CopyMessage
)
