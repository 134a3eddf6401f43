"""The fake Telegram's memory: users and their private chats, messages, files, the update queue,
pending queries and Star payments. One `asyncio.Condition` is notified on every change."""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

from sandbox.html_entities import Entity, entities_to_html

Sender = Literal["bot", "user"]

# Update types a bot gets when it has not chosen (Telegram leaves these three out by default).
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
PHOTO_THUMBNAILS = (("s", 90), ("m", 320), ("x", 800))
"""Telegram's smaller photo sizes: a letter for the file id, and the longer side in pixels."""
_DOCUMENT = ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")


@dataclass(frozen=True)
class UserProfile:
    """A Telegram user the sandbox plays."""

    user_id: int
    first_name: str = "User"
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None

    def to_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def to_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {
            "id": self.user_id,
            "type": "private",
            "first_name": self.first_name,
        }
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class BotProfile:
    bot_id: int
    first_name: str
    username: str

    def to_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def to_get_me(self) -> dict[str, Any]:
        return {
            **self.to_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    def to_document(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }

    def to_photo(self) -> list[dict[str, Any]]:
        """The PhotoSize array, smallest first and the original last, as Telegram sends it.

        Telegram also keeps scaled-down copies (90, 320 and 800 px on the longer side) under
        their own file ids; the sandbox names them the same way but cannot resize, so their
        file holds the original's bytes.
        """
        width, height = image_size(self.content)
        sizes: list[dict[str, Any]] = []
        for letter, side in PHOTO_THUMBNAILS:
            if max(width, height) > side:
                scale = side / max(width, height)
                sizes.append(
                    {
                        "file_id": f"{self.file_id}{letter}",
                        "file_unique_id": f"{self.file_unique_id}{letter}",
                        "width": max(1, round(width * scale)),
                        "height": max(1, round(height * scale)),
                        "file_size": self.size,
                    }
                )
        sizes.append(
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": width,
                "height": height,
                "file_size": self.size,
            }
        )
        return sizes

    def to_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True)
