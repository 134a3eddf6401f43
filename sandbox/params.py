"""Bot API call parameters: decoded the same way whichever library sent them, and typed getters.

aiogram sends form fields (multipart when a file goes along, its file as ``attach://<key>``);
python-telegram-bot sends form fields or multipart with the file under the parameter's own name;
others send JSON. Objects such as ``reply_markup`` arrive as JSON text inside form fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request

# Parameters whose values are JSON objects or arrays.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "prices",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "suggested_tip_amounts",
        "media",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "max_tip_amount",
        "subscription_period",
    }
)
BOOL_FIELDS = frozenset(
    {
        "ok",
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "show_caption_above_media",
        "has_spoiler",
        "is_flexible",
        "need_name",
        "need_email",
        "need_phone_number",
        "need_shipping_address",
        "send_email_to_provider",
        "send_phone_number_to_provider",
        "remove_caption",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """A file that came with the call as a multipart part."""

    filename: str
    content: bytes
    content_type: str


def normalize(raw: Mapping[str, Any], files: Mapping[str, UploadedFile]) -> dict[str, Any]:
    """Decode JSON fields, numbers and booleans; resolve ``attach://`` references to files."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        params[name] = _decode(name, value)
    used: set[str] = set()
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            key = value.removeprefix("attach://")
            if key in files:
                params[name] = files[key]
                used.add(key)
    for key, upload in files.items():
        if key not in used:
            params[key] = upload
    return params


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            if name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # chat_id may be "@username"; the getter decides
    if name in BOOL_FIELDS:
        return value.lower() in {"true", "1"}
    return value


class Params:
    """Typed access to one call's parameters, failing with Telegram's 400 answers."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def string(self, name: str, *, empty: str | None = None) -> str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(empty or f"{name} is empty")
        if not isinstance(value, str):
            return json.dumps(value) if isinstance(value, dict | list) else str(value)
        return value

    def optional_string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        return self._as_int(name, value)

    def optional_integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        return self._as_int(name, value)

    @staticmethod
    def _as_int(name: str, value: Any) -> int:
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value)
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def input_file(self, name: str) -> UploadedFile | str:
        """An upload, or a string (a file_id or a URL) naming a file to send."""
        value = self.values.get(name)
        if isinstance(value, UploadedFile):
            return value
        if value is None or value == "":
            raise bad_request(f"there is no {name} in the request")
        return str(value)
