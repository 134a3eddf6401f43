"""The Bot API methods the sandbox answers, with Telegram's checks and error descriptions."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.errors import BotApiError, bad_request, entities_error, forbidden
from sandbox.flood import FloodControl
from sandbox.html_entities import Entity, ParsedText, parse_html, utf16_len
from sandbox.markup import validate_reply_markup
from sandbox.params import Params, UploadedFile
from sandbox.state import (
    BotCall,
    CallbackAnswer,
    Chat,
    Invoice,
    SandboxState,
    StoredFile,
    StoredMessage,
    scope_key,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_POLL_TIMEOUT = 50
QUERY_GONE = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_LEADING_INTEGER_RE = re.compile(r"-?\d+")

Method = Callable[[Params], Awaitable[Any]]


class BotApi:
    """Answers one Bot API call at a time against the shared `SandboxState`."""

    def __init__(
        self,
        state: SandboxState,
        flood: FloodControl,
        *,
        require_start: bool = True,
    ) -> None:
        self.state = state
        self.flood = flood
        self.require_start = require_start
        self.refused: list[tuple[BotCall, BotApiError]] = []
        methods: dict[str, Method] = {
            "getMe": self.get_me,
            "logOut": self.ok,
            "close": self.ok,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "getUpdates": self.get_updates,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setMyDescription": self.set_my_description,
            "getMyDescription": self.get_my_description,
            "setMyShortDescription": self.set_my_short_description,
            "getMyShortDescription": self.get_my_short_description,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendDocument": self.send_document,
            "sendPhoto": self.send_photo,
            "copyMessage": self.copy_message,
            "getFile": self.get_file,
            "sendInvoice": self.send_invoice,
            "answerPreCheckoutQuery": self.answer_pre_checkout_query,
            "refundStarPayment": self.refund_star_payment,
            "getStarTransactions": self.get_star_transactions,
            "sendChatAction": self.send_chat_action,
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, method) for name, method in methods.items()}

    def canonical_name(self, method: str) -> str:
        found = self._methods.get(method.lower())
        return found[0] if found else method

    async def call(self, method: str, params: Params) -> Any:
        """Record the call and answer it; raises `BotApiError` for an ``ok: false`` answer."""
        call = BotCall(self.canonical_name(method), params.values)
        self.state.calls.append(call)
        found = self._methods.get(method.lower())
        try:
            if found is None:
                raise BotApiError(404, "Not Found")
            return await found[1](params)
        except BotApiError as error:
            self.refused.append((call, error))
            raise

    # --- helpers ---

    def _target_chat(self, params: Params, name: str = "chat_id") -> Chat:
        """The chat a message goes to, refused as Telegram refuses it."""
        chat = self.state.find_chat(params.chat_id(name))
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if self.require_start and not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _known_chat(self, params: Params, name: str = "chat_id") -> Chat:
        chat = self.state.find_chat(params.chat_id(name))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _formatted(
        self,
        params: Params,
        field: str,
        entities_field: str,
        limit: int,
    ) -> ParsedText | None:
        raw = params.optional_string(field)
        if raw is None:
            return None
        parse_mode = (params.optional_string("parse_mode") or "").strip()
        if parse_mode.lower() == "html":
            parsed = parse_html(raw)
        elif parse_mode:
            raise entities_error(
                f"the sandbox understands only parse_mode HTML, not {parse_mode!r}"
            )
        else:
            parsed = ParsedText(raw, tuple(_checked_entities(params.raw(entities_field), raw)))
        if len(parsed.text) > limit:
            raise bad_request(
                "message is too long" if limit == MAX_TEXT else "message caption is too long"
            )
        return parsed

    def _message_text(self, params: Params) -> ParsedText:
        parsed = self._formatted(params, "text", "entities", MAX_TEXT)
        if parsed is None or not parsed.text.strip():
            raise bad_request("message text is empty")
        return parsed

    def _caption(self, params: Params) -> ParsedText | None:
        return self._formatted(params, "caption", "caption_entities", MAX_CAPTION)

    def _new_bot_message(self, chat: Chat, **content: Any) -> StoredMessage:
        message = StoredMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.user.user_id,
            sender="bot",
            date=self.state.now(),
            **content,
        )
        chat.chat_action = None  # sending a message ends the "typing…" status
        return self.state.add_message(chat, message)

    def _reply(self, chat: Chat, message: StoredMessage) -> dict[str, Any]:
        return message.to_bot_api(self.state.bot, chat.user)

    def _input_file(self, params: Params, field: str, kind: str) -> StoredFile:
        given = params.input_file(field)
        if isinstance(given, UploadedFile):
            if not given.content:
                raise bad_request("file must be non-empty")
            content_type = given.content_type
            mime = None if content_type in {"", "application/octet-stream"} else content_type
            return self.state.store_file(given.filename or field, given.content, kind, mime)
        stored = self.state.files.get(given)
        if stored is not None:
            if kind == "photo" and not stored.mime_type.startswith("image/"):
                raise bad_request("wrong file identifier/HTTP URL specified")
            return stored
        if given.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content (the sandbox has no network)")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _own_message(self, chat: Chat, params: Params, missing: str) -> StoredMessage:
        if params.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the sandbox")
        message = chat.messages.get(params.integer("message_id"))
        if message is None:
            raise bad_request(missing)
        if message.sender != "bot":
            raise bad_request("message can't be edited")
        return message

    # --- connection and updates ---

    async def ok(self, params: Params) -> bool:
        return True

    async def get_me(self, params: Params) -> dict[str, Any]:
        return self.state.bot.to_get_me()

    async def delete_webhook(self, params: Params) -> bool:
        if params.boolean("drop_pending_updates"):
            self.state.updates.clear()
        return True

    async def get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }

    async def get_updates(self, params: Params) -> list[dict[str, Any]]:
        state = self.state
        offset = params.optional_integer("offset", 0) or 0
        limit = min(100, max(1, _integer_arg(params, "limit", default=100)))  # as Telegram clamps
        timeout = max(0, min(MAX_POLL_TIMEOUT, params.optional_integer("timeout", 0) or 0))
        allowed = params.raw("allowed_updates")
        if isinstance(allowed, list):
            state.allowed_updates = frozenset(str(kind) for kind in allowed) or None
        state.confirm_updates(offset)
        state.poll_generation += 1
        generation = state.poll_generation
        await state.notify()  # an older long poll wakes up and answers 409, as on Telegram
        if not state.updates and timeout > 0:
            await state.wait_until(
                lambda: bool(state.updates) or state.closing or state.poll_generation != generation,
                timeout,
            )
        if state.poll_generation != generation:
            raise BotApiError(409, POLL_CONFLICT)
        return state.updates[:limit]

    # --- commands ---

    async def set_my_commands(self, params: Params) -> bool:
        commands = params.raw("commands")
        if not isinstance(commands, list):
            raise bad_request("commands is empty")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params)
        if cleaned:
            self.state.commands[key] = cleaned
        else:
            self.state.commands.pop(key, None)
        return True

    async def get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return list(self.state.commands.get(self._commands_key(params), []))

    async def delete_my_commands(self, params: Params) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.raw("scope")
        if scope is not None:
            if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
                raise bad_request("can't parse BotCommandScope")
            if scope["type"].startswith("chat") and "chat_id" not in scope:
                raise bad_request("can't parse BotCommandScope")
            if scope["type"] == "chat_member" and "user_id" not in scope:
                raise bad_request("can't parse BotCommandScope")
            if "chat_id" in scope:
                chat_id = scope["chat_id"]
                if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
                    chat_id = int(chat_id)
                chat = self.state.find_chat(chat_id)
                if chat is None:
                    raise bad_request("chat not found")
                scope = {**scope, "chat_id": chat.user.user_id}  # "@username" names the same
        return scope_key(scope), self._language(params)

    def _language(self, params: Params) -> str:
        language = params.optional_string("language_code") or ""
        if language and not _LANGUAGE_RE.fullmatch(language):
            raise bad_request("invalid language code specified")
        return language

    # --- descriptions (shown in an empty chat and on the bot's profile) ---

    async def set_my_description(self, params: Params) -> bool:
        return self._set_description(params, "description", MAX_DESCRIPTION)

    async def get_my_description(self, params: Params) -> dict[str, str]:
        key = ("description", self._language(params))
        return {"description": self.state.descriptions.get(key, "")}

    async def set_my_short_description(self, params: Params) -> bool:
        return self._set_description(params, "short_description", MAX_SHORT_DESCRIPTION)

    async def get_my_short_description(self, params: Params) -> dict[str, str]:
        key = ("short_description", self._language(params))
        return {"short_description": self.state.descriptions.get(key, "")}

    def _set_description(self, params: Params, field: str, limit: int) -> bool:
        text = params.optional_string(field) or ""
        if len(text) > limit:
            raise bad_request(f"{field.upper()}_INVALID")
        key = (field, self._language(params))
        if text:
            self.state.descriptions[key] = text
        else:  # an empty one removes the description for that language
            self.state.descriptions.pop(key, None)
        self.state.touch()
        return True

    # --- messages ---

    async def send_message(self, params: Params) -> dict[str, Any]:
        chat = self._target_chat(params)
        parsed = self._message_text(params)
        markup = validate_reply_markup(params.raw("reply_markup"))
        self.flood.check(chat.user.user_id)
        message = self._new_bot_message(
            chat, text=parsed.text, entities=list(parsed.entities), reply_markup=markup
        )
        return self._reply(chat, message)

    async def edit_message_text(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        message = self._own_message(chat, params, "message to edit not found")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parsed = self._message_text(params)
        markup = validate_reply_markup(params.raw("reply_markup"))
        if (parsed.text, list(parsed.entities), markup) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        self.flood.check(chat.user.user_id)
        message.text, message.entities, message.reply_markup = (
            parsed.text,
            list(parsed.entities),
            markup,
        )
        return self._edited(chat, message)

    async def edit_message_caption(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        message = self._own_message(chat, params, "message to edit not found")
        if message.document is None and message.photo is None:
            raise bad_request("there is no caption in the message to edit")
        parsed = self._caption(params)
        text, entities = (parsed.text, list(parsed.entities)) if parsed else (None, [])
        markup = validate_reply_markup(params.raw("reply_markup"))
        if (text, entities, markup) == (
            message.caption,
            message.caption_entities,
            message.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        self.flood.check(chat.user.user_id)
        message.caption, message.caption_entities, message.reply_markup = text, entities, markup
        return self._edited(chat, message)

    async def edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        message = self._own_message(chat, params, "message to edit not found")
        markup = validate_reply_markup(
            params.raw("reply_markup"), allow_pay=message.invoice is not None
        )
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self.flood.check(chat.user.user_id)
        message.reply_markup = markup
        return self._edited(chat, message)

    def _edited(self, chat: Chat, message: StoredMessage) -> dict[str, Any]:
        message.edit_date = self.state.now()
        self.state.touch(chat, message)
        return self._reply(chat, message)

    async def delete_message(self, params: Params) -> bool:
        chat = self._known_chat(params)
        message_id = params.integer("message_id")
        if chat.messages.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        self.state.touch(chat)
        return True

    async def copy_message(self, params: Params) -> dict[str, int]:
        source_chat = self._known_chat(params, "from_chat_id")
        source = source_chat.messages.get(params.integer("message_id"))
        if source is None:
            raise bad_request("message to copy not found")
        chat = self._target_chat(params)
        has_content = (
            source.text is not None
            or (source.document or source.photo) is not None
            or source.other_kind is not None
        )
        if source.invoice is not None or not has_content:  # Telegram copies no invoice
            raise bad_request("message can't be copied")
        caption: str | None = source.caption
        caption_entities = list(source.caption_entities)
        if params.has("caption") and source.text is None:
            parsed = self._caption(params)
            if parsed is not None:
                caption, caption_entities = parsed.text, list(parsed.entities)
        markup = validate_reply_markup(params.raw("reply_markup"))
        self.flood.check(chat.user.user_id)
        copy = self._new_bot_message(
            chat,
            text=source.text,
            entities=list(source.entities),
            caption=caption,
            caption_entities=caption_entities,
            document=source.document,
            photo=source.photo,
            other_kind=source.other_kind,
            other=dict(source.other) if source.other is not None else None,
            reply_markup=markup,
        )
        return {"message_id": copy.message_id}

    async def send_chat_action(self, params: Params) -> bool:
        chat = self._target_chat(params)
        action = params.string("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.chat_action = action
        chat.chat_action_at = self.state.wall_clock()
        self.state.touch(chat)
        return True

    # --- callback queries ---

    async def answer_callback_query(self, params: Params) -> bool:
        query = self.state.callback_queries.get(params.string("callback_query_id"))
        if query is None or query.answer is not None:
            raise bad_request(QUERY_GONE)
        text = params.optional_string("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = CallbackAnswer(
            callback_query_id=query.query_id,
            text=text,
            show_alert=params.boolean("show_alert"),
            url=params.optional_string("url"),
        )
        query.answer = answer
        chat = self.state.chats[query.user_id]
        chat.callback_answers.append(answer)
        self.state.touch(chat)
        return True

    # --- files ---

    async def send_document(self, params: Params) -> dict[str, Any]:
        chat = self._target_chat(params)
        stored = self._input_file(params, "document", "document")
        caption = self._caption(params)
        markup = validate_reply_markup(params.raw("reply_markup"))
        self.flood.check(chat.user.user_id)
        message = self._new_bot_message(
            chat,
            document=stored,
            caption=caption.text if caption else None,
            caption_entities=list(caption.entities) if caption else [],
            reply_markup=markup,
        )
        return self._reply(chat, message)

    async def send_photo(self, params: Params) -> dict[str, Any]:
        chat = self._target_chat(params)
        stored = self._input_file(params, "photo", "photo")
        caption = self._caption(params)
        markup = validate_reply_markup(params.raw("reply_markup"))
        self.flood.check(chat.user.user_id)
        message = self._new_bot_message(
            chat,
            photo=stored,
            caption=caption.text if caption else None,
            caption_entities=list(caption.entities) if caption else [],
            reply_markup=markup,
        )
        return self._reply(chat, message)

    async def get_file(self, params: Params) -> dict[str, Any]:
        stored = self.state.files.get(params.string("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.to_file()

    # --- payments in Telegram Stars ---

    async def send_invoice(self, params: Params) -> dict[str, Any]:
        chat = self._target_chat(params)
        invoice = _checked_invoice(params)
        markup = validate_reply_markup(params.raw("reply_markup"), allow_pay=True)
        if markup is None:
            # Telegram adds the pay button itself when the bot sends no keyboard.
            pay = {"text": f"Pay ⭐️{invoice.total_amount}", "pay": True}
            markup = {"inline_keyboard": [[pay]]}
        elif not (markup.get("inline_keyboard") or [[{}]])[0][0].get("pay"):
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
        self.flood.check(chat.user.user_id)
        message = self._new_bot_message(chat, invoice=invoice, reply_markup=markup)
        return self._reply(chat, message)

    async def answer_pre_checkout_query(self, params: Params) -> bool:
        query = self.state.pre_checkout_queries.get(params.string("pre_checkout_query_id"))
        if query is None or query.answer.done():
            raise bad_request(QUERY_GONE)
        ok = params.boolean("ok")
        error_message = params.optional_string("error_message")
        if not ok and not error_message:
            raise bad_request("PRECHECKOUT_ERROR_MESSAGE_EMPTY")
        query.answer.set_result((ok, None if ok else error_message))
        return True

    async def refund_star_payment(self, params: Params) -> bool:
        # Telegram's own order of checks: the user id, then the charge id, then the charge.
        user_id = _integer_arg(params, "user_id", default=0)
        chat = self.state.chats.get(user_id)
        if user_id <= 0 or chat is None:
            raise bad_request("invalid user_id specified")
        charge_id = params.string(
            "telegram_payment_charge_id",
            empty='parameter "telegram_payment_charge_id" is required',
        )
        payment = self.state.payments.get(charge_id)
        if payment is None or payment.user_id != user_id:
            raise bad_request("CHARGE_NOT_FOUND")
        if payment.refunded:
            raise bad_request("CHARGE_ALREADY_REFUNDED")
        payment.refunded = True
        self.state.record_transaction(payment, chat.user, refund=True)
        # Telegram tells the bot with a service message in the user's chat.
        notice = StoredMessage(
            message_id=chat.next_message_id(),
            chat_id=user_id,
            sender="user",
            date=self.state.now(),
            refunded_payment=payment.to_refunded_payment(),
        )
        self.state.add_message(chat, notice)
        self.state.enqueue_update("message", notice.to_bot_api(self.state.bot, chat.user))
        return True

    async def get_star_transactions(self, params: Params) -> dict[str, Any]:
        # The docs say only that a limit of 1-100 is accepted; Telegram's server (get_integer_arg
        # in telegram-bot-api) clamps rather than refuses: a negative offset counts from 0, a
        # limit of 0 or less gives one transaction and one above 100 gives 100.
        offset = max(0, _integer_arg(params, "offset", default=0))
        limit = min(100, max(1, _integer_arg(params, "limit", default=100)))
        return {"transactions": self.state.transactions[offset : offset + limit]}


def _integer_arg(params: Params, name: str, *, default: int) -> int:
    """An integer parameter read as Telegram's server reads it, never refused.

    Absent or empty gives `default`; otherwise the leading digits count, and text without any
    reads as 0.
    """
    value = params.raw(name)
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _LEADING_INTEGER_RE.match(str(value))
    return int(match.group(0)) if match else 0


def _checked_invoice(params: Params) -> Invoice:
    title = params.optional_string("title") or ""
    description = params.optional_string("description") or ""
    payload = params.optional_string("payload") or ""
    currency = params.optional_string("currency") or ""
    if not 1 <= len(title) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID")
    if not 1 <= len(description) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(payload.encode("utf-8")) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    if params.optional_string("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    if currency != "XTR":
        raise bad_request("CURRENCY_INVALID: the sandbox takes only Telegram Stars (XTR)")
    prices = params.raw("prices")
    if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
        raise bad_request("STARS_INVOICE_INVALID")
    amount = prices[0].get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    if not isinstance(prices[0].get("label"), str):
        raise bad_request("can't parse prices JSON object")
    return Invoice(
        title=title,
        description=description,
        payload=payload,
        currency=currency,
        total_amount=amount,
        start_parameter=params.optional_string("start_parameter") or "",
    )


def _checked_entities(raw: Any, text: str) -> list[Entity]:
    """Entities the bot passed itself (no parse_mode); only their shape is checked."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    entities: list[Entity] = []
    for entity in raw:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise bad_request("can't parse MessageEntity")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request("can't parse MessageEntity")
        if offset + length > total:
            raise bad_request("entity beginning or end is out of the message text")
        if length > 0:
            entities.append(dict(entity))
    return entities