class Invoice:
    title: str
    description: str
    payload: str
    currency: str
    total_amount: int
    start_parameter: str = ""

    def to_bot_api(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": self.start_parameter,
            "currency": self.currency,
            "total_amount": self.total_amount,
        }


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    sender: Sender
    date: int
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    document: StoredFile | None = None
    photo: StoredFile | None = None
    invoice: Invoice | None = None
    successful_payment: dict[str, Any] | None = None
    refunded_payment: dict[str, Any] | None = None
    other_kind: str | None = None
    """A message of another kind (sticker, voice, location, dice, ...): its Bot API field."""
    other: dict[str, Any] | None = None
    """That field's object as Telegram sends it (a venue's or a GIF's twin field included)."""
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    paid_charge_id: str | None = None  # an invoice the user has paid
    version: int = 0

    def to_bot_api(self, bot: BotProfile, user: UserProfile) -> dict[str, Any]:
        """The Message object both aiogram and python-telegram-bot accept."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot.to_user() if self.sender == "bot" else user.to_user(),
            "chat": user.to_chat(),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = list(self.entities)
        if self.document is not None:
            message["document"] = self.document.to_document()
        if self.photo is not None:
            message["photo"] = self.photo.to_photo()
        if self.caption is not None:
            message["caption"] = self.caption
            if self.caption_entities:
                message["caption_entities"] = list(self.caption_entities)
        if self.invoice is not None:
            message["invoice"] = self.invoice.to_bot_api()
        if self.successful_payment is not None:
            message["successful_payment"] = dict(self.successful_payment)
        if self.refunded_payment is not None:
            message["refunded_payment"] = dict(self.refunded_payment)
        if self.other_kind is not None and self.other is not None:
            message[self.other_kind] = dict(self.other)
            # Telegram sets the older field too, for clients that predate the newer one.
            if self.other_kind == "venue":
                message["location"] = dict(self.other["location"])
            if self.other_kind == "animation":
                message["document"] = {k: v for k, v in self.other.items() if k in _DOCUMENT}
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message

    def to_view(self) -> dict[str, Any]:
        """The message as the user sees it (what `SandboxUser.messages` lists)."""
        body = self.text if self.text is not None else self.caption
        body_entities = self.entities if self.text is not None else self.caption_entities
        view: dict[str, Any] = {
            "message_id": self.message_id,
            "sender": self.sender,
            "date": self.date,
            "text": body,
            "html": None if body is None else entities_to_html(body, body_entities),
            "entities": list(body_entities),
            "reply_markup": self.reply_markup,
            "document": None,
            "photo": None,
            "invoice": None,
            "successful_payment": self.successful_payment,
            "refunded_payment": self.refunded_payment,
            "other": None
            if self.other_kind is None
            else {"kind": self.other_kind, **(self.other or {})},
            "edited": self.edit_date is not None,
            "version": self.version,
        }
        for kind, stored in (("document", self.document), ("photo", self.photo)):
            if stored is not None:
                view[kind] = {
                    "file_id": stored.file_id,
                    "file_name": stored.file_name,
                    "mime_type": stored.mime_type,
                    "size": stored.size,
                    "content": stored.content,
                }
        if self.invoice is not None:
            view["invoice"] = {
                "title": self.invoice.title,
                "description": self.invoice.description,
                "currency": self.invoice.currency,
                "total_amount": self.invoice.total_amount,
                "payload": self.invoice.payload,
                "paid": self.paid_charge_id is not None,
            }
        return view


@dataclass(frozen=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class CallbackQuery:
    query_id: str
    user_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None


@dataclass
class PreCheckoutQuery:
    query_id: str
    user_id: int
    message_id: int
    invoice: Invoice
    answer: asyncio.Future[tuple[bool, str | None]]


@dataclass
class Payment:
    """A Star payment a user made for an invoice, and whether the bot has refunded it."""

    telegram_payment_charge_id: str
    provider_payment_charge_id: str
    user_id: int
    invoice: Invoice
    date: int
    refunded: bool = False

    def to_successful_payment(self) -> dict[str, Any]:
        return {
            "currency": self.invoice.currency,
            "total_amount": self.invoice.total_amount,
            "invoice_payload": self.invoice.payload,
            "telegram_payment_charge_id": self.telegram_payment_charge_id,
            "provider_payment_charge_id": self.provider_payment_charge_id,
        }

    def to_refunded_payment(self) -> dict[str, Any]:
        return {
            "currency": self.invoice.currency,
            "total_amount": self.invoice.total_amount,
            "invoice_payload": self.invoice.payload,
            "telegram_payment_charge_id": self.telegram_payment_charge_id,
        }


@dataclass
class Chat:
    """A private chat between the bot and one user."""

    user: UserProfile
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    started: bool = False
    blocked: bool = False
    version: int = 0
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    chat_action: str | None = None
    chat_action_at: float = 0.0
    action_mark: int = 0  # state version at the user's last action: newer bot output is "new"
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_message_id(self) -> int:
        return next(self._message_ids)


class BotCall(NamedTuple):
    """One Bot API call the sandbox received, as ``(method, params)``."""

    method: str
    params: dict[str, Any]


class SandboxState:
    """Everything the fake Telegram remembers, shared by the bot side and the user side."""

    def __init__(self, bot: BotProfile, wall_clock: Callable[[], float]) -> None:
        self.bot = bot
        self.wall_clock = wall_clock
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: frozenset[str] | None = None
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.pre_checkout_queries: dict[str, PreCheckoutQuery] = {}
        self.payments: dict[str, Payment] = {}
        self.transactions: list[dict[str, Any]] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        """(field, language_code) to text; field is "description" or "short_description"."""
        self.calls: list[BotCall] = []
        self.version = 0
        self.closing = False
        self.poll_generation = 0
        self.changed = asyncio.Condition()
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)

    # --- time and identifiers ---

    def now(self) -> int:
        return int(self.wall_clock())

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    # --- change notification ---

    def touch(self, chat: Chat | None = None, message: StoredMessage | None = None) -> None:
        """Record a change; waiters see it at the next `notify`."""
        self.version += 1
        if chat is not None:
            chat.version = self.version
        if message is not None:
            message.version = self.version

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 - every wait has its own deadline; asyncio.timeout inside
    ) -> bool:
        """Wait for `predicate` (rechecked on every notify); False when `timeout` runs out."""
        async with self.changed:
            try:
                async with asyncio.timeout(timeout):
                    await self.changed.wait_for(predicate)
            except TimeoutError:
                return predicate()
            return True

    # --- chats and users ---

    def register_user(self, profile: UserProfile) -> Chat:
        chat = self.chats.get(profile.user_id)
        if chat is None:
            chat = Chat(user=profile)
            self.chats[profile.user_id] = chat
        else:
            chat.user = profile
        return chat

    def update_profile(self, user_id: int, **changes: Any) -> UserProfile:
        chat = self.chats[user_id]
        chat.user = replace(chat.user, **{k: v for k, v in changes.items() if v is not None})
        return chat.user

    def find_chat(self, chat_id: int | str) -> Chat | None:
        if isinstance(chat_id, int):
            return self.chats.get(chat_id)
        username = chat_id.removeprefix("@").lower()
        for chat in self.chats.values():
            if chat.user.username and chat.user.username.lower() == username:
                return chat
        return None

    def add_message(self, chat: Chat, message: StoredMessage) -> StoredMessage:
        chat.messages[message.message_id] = message
        self.touch(chat, message)
        return message

    # --- files ---

    def store_file(
        self, file_name: str, content: bytes, kind: str, mime_type: str | None = None
    ) -> StoredFile:
        number = len(self.files) + 1
        suffix = file_name.rsplit(".", 1)[1] if "." in file_name else "bin"
        guessed = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = StoredFile(
            file_id=f"SBX{kind[:3].upper()}{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{kind}s/file_{number}.{suffix}",
            file_name=file_name,
            mime_type=guessed,
            content=content,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        if kind == "photo":
            for letter, _side in PHOTO_THUMBNAILS:
                copy = replace(
                    stored,
                    file_id=stored.file_id + letter,
                    file_unique_id=stored.file_unique_id + letter,
                    file_path=f"photos/file_{number}{letter}.{suffix}",
                )
                self.files[copy.file_id] = copy
                self.files_by_path[copy.file_path] = copy
        return stored

    # --- updates ---

    def accepts(self, update_type: str) -> bool:
        if self.allowed_updates is None:
            return update_type not in _NOT_DEFAULT_UPDATES
        return update_type in self.allowed_updates

    def enqueue_update(self, update_type: str, payload: dict[str, Any]) -> int | None:
        """Queue an update for getUpdates; None when the bot's allowed_updates leave it out."""
        if not self.accepts(update_type):
            return None
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, update_type: payload})
        self.touch()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    # --- payments ---

    def record_transaction(self, payment: Payment, user: UserProfile, *, refund: bool) -> None:
        """Add a Star transaction to the bot's history, in the order getStarTransactions lists it.

        A payment comes in dated when the user paid, with the user as ``source``; its refund is a
        later transaction, dated now, with the same id and the user as ``receiver``. Telegram
        gives the direction only by which of the two is set: the amount is positive in both.
        """
        partner = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user.to_user(),
            "invoice_payload": payment.invoice.payload,
        }
        # nanostar_amount is left out: Telegram sends it only when it is not 0, and an invoice
        # is paid in whole Stars.
        self.transactions.append(
            {
                "id": payment.telegram_payment_charge_id,
                "amount": payment.invoice.total_amount,
                "date": self.now() if refund else payment.date,
                "receiver" if refund else "source": partner,
            }
        )

    # --- commands ---

    def resolve_commands(self, user: UserProfile) -> list[dict[str, str]]:
        """The command menu a private chat shows, by Telegram's scope and language order."""
        language = (user.language_code or "")[:2]
        chat_scope = scope_key({"type": "chat", "chat_id": user.user_id})
        for scope in (chat_scope, scope_key({"type": "all_private_chats"}), scope_key(None)):
            for lang in (language, ""):
                found = self.commands.get((scope, lang))
                if found:
                    return found
        return []

    def resolve_description(self, user: UserProfile, field: str = "description") -> str:
        """What an empty chat shows above START: the user's language's text, else the default."""
        language = (user.language_code or "")[:2]
        return self.descriptions.get((field, language)) or self.descriptions.get((field, ""), "")


def scope_key(scope: dict[str, Any] | None) -> str:
    if not scope or scope.get("type") == "default":
        return "default"
    parts = [str(scope.get("type"))]
    if "chat_id" in scope:
        parts.append(str(scope["chat_id"]))
    if "user_id" in scope:
        parts.append(str(scope["user_id"]))
    return ":".join(parts)


def image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG; (1, 1) when the bytes are something else."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(content):
            if content[index] != 0xFF:
                break
            marker = content[index + 1]
            length = struct.unpack(">H", content[index + 2 : index + 4])[0]
            if marker in {0xC0, 0xC1, 0xC2}:
                height, width = struct.unpack(">HH", content[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return 1, 1
