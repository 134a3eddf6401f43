"""Telegram updates into Kamibot events, once for both runtimes.

aiogram and python-telegram-bot model the Bot API with the same field names, so one translator
serves both through these protocols; each runtime passes only its own way of downloading a file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from handlers.event import (
    OTHER_KINDS,
    ButtonPress,
    DocumentMessage,
    Event,
    OtherMessage,
    PaymentReceived,
    Person,
    PhotoMessage,
    PreCheckout,
    TextMessage,
)
from store.domain.model import StarTransaction

Download = Callable[[str], Awaitable[bytes]]
"""Fetch a file's bytes by its file_id."""


class UserLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def first_name(self) -> str: ...
    @property
    def language_code(self) -> str | None: ...


class ChatLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...


class PaymentLike(Protocol):
    @property
    def invoice_payload(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def total_amount(self) -> int: ...
    @property
    def telegram_payment_charge_id(self) -> str: ...


class DocumentLike(Protocol):
    @property
    def file_id(self) -> str: ...
    @property
    def file_name(self) -> str | None: ...
    @property
    def file_size(self) -> int | None: ...
    @property
    def mime_type(self) -> str | None: ...


class PhotoLike(Protocol):
    @property
    def file_id(self) -> str: ...


class MessageLike(Protocol):
    @property
    def message_id(self) -> int: ...
    @property
    def chat(self) -> ChatLike: ...
    @property
    def from_user(self) -> UserLike | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def caption(self) -> str | None: ...
    @property
    def successful_payment(self) -> PaymentLike | None: ...
    @property
    def document(self) -> DocumentLike | None: ...
    @property
    def photo(self) -> Sequence[PhotoLike] | None: ...


class ReplyTargetLike(Protocol):
    @property
    def message_id(self) -> int: ...
    @property
    def chat(self) -> ChatLike: ...


class CallbackLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def from_user(self) -> UserLike: ...
    @property
    def data(self) -> str | None: ...
    @property
    def message(self) -> ReplyTargetLike | None: ...


class StarTransactionLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def date(self) -> datetime: ...
    @property
    def source(self) -> Any: ...
    @property
    def receiver(self) -> Any: ...


class PreCheckoutLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def from_user(self) -> UserLike: ...
    @property
    def invoice_payload(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def total_amount(self) -> int: ...


def _person(user: UserLike, chat_id: int) -> Person:
    return Person(user.id, chat_id, user.first_name or "", user.language_code)


def event_from_message(message: MessageLike, download: Download) -> Event | None:
    """A private-chat message: a payment, a file, a photo, text, or a sticker, voice, location
    and the like (`OTHER_KINDS`); anything else (a service message) is ignored."""
    if message.from_user is None or message.chat.type != "private":
        return None
    person = _person(message.from_user, message.chat.id)
    paid = message.successful_payment
    if paid is not None:
        return PaymentReceived(
            person,
            paid.invoice_payload,
            paid.currency,
            paid.total_amount,
            paid.telegram_payment_charge_id,
        )
    if getattr(message, "animation", None) is not None:  # a GIF carries a document too
        return OtherMessage(person, message.message_id, "animation", message.caption or "")
    document = message.document
    if document is not None:
        file_id = document.file_id

        async def fetch() -> bytes:
            return await download(file_id)

        return DocumentMessage(
            person,
            document.file_name or "keys.txt",
            document.file_size or 0,
            message.caption or "",
            fetch,
            message.message_id,
            file_id,
            document.mime_type or "",
        )
    if message.photo:
        largest = message.photo[-1]
        return PhotoMessage(person, message.message_id, largest.file_id, message.caption or "")
    if message.text is not None:
        return TextMessage(person, message.text, message.message_id)
    for kind in OTHER_KINDS:  # both libraries name these fields as the Bot API does
        if getattr(message, kind, None) is not None:
            return OtherMessage(person, message.message_id, kind, message.caption or "")
    return None


def event_from_callback(query: CallbackLike, download: Download | None = None) -> Event | None:
    if query.message is None or query.data is None:
        return None
    person = _person(query.from_user, query.message.chat.id)
    return ButtonPress(person, query.data, query.message.message_id, query.id, download)


def event_from_pre_checkout(query: PreCheckoutLike) -> Event:
    person = _person(query.from_user, query.from_user.id)
    return PreCheckout(person, query.id, query.invoice_payload, query.currency, query.total_amount)


def star_transaction(transaction: StarTransactionLike) -> StarTransaction:
    """One of getStarTransactions' entries, from either library's type, as the shop's."""
    partner = transaction.source or transaction.receiver
    user = partner if getattr(partner, "type", None) == "user" else None
    return StarTransaction(
        id=transaction.id,
        amount=transaction.amount,
        date=transaction.date.astimezone(UTC),
        incoming=transaction.source is not None,
        user_id=user.user.id if user is not None else None,
        payload=(getattr(user, "invoice_payload", None) or "") if user is not None else "",
    )
