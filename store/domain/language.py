"""The shop's three languages, and how a text the catalog gives in some of them is chosen."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

import opencc  # type: ignore[import-untyped, unused-ignore]  # ships no type hints

_TRADITIONAL_REGIONS = frozenset({"hant", "tw", "hk", "mo"})


class Language(StrEnum):
    ZH = "zh"
    """Simplified Chinese, the shop's first language."""
    ZH_HANT = "zh-hant"
    """Traditional Chinese (Taiwan's usage), for readers in Taiwan, Hong Kong and overseas."""
    EN = "en"

    @classmethod
    def from_telegram(cls, language_code: str | None) -> Language:
        """Telegram's IETF `language_code`: zh-hant, zh-tw, zh-hk and zh-mo read Traditional
        characters, any other zh reads Simplified, and everything else gets English."""
        parts = (language_code or "").lower().replace("_", "-").split("-")
        if parts[0] != "zh":
            return cls.EN
        return cls.ZH_HANT if _TRADITIONAL_REGIONS.intersection(parts[1:]) else cls.ZH

    @property
    def chinese(self) -> bool:
        return self is not Language.EN

    @property
    def telegram_code(self) -> str | None:
        """The code setMyCommands and setMyDescription take: two-letter ISO 639-1 only, so
        Traditional Chinese has none of its own and its readers see the zh texts there."""
        return None if self is Language.ZH_HANT else self.value


def localized(language: Language, zh: str, en: str, zh_hant: str = "") -> str:
    """A catalog text in `language`. Traditional Chinese the operator did not write is the
    Simplified text in Traditional characters (a character conversion, no change of wording)."""
    if language is Language.EN:
        return en
    if language is Language.ZH_HANT:
        return zh_hant or traditional(zh)
    return zh


@lru_cache(maxsize=4096)
def traditional(simplified: str) -> str:
    """Simplified Chinese written in Traditional characters; other text as it is."""
    return str(_converter().convert(simplified))


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")
