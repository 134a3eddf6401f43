"""What arrives from Telegram, as plain values: the adapters build these, handlers read them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    user_id: int
    chat_id: int
    first_name: str = ""
    language_code: str | None = None


@dataclass(frozen=True)
class TextMessage:
    person: Person
    text: str
    message_id: int = 0


@dataclass(frozen=True)
class ButtonPress:
    person: Person
    data: str
    message_id: int
    callback_id: str


@dataclass(frozen=True)
class PreCheckout:
    person: Person
    query_id: str
    payload: str
    currency: str
    total_amount: int


@dataclass(frozen=True)
class PaymentReceived:
    person: Person
    payload: str
    currency: str
    total_amount: int
    charge_id: str


@dataclass(frozen=True)
class DocumentMessage:
    person: Person
    file_name: str
    file_size: int
    caption: str
    download: Callable[[], Awaitable[bytes]]
    message_id: int = 0
    file_id: str = ""


@dataclass(frozen=True)
class PhotoMessage:
    person: Person
    message_id: int
    file_id: str
    caption: str = ""


Event = TextMessage | ButtonPress | PreCheckout | PaymentReceived | DocumentMessage | PhotoMessage
