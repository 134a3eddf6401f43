"""Every text the bot says, in Simplified Chinese, Traditional Chinese and English: as HTML, or
as plain text.

The texts are gettext catalogs, one per language (``handlers/locales/<locale>/LC_MESSAGES/
kamibot.po``), keyed by a text key such as ``order.summary``. `make catalogs` extracts the keys
the code names (`KEYWORDS`), merges them into each catalog, and compiles the ``.mo`` files the
bot reads; tests/unit/test_text_catalogs.py fails while any text lacks a language or a language's
placeholders differ.

Telegram parses a message's text and caption as HTML, and shows button labels, callback alerts
and invoice fields as written. So `say()` renders HTML (`markupsafe.Markup`), escaping each value
it fills in (product names, keys, user text) unless it is already Markup, and `say_plain()`
renders plain text, escaping nothing. The actions take one or the other (handlers.action).
"""

from __future__ import annotations

import gettext
import html
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from markupsafe import Markup, escape

from store.domain.model import Language

__all__ = [
    "DOMAIN",
    "KEYWORDS",
    "LOCALES",
    "LOCALE_DIRECTORY",
    "N_",
    "Markup",
    "MissingText",
    "catalog",
    "escape",
    "fitted",
    "say",
    "say_plain",
    "shorten",
    "visible_length",
]

DOMAIN = "kamibot"
LOCALE_DIRECTORY = Path(__file__).with_name("locales")
LOCALES = {Language.ZH: "zh_Hans", Language.ZH_HANT: "zh_Hant", Language.EN: "en"}
"""Each language's catalog: ``locales/<locale>/LC_MESSAGES/kamibot.po``, compiled to ``.mo``."""
KEYWORDS: dict[str, tuple[int, ...] | None] = {"say": (2,), "say_plain": (2,), "N_": None}
"""The calls whose text key `make catalogs` extracts (Babel's keywords): say's and say_plain's
second argument, and N_'s only one."""

_TAG = re.compile(r"<[^>]*>")
_HTML = re.compile(r"<[a-zA-Z/][^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
"""A tag or an entity: what a template meant as HTML, which plain text would show as typed."""
Rendered = TypeVar("Rendered", str, Markup)


def shorten(text: str, limit: int, *, whole_words: bool = False) -> str:
    """Plain text cut to at most `limit` characters, "…" marking the cut, for `say` to escape.

    Cutting before escaping never leaves half an entity (`&am`) or a tag; Markup is refused for
    that reason. Characters are counted as UTF-16 code units (an emoji is two), which is never
    fewer than Telegram counts, so a shortened text is safe under its limits either way.
    With `whole_words`, a cut falls between words (a name reads "Steam Wallet…", never
    "Steam Wal…"), unless the first word alone is too long.
    """
    cut = _shorten(text, limit)
    if not whole_words or cut == text:
        return cut
    kept = cut[:-1]
    if text[len(kept)].isspace():
        return kept.rstrip() + "…"
    head, space, _ = kept.rpartition(" ")
    return head.rstrip() + "…" if space and head.strip() else cut


def _shorten(text: str, limit: int) -> str:
    if isinstance(text, Markup):
        raise TypeError("shorten plain text before it is escaped, not Markup")
    if len(text) <= limit // 2 or _utf16_length(text) <= limit:
        return text
    kept: list[str] = []
    used = 1  # the ellipsis
    for character in text:
        used += 2 if ord(character) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(character)
    return "".join(kept) + "…"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(html_text: Markup) -> int:
    """How long Telegram counts a text after parsing its HTML: UTF-16 code units of what shows."""
    return _utf16_length(html.unescape(_TAG.sub("", html_text)))


def fitted(limit: int, render: Callable[[str], Rendered], plain: str) -> Rendered:
    """`render(plain)`, the plain text shortened to the room the rest of the text leaves, so
    that the whole fits `limit` characters as Telegram shows them: HTML once parsed (an entity
    like `&amp;` shows as one), plain text as written."""
    rest = render("")
    used = visible_length(rest) if isinstance(rest, Markup) else _utf16_length(rest)
    room = limit - used
    return render(shorten(plain, room)) if room > 1 else rest


def say(language: Language, key: str, **values: object) -> Markup:
    """The text for `key` in `language`, as HTML, with every value HTML-escaped once."""
    return Markup(_template(language, key)).format(**values)


def say_plain(language: Language, key: str, **values: object) -> str:
    """The text for `key` in `language` as written, for a button label, an alert or an invoice.

    Nothing is escaped: Telegram does not parse these. A text holding HTML cannot be one, nor
    can a Markup value be filled in, since either would show its tags and entities as typed.
    """
    template = _template(language, key)
    if _HTML.search(template):
        raise ValueError(f"{key!r} is HTML: it cannot be plain text")
    for name, value in values.items():
        if isinstance(value, Markup):
            raise TypeError(f"{key!r}: {name} is Markup, which plain text would show as typed")
    return template.format(**values)


def _template(language: Language, key: str) -> str:
    return catalog(language).gettext(key)


def N_(key: str) -> str:
    """`key`, marked as a text key for `make catalogs` to extract where the code picks one
    (``{OrderStatus.PAID: N_("status.paid"), ...}``) rather than saying it at once."""
    return key


class MissingText(LookupError):
    """A text key with no text in a language's catalog: a catalog `make catalogs` left behind."""


class _Missing(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        raise MissingText(message)


@cache
def catalog(language: Language) -> gettext.GNUTranslations:
    """`language`'s compiled catalog; a key it lacks raises MissingText, never shows as is."""
    path = LOCALE_DIRECTORY / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as file:
        translations = gettext.GNUTranslations(file)
    translations.add_fallback(_Missing())
    return translations
