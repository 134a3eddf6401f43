"""Callback data: what a button carries, encoded in at most 64 bytes and never trusted.

Every press is parsed against a fixed grammar; anything else (a forged, stale or truncated
button) is refused before a service is called. Ownership is checked by the services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers.action import CALLBACK_DATA_LIMIT

# ASCII digits only: \d also matches "١" or "１", and int() reads either as 1.
_INT = r"[0-9]{1,9}"
_SKU = r"[A-Za-z0-9_-]{1,32}"
_CATEGORY = r"[a-z0-9_-]{1,32}"
_REFERENCE = r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"  # store.domain.reference, written
# An order, by its reference: its id is internal (it would tell how many orders the shop takes).
# The id is still accepted because buttons sent before references are still in chats; for its
# owner such a button works as before, and the services check ownership either way.
_ORDER = f"{_REFERENCE}|{_INT}"
_TRACE_CODE = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"
"""A key's trace code as store.domain.provenance writes it (Crockford's base32, 12 characters)."""

GRAMMAR: dict[str, tuple[str, ...]] = {
    "menu": (),
    "shop": (),
    "cat": (_CATEGORY, _INT),
    "prod": (_SKU,),
    "buy": (_SKU, _INT),
    "paystars": (_ORDER,),
    "paywallet": (_ORDER,),
    "cancel": (_ORDER,),
    "orders": (_INT,),
    "order": (_ORDER,),
    "keys": (_ORDER,),
    "wallet": (),
    "topup": (_INT,),
    "lang": ("zh|zh-hant|en",),
    "help": (),
    "refund": (_ORDER,),
    "wait": (_ORDER,),
    "receipt": (_TRACE_CODE,),
    # after-sales and support
    "faq": (r"[a-z0-9_]{1,40}", _INT),
    "faqok": (_INT,),
    "human": (_INT,),
    "rate": (_INT, "[1-5]"),
    "leave": (_INT,),
    "refunds": (),
    "bad": (_ORDER,),
    "badk": (_ORDER, _INT),
    "badr": (_ORDER, _INT, "redeemed|invalid|region|other"),
    "bads": (_ORDER, _INT, "redeemed|invalid|region|other"),
    "importgood": (_INT,),
    "agt": (_INT,),
    "agref": (_ORDER,),
    "agrefok": (_ORDER, _INT),
    "agrefno": (_REFERENCE,),
    "agcase": (_INT, "replaced|refunded|declined"),
}
ORDER_FIELDS: dict[str, tuple[int, ...]] = {
    verb: fields
    for verb, parts in GRAMMAR.items()
    if (fields := tuple(i for i, part in enumerate(parts) if part == _ORDER))
}
"""Which fields of which buttons name an order (by reference, or by id on an old button)."""
_REFERENCE_PATTERN = re.compile(_REFERENCE)
_PATTERNS = {
    # Each part is grouped, so an alternation ("zh|en") stays inside its own field.
    verb: re.compile(":".join((verb, *(f"(?:{part})" for part in parts))))
    for verb, parts in GRAMMAR.items()
}


class ForgedCallback(ValueError):
    """Callback data that no button of ours would carry."""


@dataclass(frozen=True)
class Callback:
    verb: str
    args: tuple[str, ...]
    order_ids: Mapping[int, int] = field(default_factory=dict)
    """The id of each order named by reference, by field: filled in by the router."""

    def number(self, index: int = 0) -> int:
        """A field as a number; an order named by reference, as the id it was resolved to."""
        if index in self.order_ids:
            return self.order_ids[index]
        return int(self.args[index])

    def references(self) -> dict[int, str]:
        """The fields that name an order by reference (not by id, as older buttons do)."""
        fields = ORDER_FIELDS.get(self.verb, ())
        return {i: self.args[i] for i in fields if _REFERENCE_PATTERN.fullmatch(self.args[i])}


def encode(verb: str, *args: object) -> str:
    data = ":".join((verb, *(str(a) for a in args)))
    pattern = _PATTERNS.get(verb)
    if pattern is None or not pattern.fullmatch(data):
        raise ValueError(f"not a valid button: {data!r}")
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return data


def decode(data: str) -> Callback:
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ForgedCallback("too long")
    verb = data.split(":", 1)[0]
    pattern = _PATTERNS.get(verb)
    if pattern is None or not pattern.fullmatch(data):
        raise ForgedCallback("unknown button")
    return Callback(verb=verb, args=tuple(data.split(":")[1:]))
