"""Text normalisation for FAQ matching: one canonical form for the many ways a question is typed.

The same function normalises the knowledge base's paraphrases and the buyer's question, so any
mapping below only has to be consistent, not pretty. Steps, in order: cut to `MAX_LENGTH`;
Unicode NFKC (full-width to half-width); case-fold; traditional to simplified Chinese; order
numbers and codes masked; punctuation, symbols and emoji to spaces; spaces next to Chinese
characters dropped; synonyms to one canonical word per concept; product names dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import opencc  # type: ignore[import-untyped, unused-ignore]  # ships no type hints

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

MAX_LENGTH = 500
"""Characters of a question that are read; the rest is ignored (nobody asks in 500 characters)."""

NUMBER = "xnum"
"""What an order number, a `#123` reference or any run of four or more digits becomes."""
CODE = "xcode"
"""What a key-like token (`ABCD-1234-EFGH`, `X7K9P2M4Q1W3`) becomes."""


@dataclass(frozen=True)
class Concept:
    """Words that mean the same thing to a buyer, and the one word each language uses for them."""

    zh: str
    en: str
    variants: tuple[str, ...]


# Written in normalised form: lower case, simplified Chinese, single spaces. A variant in ASCII
# matches whole words only; a Chinese variant matches anywhere. Longer variants win.
CONCEPTS: tuple[Concept, ...] = (
    Concept(
        "卡密",
        "key",
        (
            "卡密",
            "激活码",
            "兑换码",
            "序列号",
            "密钥",
            "秘钥",
            "卡号",
            "卡码",
            "礼品码",
            "cdk",
            "cdkey",
            "cdkeys",
            "cd key",
            "cd keys",
            "key",
            "keys",
            "code",
            "codes",
            "activation code",
            "activation key",
            "redeem code",
            "redemption code",
            "serial",
            "serial number",
            "serial key",
            "license key",
            "licence key",
            "product key",
            "gift code",
            "card key",
            "card keys",
            "cardkey",
        ),
    ),
    Concept(
        "优惠码",
        "coupon",
        (
            "优惠码",
            "优惠券",
            "折扣码",
            "券码",
            "coupon",
            "coupons",
            "coupon code",
            "promo code",
            "promo codes",
            "promocode",
            "discount code",
            "voucher",
            "voucher code",
        ),
    ),
    Concept(
        "退款",
        "refund",
        ("退款", "退钱", "退货", "退费", "退回钱", "refund", "refunds", "money back"),
    ),
    Concept("账号", "account", ("账号", "帐号", "账户", "帐户", "account", "acct")),
    Concept("余额", "balance", ("余额", "钱包余额")),
    Concept("充值", "top up", ("充值", "储值", "top up", "topup", "recharge")),
    Concept("怎么", "how", ("怎么", "怎样", "如何", "咋", "咋么")),
    Concept("怎么样", "how is", ("怎么样", "咋样", "如何呢")),
    Concept("没有", "not", ("没有", "没", "未")),
    Concept("无效", "invalid", ("无效", "用不了", "不能用", "没法用", "失效", "invalid")),
    Concept("客服", "support", ("客服", "customer service", "customer support")),
    Concept(
        "付款",
        "pay",
        ("付款", "支付", "付钱", "买单", "pay", "paid", "paying", "payment", "payments"),
    ),
    Concept("订单", "order", ("订单", "单子", "order", "orders")),
    Concept("星星", "stars", ("星星", "星币", "telegram stars", "stars", "tg stars")),
    Concept("多久", "how long", ("多久", "多长时间", "多少时间", "how long")),
    Concept("发货", "deliver", ("发货", "到货", "出货", "deliver", "delivered", "delivery")),
)

# Which product a question is about says nothing about what it asks, and a name in one entry's
# paraphrases ("想买爱奇艺会员在哪买") would pull every question naming it there ("刚买的爱奇艺会员
# 想退"). So product and platform names are dropped. Names that are also ordinary words or ways
# to pay ("switch", "apple pay", "google pay") or other shops ("amazon", "京东") are kept.
PRODUCTS: tuple[str, ...] = (
    "steam",
    "steam wallet",
    "xbox",
    "xbox game pass",
    "game pass",
    "playstation",
    "playstation plus",
    "psn",
    "ps4",
    "ps5",
    "nintendo",
    "nintendo switch",
    "eshop",
    "netflix",
    "spotify",
    "youtube",
    "youtube premium",
    "disney plus",
    "hbo max",
    "iqiyi",
    "bilibili",
    "tencent video",
    "youku",
    "genshin",
    "genshin impact",
    "roblox",
    "fortnite",
    "valorant",
    "minecraft",
    "pubg",
    "league of legends",
    "windows",
    "windows 10",
    "windows 11",
    "win10",
    "win11",
    "office 365",
    "microsoft 365",
    "microsoft office",
    "adobe",
    "photoshop",
    "itunes",
    "app store",
    "google play",
    "chatgpt plus",
    "discord nitro",
    "nordvpn",
    "expressvpn",
    "razer gold",
    "爱奇艺",
    "腾讯视频",
    "优酷",
    "芒果tv",
    "哔哩哔哩",
    "b站",
    "网易云音乐",
    "网易云",
    "qq音乐",
    "酷狗音乐",
    "百度网盘",
    "迅雷",
    "喜马拉雅",
    "原神",
    "王者荣耀",
    "和平精英",
    "英雄联盟",
    "我的世界",
    "永劫无间",
    "绝地求生",
    "穿越火线",
    "梦幻西游",
    "魔兽世界",
    "微软",
    "任天堂",
    "网飞",
    "奈飞",
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
# Spaces carry no meaning between Chinese characters (or between Chinese and Latin), and people
# put them there at random: "退 款", "我的 key 无效".
_SPACE_BY_CJK = re.compile(f"(?<=[{_CJK}]) +| +(?=[{_CJK}])")
_APOSTROPHE = re.compile(r"(?<=[a-z])['’](?=[a-z])")
_NOT_WORD = re.compile(r"[\W_]+")

_KEY_LIKE = re.compile(
    # Segments joined by hyphens with a digit somewhere, or three segments of four or more.
    r"(?<![a-z0-9])(?:(?=[a-z-]*\d)[a-z0-9]{3,}(?:-[a-z0-9]{3,})+"
    r"|[a-z0-9]{4,}(?:-[a-z0-9]{4,}){2,}"
    # One long token that mixes letters and digits.
    r"|(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{10,})(?![a-z0-9])"
)
_ORDER_NUMBER = re.compile(
    r"(订单号?|单号|编号|order\s*(?:no\.?|number|num|id)?)\s*[:#]?\s*\d+|#\s*\d+|\d{4,}"
)


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def written_in_traditional(text: str) -> bool:
    """Whether the text holds Traditional characters that Simplified writes otherwise."""
    return bool(_converter().convert(text) != text)


def traditional(simplified: str) -> str:
    """Simplified Chinese in Traditional characters: an answer nobody wrote in Traditional."""
    return str(_to_traditional().convert(simplified))


@lru_cache(maxsize=1)
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _variant_pattern(variant: str) -> str:
    escaped = re.escape(variant)
    return f"(?<![a-z0-9]){escaped}(?![a-z0-9])" if variant.isascii() else escaped


_CANONICAL: dict[str, tuple[str, str]] = {
    **{name: ("", "") for name in PRODUCTS},
    **{variant: (concept.zh, concept.en) for concept in CONCEPTS for variant in concept.variants},
}
"""Each variant and product name -> its replacement in (zh, en)."""
_SYNONYM = re.compile(
    "|".join(_variant_pattern(v) for v in sorted(_CANONICAL, key=len, reverse=True))
)


def detect_language(text: str) -> Language:
    """Chinese when any Chinese character is present, else English."""
    return "zh" if _HAS_CJK.search(text) else "en"


def _mask_order_number(match: re.Match[str]) -> str:
    prefix = match.group(1)
    return f" {prefix} {NUMBER} " if prefix else f" {NUMBER} "


def fold(text: str) -> str:
    """Width, case and script folded, numbers and codes masked, punctuation gone; no synonyms."""
    text = unicodedata.normalize("NFKC", text[:MAX_LENGTH]).casefold()
    if _HAS_CJK.search(text):
        text = _converter().convert(text)
    text = _APOSTROPHE.sub("", text)  # "don't" and "dont" are typed equally often
    text = _KEY_LIKE.sub(f" {CODE} ", text)
    text = _ORDER_NUMBER.sub(_mask_order_number, text)
    text = " ".join(_NOT_WORD.sub(" ", text).split())
    return _SPACE_BY_CJK.sub("", text)


def normalise(text: str, language: Language | None = None) -> str:
    """The canonical form that matching compares; `language` picks each concept's word."""
    folded = fold(text)
    return canonical(folded, language or detect_language(folded))


def canonical(folded: str, language: Language) -> str:
    """Synonyms of already `fold`ed text replaced by their concept's word in `language`, and
    product names dropped."""

    side = 0 if language == "zh" else 1

    def word(match: re.Match[str]) -> str:
        return _CANONICAL[match.group(0)][side]

    # Splitting again closes the gap a dropped product name leaves.
    return _SPACE_BY_CJK.sub("", " ".join(_SYNONYM.sub(word, folded).split()))
