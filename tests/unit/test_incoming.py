"""Telegram messages into events: what the adapters carry over for the conversation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.incoming import event_from_message
from handlers.event import DocumentMessage


async def _no_download(file_id: str) -> bytes:
    return b""


def _message(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "message_id": 5,
        "chat": SimpleNamespace(id=1001, type="private"),
        "from_user": SimpleNamespace(id=1001, first_name="Li", language_code="en"),
        "text": None,
        "caption": None,
        "successful_payment": None,
        "document": None,
        "photo": None,
    }
    return SimpleNamespace(**{**base, **fields})


def test_a_file_keeps_its_mime_type_so_a_picture_sent_as_a_file_is_known_as_one() -> None:
    picture = SimpleNamespace(file_id="F1", file_name="shot", file_size=10, mime_type="image/jpeg")
    event = event_from_message(_message(document=picture), _no_download)
    assert isinstance(event, DocumentMessage)
    assert event.mime_type == "image/jpeg" and event.is_image


def test_a_file_without_a_mime_type_is_a_picture_by_its_name_only() -> None:
    keys = SimpleNamespace(file_id="F2", file_name="keys.txt", file_size=10, mime_type=None)
    shot = SimpleNamespace(file_id="F3", file_name="Shot.PNG", file_size=10, mime_type=None)
    first = event_from_message(_message(document=keys), _no_download)
    second = event_from_message(_message(document=shot), _no_download)
    assert isinstance(first, DocumentMessage) and not first.is_image
    assert isinstance(second, DocumentMessage) and second.is_image
