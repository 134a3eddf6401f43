"""Callback data: what a button carries, encoded in at most 64 bytes and never trusted.

Every press is parsed against a fixed grammar; anything else (a forged, stale or truncated
button) is refused before a service is called. Ownership is checked by the services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.action import CALLBACK_DATA_LIMIT

# ASCII digits only: \d also matches "١" or "１", and int() reads either as 1.
_INT = r"[0-9]{1,9}"
_SKU = r"[A-Za-z0-9_-]{1,32}"
_CATEGORY = r"[a-z0-9_-]{1,32}"
_REFERENCE = r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"  # store.domain.reference, written

GRAMMAR: dict[str, tuple[str, ...]] = {
    "menu": (),
    "shop": (),
    "cat": (_CATEGORY, _INT),
    "prod": (_SKU,),
    "buy": (_SKU, _INT),
    "paystars": (_INT,),
    "paywallet": (_INT,),
    "cancel": (_INT,),
    "orders": (_INT,),
    "order": (_INT,),
    "keys": (_INT,),
    "wallet": (),
    "topup": (_INT,),
    "lang": ("zh|zh-hant|en",),
    "help": (),
    "refund": (_INT,),
    "wait": (_INT,),
    # after-sales and support
    "faq": (r"[a-z0-9_]{1,40}", _INT),
    "faqok": (_INT,),
    "human": (_INT,),
    "rate": (_INT, "[1-5]"),
    "leave": (_INT,),
    "refunds": (),
    "bad": (_INT,),
    "badk": (_INT, _INT),
    "badr": (_INT, _INT, "redeemed|invalid|region|other"),
    "bads": (_INT, _INT, "redeemed|invalid|region|other"),
    "importgood": (_INT,),
    "agt": (_INT,),
    "agref": (_INT,),
    "agrefok": (_INT, _INT),
    "agrefno": (_REFERENCE,),
    "agcase": (_INT, "replaced|refunded|declined"),
}
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

    def number(self, index: int = 0) -> int:
        return int(self.args[index])


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
