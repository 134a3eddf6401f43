"""What the conversation asks the adapter to do, as plain values (no Telegram types).

A message's text and caption are HTML (`Markup`, from handlers.text.say); a button label, a
callback alert and an invoice's fields are plain text that Telegram shows as written
(handlers.text.say_plain). Markup is a str, so the plain fields refuse it when built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

CALLBACK_DATA_LIMIT = 64
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
"""Telegram's limits on a message's text and a caption, counted after the HTML is parsed."""
ALERT_LIMIT = 200
INVOICE_TITLE_LIMIT = 32
INVOICE_DESCRIPTION_LIMIT = 255
"""Telegram's limits on plain text: a callback alert, an invoice's title and description."""


def _plain(value: str | None, field: str) -> None:
    if isinstance(value, Markup):
        raise TypeError(f"{field} is plain text, which Telegram shows as written: not Markup")


def _html(value: object, field: str) -> None:
    if not isinstance(value, Markup):
        raise TypeError(f"{field} is HTML: Markup from handlers.text.say, not a plain str")


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None
    url: str | None = None
    pay: bool = False

    def __post_init__(self) -> None:
        _plain(self.text, "a button's text")
        if not self.text:
            raise ValueError("a button needs text")
        if self.data is not None and not 1 <= len(self.data.encode()) <= CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data must be 1-64 bytes: {self.data!r}")


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class SendText:
    chat_id: int
    html: Markup
    keyboard: Keyboard | None = None
    sensitive: bool = False
    """Carries card keys: its text is never shown in a repr or a log line."""

    def __post_init__(self) -> None:
        _html(self.html, "a message's text")

    def __repr__(self) -> str:
        shown = "<hidden>" if self.sensitive else repr(self.html)
        return f"SendText(chat_id={self.chat_id}, html={shown})"


@dataclass(frozen=True)
class EditText:
    chat_id: int
    message_id: int
    html: Markup
    keyboard: Keyboard | None = None
    fallback: SendText | None = None
    """Sent instead when the message cannot be edited (deleted by the user, say)."""

    def __post_init__(self) -> None:
        _html(self.html, "a message's text")


@dataclass(frozen=True)
class EditKeyboard:
    """Change only a message's buttons (None: take them away), its text left as it is."""

    chat_id: int
    message_id: int
    keyboard: Keyboard | None = None


@dataclass(frozen=True)
class AnswerButton:
    callback_id: str
    text: str | None = None
    alert: bool = False

    def __post_init__(self) -> None:
        _plain(self.text, "a callback answer's text")


@dataclass(frozen=True)
class SendInvoice:
    chat_id: int
    title: str
    description: str
    payload: str
    stars: int
    label: str
    keyboard: Keyboard | None = None

    def __post_init__(self) -> None:
        _plain(self.title, "an invoice's title")
        _plain(self.description, "an invoice's description")
        _plain(self.label, "an invoice's price label")


@dataclass(frozen=True)
class AnswerPreCheckout:
    query_id: str
    ok: bool
    error_message: str | None = None

    def __post_init__(self) -> None:
        _plain(self.error_message, "a pre-checkout error")


@dataclass(frozen=True)
class SendDocument:
    chat_id: int
    file_name: str
    content: bytes
    caption_html: Markup = field(default_factory=Markup)
    keyboard: Keyboard | None = None

    def __post_init__(self) -> None:
        _html(self.caption_html, "a document's caption")

    def __repr__(self) -> str:  # content may be card keys: never print it
        size = len(self.content)
        return f"SendDocument(chat_id={self.chat_id}, file_name={self.file_name!r}, bytes={size})"


@dataclass(frozen=True)
class CopyMessage:
    """Relay a message (photo, file) without showing whose it was: Telegram's copyMessage."""

    chat_id: int
    from_chat_id: int
    message_id: int
    caption_html: Markup | None = None
    keyboard: Keyboard | None = None

    def __post_init__(self) -> None:
        if self.caption_html is not None:
            _html(self.caption_html, "a copied message's caption")


@dataclass(frozen=True)
class SetCommands:
    """The command menu one chat shows (setMyCommands, chat scope), e.g. an agent's."""

    chat_id: int
    commands: tuple[tuple[str, str], ...]
    language_code: str | None = None

    def __post_init__(self) -> None:
        for command, description in self.commands:
            _plain(description, "a command's description")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command) or not 1 <= len(description) <= 256:
                raise ValueError(f"not a command Telegram takes: {command!r}")


Action = (
    SendText
    | EditText
    | EditKeyboard
    | AnswerButton
    | SendInvoice
    | AnswerPreCheckout
    | SendDocument
    | CopyMessage
    | SetCommands
)


@dataclass(frozen=True)
class Rendered:
    """An outbox item as actions, and what sending them leaves behind (an OutboxReceipt)."""

    actions: tuple[Action, ...] = ()
    kept: int | None = None
    """The action whose message later items edit in place: its id is recorded once sent."""
    relayed: tuple[int, ...] = ()
    """The ticket messages these actions show an agent: relayed once Telegram took them."""
