"""Checks on ``reply_markup`` as Telegram makes them, with Telegram's error descriptions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.errors import bad_request

MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS = 100

# Exactly one of these must be set on an inline keyboard button.
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "pay",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
)


def validate_reply_markup(markup: Any, *, allow_pay: bool = False) -> dict[str, Any] | None:
    """Return the markup to store, or raise a 400 like Telegram does."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _validate_inline_keyboard(markup["inline_keyboard"], allow_pay)}
    if "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
        return dict(markup)
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_keyboard(rows: Any, allow_pay: bool) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    cleaned: list[list[dict[str, Any]]] = []
    for row_index, row in enumerate(rows):
        cleaned_row: list[dict[str, Any]] = []
        for button in row:
            column = len(cleaned_row)
            cleaned_row.append(_validate_inline_button(button, allow_pay, row_index, column))
        if cleaned_row:
            cleaned.append(cleaned_row)
    return cleaned


def _validate_inline_button(
    button: Any, allow_pay: bool, row_index: int, column: int
) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    # `pay: false` and nulls mean "not set", as the libraries may send them.
    present = {
        key: value
        for key, value in button.items()
        if key in _BUTTON_ACTIONS and value is not None and value is not False
    }
    if not present:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if len(present) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    ((action, value),) = present.items()
    if action == "callback_data":
        size = len(value.encode("utf-8")) if isinstance(value, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        if not isinstance(value, str) or not _is_button_url(value):
            raise bad_request(f"inline keyboard button URL '{value}' is invalid: Wrong HTTP URL")
    elif action == "pay":
        if not allow_pay:
            raise bad_request("BUTTON_TYPE_INVALID")
        if (row_index, column) != (0, 0):
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    return {"text": text, action: value}


def _is_button_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return bool(parts.netloc or parts.path)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _validate_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text.strip():
                raise bad_request("BUTTON_TEXT_INVALID")


def find_pay_button(markup: dict[str, Any] | None) -> bool:
    rows = (markup or {}).get("inline_keyboard") or []
    return bool(rows and rows[0] and rows[0][0].get("pay"))
