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
    download: Callable[[str], Awaitable[bytes]] | None = None
    """A file the chat holds, by its file_id (a button that acts on a file sent earlier)."""


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
    mime_type: str = ""

    @property
    def is_image(self) -> bool:
        """A picture sent as a file ("send as file" keeps it uncompressed): a screenshot too."""
        if self.mime_type:
            return self.mime_type.lower().startswith("image/")
        return self.file_name.lower().endswith(IMAGE_EXTENSIONS)


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".heic", ".heif")
"""A file's name that says it is a picture, when Telegram gives no MIME type."""


@dataclass(frozen=True)
class PhotoMessage:
    person: Person
    message_id: int
    file_id: str
    caption: str = ""


OTHER_KINDS = (
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "venue",  # before "location": Telegram sets a venue's location too
    "location",
    "contact",
    "dice",
    "poll",
)
"""The Bot API's names for messages that are neither text, a photo, a file nor a payment."""
CAPTIONED_KINDS = frozenset({"voice", "video", "audio", "animation"})
"""Those of them that carry a caption (so a relay can put its header there)."""


@dataclass(frozen=True)
class OtherMessage:
    """A sticker, voice message, location, poll and so on: one of `OTHER_KINDS`."""

    person: Person
    message_id: int
    kind: str
    caption: str = ""


Event = (
    TextMessage
    | ButtonPress
    | PreCheckout
    | PaymentReceived
    | DocumentMessage
    | PhotoMessage
    | OtherMessage
)
