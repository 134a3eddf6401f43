"""The user side: what a person does in a Telegram client, for tests and for the web page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.bot_api import MAX_TEXT
from sandbox.errors import UserActionError
from sandbox.html_entities import Entity, utf16_len
from sandbox.markup import MAX_CALLBACK_DATA_BYTES
from sandbox.state import (
    CallbackAnswer,
    CallbackQuery,
    Chat,
    Payment,
    PreCheckoutQuery,
    SandboxState,
    StoredMessage,
    UserProfile,
)

T = TypeVar("T")
ChatMessage = dict[str, Any]
"""One message as the user sees it; see `StoredMessage.to_view` for the keys."""
MessageRef = int | ChatMessage | None

_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\S)")

_FILE_KINDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # kind: (file name, MIME type, the fields Telegram adds to the file's own)
    "sticker": (
        "sticker.webp",
        "image/webp",
        {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    ),
    "voice": ("voice.ogg", "audio/ogg", {"duration": 3}),
    "video": ("video.mp4", "video/mp4", {"width": 640, "height": 360, "duration": 5}),
    "video_note": ("video_note.mp4", "video/mp4", {"length": 240, "duration": 5}),
    "audio": ("audio.mp3", "audio/mpeg", {"duration": 180, "performer": "Band", "title": "Song"}),
    "animation": ("animation.mp4", "video/mp4", {"width": 320, "height": 240, "duration": 2}),
}
_PLAIN_KINDS: dict[str, dict[str, Any]] = {
    "location": {"latitude": 31.2304, "longitude": 121.4737},
    "venue": {
        "location": {"latitude": 31.2397, "longitude": 121.4998},
        "title": "The Bund",
        "address": "Zhongshan East 1st Rd, Shanghai",
    },
    "contact": {"phone_number": "+8613800000000", "first_name": "Wang"},
    "dice": {"emoji": "🎲", "value": 4},
    "poll": {
        "question": "Which one?",
        "options": [
            {"persistent_id": "0", "text": "A", "voter_count": 0},
            {"persistent_id": "1", "text": "B", "voter_count": 0},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,  # newer Bot API fields, which aiogram 3.31 requires
        "members_only": False,
    },
}
OTHER_KINDS = (*_FILE_KINDS, *_PLAIN_KINDS)
"""Kinds of message `SandboxUser.send_other` sends besides text, documents and payments."""
_IMAGE_MAGIC = (
    (b"\xff\xd8", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_CAPTIONED_KINDS = frozenset({"voice", "video", "audio", "animation"})


@dataclass(frozen=True)
class PaymentResult:
    """How `SandboxUser.pay` ended."""

    ok: bool
    error_message: str | None = None
    telegram_payment_charge_id: str | None = None
    message_id: int | None = None  # the user's successful_payment message
    timed_out: bool = False


class SandboxUser:
    """One Telegram user in their private chat with the bot."""

    def __init__(self, state: SandboxState, user_id: int, pre_checkout_timeout: float) -> None:
        self._state = state
        self.user_id = user_id
        self._pre_checkout_timeout = pre_checkout_timeout

    @property
    def profile(self) -> UserProfile:
        return self._chat.user

    @property
    def _chat(self) -> Chat:
        return self._state.chats[self.user_id]

    @property
    def messages(self) -> list[ChatMessage]:
        """The chat as the user sees it now, oldest first (deleted messages are gone)."""
        return [message.to_view() for message in self._chat.messages.values()]

    # --- actions ---

    async def send_text(self, text: str) -> int:
        """Send a text message (``/start`` and other commands included); returns its id."""
        if not text.strip():
            raise UserActionError("Telegram does not send an empty message")
        if len(text) > MAX_TEXT:
            raise UserActionError("Telegram clients split text over 4096 characters")
        message = self._new_user_message(text=text, entities=command_entities(text))
        return await self._deliver(message)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> int:
        """Send a file as a document, with an optional caption; returns the message id."""
        if not content:
            raise UserActionError("Telegram does not send an empty file")
        stored = self._state.store_file(filename, content, "document", mime_type)
        message = self._new_user_message(
            document=stored,
            caption=caption or None,
            caption_entities=command_entities(caption) if caption else [],
        )
        return await self._deliver(message)

    async def send_photo(
        self,
        content: bytes,
        caption: str | None = None,
        filename: str = "photo.jpg",
    ) -> int:
        """Send an image as a photo (not "as a file"): the bot gets ``photo`` sizes, no document.

        Returns the message id.
        """
        if not content:
            raise UserActionError("Telegram does not send an empty photo")
        mime_type = next((mime for magic, mime in _IMAGE_MAGIC if content.startswith(magic)), None)
        if mime_type is None:
            raise UserActionError("Telegram sends only JPEG, PNG or GIF images as photos")
        stored = self._state.store_file(filename, content, "photo", mime_type)
        message = self._new_user_message(
            photo=stored,
            caption=caption or None,
            caption_entities=command_entities(caption) if caption else [],
        )
        return await self._deliver(message)

    async def send_other(
        self, kind: str, caption: str | None = None, content: bytes | None = None
    ) -> int:
        """Send a sticker, voice, video, video note, audio, GIF ("animation"), location, venue,
        contact, dice or poll, as a Telegram client builds it; returns the message id.

        Kinds that are files (sticker to animation) store `content` (a few placeholder bytes if
        not given) so that getFile serves it; only voice, video, audio and GIFs take a caption.
        """
        if kind not in OTHER_KINDS:
            raise UserActionError(f"Telegram has no message of kind {kind!r}: {OTHER_KINDS}")
        if caption and kind not in _CAPTIONED_KINDS:
            raise UserActionError(f"a {kind} takes no caption in Telegram")
        if kind in _FILE_KINDS:
            file_name, mime_type, extra = _FILE_KINDS[kind]
            stored = self._state.store_file(file_name, content or b"\0" * 16, kind, mime_type)
            body: dict[str, Any] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                **extra,
                "file_size": stored.size,
            }
            if kind in ("audio", "animation"):
                body["file_name"] = file_name
            if kind not in ("sticker", "video_note"):  # Telegram gives these no MIME type
                body["mime_type"] = mime_type
        else:
            body = {**_PLAIN_KINDS[kind]}
            if kind == "poll":
                body["id"] = self._state.new_id("5500")
        message = self._new_user_message(
            other_kind=kind,
            other=body,
            caption=caption or None,
            caption_entities=command_entities(caption) if caption else [],
        )
        return await self._deliver(message)

    async def press(self, button: str, message: MessageRef = None) -> str:
        """Press the inline button with this text or callback_data; returns the query id.

        Looks at `message` if given, else at the newest bot message that has such a button.
        """
        stored, found = self._find_button(button, message)
        return await self._press(stored, found)

    async def press_at(self, message_id: int, row: int, column: int) -> str:
        """Press the button at a position (the web page's way); returns the query id."""
        stored = self._bot_message(message_id)
        rows = (stored.reply_markup or {}).get("inline_keyboard") or []
        try:
            found = rows[row][column]
        except IndexError:
            raise UserActionError(f"message {message_id} has no button at {row},{column}") from None
        return await self._press(stored, found)

    async def press_forged(self, callback_data: str, message: MessageRef = None) -> str:
        """Send a callback query with any data, as a modified client can; returns the query id.

        It is attached to `message`, or to the newest bot message. For testing that the bot
        trusts no callback data it did not check.
        """
        if not 1 <= len(callback_data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise UserActionError("Telegram carries callback data of 1-64 bytes only")
        if message is not None:
            stored = self._bot_message(message)
        else:
            newest = [m for m in self._chat.messages.values() if m.sender == "bot"]
            if not newest:
                raise UserActionError("the bot has sent this user nothing to press on")
            stored = newest[-1]
        return await self._send_callback_query(stored, callback_data)

    async def pay(self, invoice_message: MessageRef = None) -> PaymentResult:
        """Pay an invoice (the newest one by default) as Telegram does it.

        Sends a pre_checkout_query and waits for the bot's answer, with Telegram's 10 s deadline;
        if the bot says ok, the payment goes through and a successful_payment message follows.
        """
        message = self._find_invoice(invoice_message)
        invoice = message.invoice
        assert invoice is not None  # _find_invoice only returns invoices
        if message.paid_charge_id is not None:
            raise UserActionError(f"invoice message {message.message_id} is already paid")
        state = self._state
        query_id = state.new_id("7700")
        answer: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        state.pre_checkout_queries[query_id] = PreCheckoutQuery(
            query_id, self.user_id, message.message_id, invoice, answer
        )
        state.enqueue_update(
            "pre_checkout_query",
            {
                "id": query_id,
                "from": self.profile.to_user(),
                "currency": invoice.currency,
                "total_amount": invoice.total_amount,
                "invoice_payload": invoice.payload,
            },
        )
        self._chat.action_mark = state.version
        await state.notify()
        try:
            async with asyncio.timeout(self._pre_checkout_timeout):
                ok, error_message = await answer
        except TimeoutError:
            return PaymentResult(
                ok=False,
                error_message="the bot did not answer the pre-checkout query in time",
                timed_out=True,
            )
        finally:
            state.pre_checkout_queries.pop(query_id, None)
        if not ok:
            return PaymentResult(ok=False, error_message=error_message)
        return await self._complete_payment(message)

    async def redeliver_last_payment(self) -> str:
        """Deliver the last successful_payment message again as a new update, as Telegram may.

        Returns its telegram_payment_charge_id.
        """
        for stored in reversed(self._chat.messages.values()):
            if stored.successful_payment is not None:
                self._state.enqueue_update(
                    "message", stored.to_bot_api(self._state.bot, self.profile)
                )
                self._chat.action_mark = self._state.version
                await self._state.notify()
                return str(stored.successful_payment["telegram_payment_charge_id"])
        raise UserActionError("this user has made no payment yet")

    async def block(self) -> None:
        """Block the bot: from now on the bot gets 403 "bot was blocked by the user"."""
        self._chat.blocked = True
        self._state.touch(self._chat)
        await self._state.notify()

    async def unblock(self) -> None:
        self._chat.blocked = False
        self._state.touch(self._chat)
        await self._state.notify()

    # --- waiting and reading ---

    async def wait_for(
        self,
        predicate: Callable[[list[ChatMessage]], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109 - tests read better with the deadline here
    ) -> T:
        """Wait until `predicate(messages)` is truthy (rechecked on every change) and return it."""
        result: list[T] = []

        def check() -> bool:
            value = predicate(self.messages)
            if value:
                result[:] = [value]
                return True
            return False

        if not await self._state.wait_until(check, timeout):
            raise TimeoutError(f"condition not met within {timeout}s; chat: {self._summary()}")
        return result[0]

    async def wait_for_text(
        self,
        substring: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - as wait_for
        *,
        new_only: bool = True,
    ) -> ChatMessage:
        """Wait for a bot message containing `substring` and return it.

        With `new_only` (the default), only messages sent or edited since the user's last action
        count, so an old reply does not satisfy a wait for the next one.
        """
        mark = self._chat.action_mark if new_only else -1

        def found(messages: list[ChatMessage]) -> ChatMessage | None:
            for message in reversed(messages):
                text = message["text"] or ""
                if message["sender"] == "bot" and message["version"] > mark and substring in text:
                    return message
            return None

        try:
            return await self.wait_for(found, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no bot message containing {substring!r} within {timeout}s; "
                f"chat: {self._summary()}"
            ) from None

    def last_callback_answer(self, query_id: str | None = None) -> CallbackAnswer | None:
        """The bot's answer to a button press: to `query_id`, or the latest one."""
        if query_id is not None:
            query = self._state.callback_queries.get(query_id)
            return query.answer if query else None
        answers = self._chat.callback_answers
        return answers[-1] if answers else None

    async def wait_for_callback_answer(
        self,
        query_id: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - as wait_for
    ) -> CallbackAnswer:
        """Wait until the bot answers the press `query_id` (or any press, when None)."""
        before = len(self._chat.callback_answers)

        def answered() -> bool:
            if query_id is not None:
                return self.last_callback_answer(query_id) is not None
            return len(self._chat.callback_answers) > before

        if not await self._state.wait_until(answered, timeout):
            raise TimeoutError(f"the bot did not answer the button press within {timeout}s")
        answer = self.last_callback_answer(query_id)
        assert answer is not None
        return answer

    # --- internals ---

    def _summary(self) -> str:
        return repr([(m["sender"], m["text"]) for m in self.messages[-5:]])

    def _new_user_message(self, **content: Any) -> StoredMessage:
        chat = self._chat
        return StoredMessage(
            message_id=chat.next_message_id(),
            chat_id=self.user_id,
            sender="user",
            date=self._state.now(),
            **content,
        )

    async def _deliver(self, message: StoredMessage) -> int:
        chat = self._chat
        chat.started = True
        chat.blocked = False  # writing to a blocked bot restarts it, as in the apps
        self._state.add_message(chat, message)
        self._state.enqueue_update("message", message.to_bot_api(self._state.bot, chat.user))
        self._chat.action_mark = self._state.version
        await self._state.notify()
        return message.message_id

    def _bot_message(self, ref: int | ChatMessage) -> StoredMessage:
        message_id = ref if isinstance(ref, int) else int(ref["message_id"])
        stored = self._chat.messages.get(message_id)
        if stored is None or stored.sender != "bot":
            raise UserActionError(f"no bot message {message_id} in this chat")
        return stored

    def _find_button(self, button: str, ref: MessageRef) -> tuple[StoredMessage, dict[str, Any]]:
        if ref is not None:
            candidates = [self._bot_message(ref)]
        else:
            candidates = [m for m in reversed(self._chat.messages.values()) if m.sender == "bot"]
        seen: list[str] = []
        for stored in candidates:
            for row in (stored.reply_markup or {}).get("inline_keyboard") or []:
                for found in row:
                    if button in (found.get("text"), found.get("callback_data")):
                        return stored, found
                    seen.append(str(found.get("text")))
        raise UserActionError(f"no button {button!r}; buttons on screen: {seen}")

    async def _press(self, stored: StoredMessage, button: dict[str, Any]) -> str:
        if button.get("pay"):
            raise UserActionError("this is an invoice's pay button: use pay()")
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise UserActionError(
                f"button {button.get('text')!r} is not a callback button; nothing reaches the bot"
            )
        return await self._send_callback_query(stored, data)

    async def _send_callback_query(self, stored: StoredMessage, data: str) -> str:
        state = self._state
        chat = self._chat
        chat.started = True
        query_id = state.new_id("4400")
        state.callback_queries[query_id] = CallbackQuery(
            query_id, self.user_id, stored.message_id, data
        )
        state.enqueue_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.profile.to_user(),
                "message": stored.to_bot_api(state.bot, chat.user),
                "chat_instance": f"{self.user_id}{state.bot.bot_id}",
                "data": data,
            },
        )
        self._chat.action_mark = state.version
        await state.notify()
        return query_id

    def _find_invoice(self, ref: MessageRef) -> StoredMessage:
        if ref is not None:
            stored = self._bot_message(ref)
            if stored.invoice is None:
                raise UserActionError(f"message {stored.message_id} is not an invoice")
            return stored
        for stored in reversed(self._chat.messages.values()):
            if stored.sender == "bot" and stored.invoice is not None:
                return stored
        raise UserActionError("the bot has sent this user no invoice")

    async def _complete_payment(self, invoice_message: StoredMessage) -> PaymentResult:
        state = self._state
        chat = self._chat
        invoice = invoice_message.invoice
        assert invoice is not None
        number = state.new_id("")
        payment = Payment(
            telegram_payment_charge_id=f"stxSANDBOX{number}x{self.user_id}",
            provider_payment_charge_id=f"{self.user_id}_{number}",
            user_id=self.user_id,
            invoice=invoice,
            date=state.now(),
        )
        state.payments[payment.telegram_payment_charge_id] = payment
        state.record_transaction(payment, chat.user, refund=False)
        invoice_message.paid_charge_id = payment.telegram_payment_charge_id
        state.touch(chat, invoice_message)
        receipt = self._new_user_message(successful_payment=payment.to_successful_payment())
        message_id = await self._deliver(receipt)
        return PaymentResult(
            ok=True,
            telegram_payment_charge_id=payment.telegram_payment_charge_id,
            message_id=message_id,
        )


def command_entities(text: str) -> list[Entity]:
    """bot_command entities, as Telegram marks them (python-telegram-bot relies on them)."""
    entities: list[Entity] = []
    for match in _COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities
