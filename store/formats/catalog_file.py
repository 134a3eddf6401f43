"""Catalog files: the YAML an admin uploads to define categories and products, parsed and checked.

The whole file is refused on its first problem, with a one-line message naming the line and the
field (``line 14: products[2].price: must be a whole number ...``). The format::

    categories:
      - id: game            # [a-z0-9_-], 1-32 chars, unique
        name: {zh: 游戏点卡, en: Game cards}
        position: 1         # optional whole number >= 0, default = order in file (1, 2, ...)
    products:
      - sku: STEAM-CN-100   # [A-Za-z0-9_-], 1-32 chars, unique ignoring case; it is also used
                            # in callback data, so keep it short
        category: game      # must name a category in this file
        name: {zh: Steam 钱包 ¥100, en: Steam Wallet ¥100}   # 1-64 chars each, one line
        description: {zh: ..., en: ...}   # optional, <= 1000 chars each
        redeem: {zh: ..., en: ...}        # how to redeem; optional, <= 1000 chars each
        price: 9500         # minor units (fen): a whole number, 1 to 1000000000 (¥10,000,000.00)
        stars: 950          # optional Telegram Stars price, 1 to 10000; omitted: derived from
                            # the shop's rate later
        order_limit: 10     # optional, 1 to 100 keys per order
        low_stock_threshold: 5   # optional whole number >= 0, default 5
        active: true        # optional, default true
        position: 1         # optional whole number >= 0, default = order in file (1, 2, ...)

``name``, ``description`` and ``redeem`` may also be one plain string, meaning the same text in
both languages. ``name`` needs both ``zh`` and ``en``; a language left out of ``description`` or
``redeem`` is empty. Text is stripped of surrounding whitespace and taken as written (``sku:
0123`` is the text ``0123``); numbers must be numbers (``19.99``, ``"9500"`` and ``true`` are
not prices). Values are typed by the YAML 1.2 core schema (`config.strict_yaml`): a whole number
is plain decimal digits and a boolean is ``true`` or ``false``, so YAML 1.1's ``1:40``, ``0x64``,
``1_000`` and ``yes`` are text and refused where a number or a boolean belongs. An optional field
left empty (``stars:``) takes its default. Unknown fields are refused, with a suggestion when one
is close (``prce`` -> ``price``). Only plain YAML is read: tags such as ``!!python/object`` are
refused, never evaluated. A file over `MAX_FILE_BYTES` (1 MB), or using more than
`strict_yaml.MAX_ALIASES` aliases (``*name``), is refused before it is read further.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config import strict_yaml
from config.strict_yaml import BOOL, FLOAT, INT, MAP, NULL, SEQ, STR, StrictYamlError
from store.domain.model import MAX_INVOICE_STARS

MAX_ID_LENGTH = 32
MAX_NAME_LENGTH = 64
MAX_TEXT_LENGTH = 1000
MAX_PRICE_MINOR = 10_000_000_00
MAX_STARS = MAX_INVOICE_STARS  # a product must fit one Stars invoice
MAX_ORDER_LIMIT = 100
DEFAULT_LOW_STOCK_THRESHOLD = 5

_CATEGORY_ID = re.compile(rf"[a-z0-9_-]{{1,{MAX_ID_LENGTH}}}")
_SKU = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")

MAX_FILE_BYTES = 1024 * 1024
"""A catalog of a thousand products is a few hundred KB; a bigger file is refused unread."""

# Tags the core-schema resolver gives plain scalars; anything else was written by hand (`!!set`).
_SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL})

_TOP_FIELDS = ("categories", "products")
_CATEGORY_FIELDS = ("id", "name", "position")
_PRODUCT_FIELDS = (
    "sku",
    "category",
    "name",
    "description",
    "redeem",
    "price",
    "stars",
    "order_limit",
    "low_stock_threshold",
    "active",
    "position",
)
_LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class CategorySpec:
    id: str
    name_zh: str
    name_en: str
    position: int


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    category_id: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    redeem_zh: str
    redeem_en: str
    price_minor: int
    price_stars: int | None
    order_limit: int | None
    low_stock_threshold: int
    active: bool
    position: int


@dataclass(frozen=True)
class CatalogSpec:
    categories: tuple[CategorySpec, ...]
    products: tuple[ProductSpec, ...]


class CatalogFileError(ValueError):
    """The catalog file was refused; the message is one line naming the line and the field."""

    def __init__(self, problem: str, *, line: int | None = None, field: str = "") -> None:
        self.problem = problem
        self.line = line
        self.field = field
        where = [f"line {line}"] if line is not None else []
        super().__init__(": ".join([*where, *([field] if field else []), problem]))


def parse_catalog(text: str) -> CatalogSpec:
    """Read a catalog file; raise `CatalogFileError` on its first problem."""
    root = _compose(text)
    if root is None:
        raise CatalogFileError("the catalog file is empty")
    if not isinstance(root, MappingNode):
        _fail(root, "", "the top level must be a mapping with categories and products")
    top = _fields(root, "", _TOP_FIELDS)
    categories = _parse_categories(_required(root, top, "", "categories"))
    products = _parse_products(_required(root, top, "", "products"), categories)
    return CatalogSpec(tuple(categories.values()), tuple(products))


def _compose(text: str) -> Node | None:
    # Composing builds nodes (with line marks) and never constructs objects, so no tag runs.
    try:
        return strict_yaml.compose(text, max_bytes=MAX_FILE_BYTES)
    except StrictYamlError as error:
        raise CatalogFileError(error.problem, line=error.line) from None


def _parse_categories(node: Node) -> dict[str, CategorySpec]:
    categories: dict[str, CategorySpec] = {}
    lines: dict[str, int | None] = {}
    for index, item in enumerate(_items(node, "categories")):
        path = f"categories[{index}]"
        fields = _fields(item, path, _CATEGORY_FIELDS)
        id_node = _required(item, fields, path, "id")
        category_id = _identifier(id_node, f"{path}.id", _CATEGORY_ID, "a-z, 0-9, _ and -")
        if category_id in categories:
            earlier = lines[category_id]
            _fail(id_node, f"{path}.id", f"repeats the id {category_id} from line {earlier}")
        lines[category_id] = _line(id_node)
        name_zh, name_en = _name(_required(item, fields, path, "name"), f"{path}.name")
        categories[category_id] = CategorySpec(
            id=category_id,
            name_zh=name_zh,
            name_en=name_en,
            position=_position(fields.get("position"), f"{path}.position", index + 1),
        )
    return categories


def _parse_products(node: Node, categories: dict[str, CategorySpec]) -> list[ProductSpec]:
    products: list[ProductSpec] = []
    lines: dict[str, tuple[str, int | None]] = {}
    for index, item in enumerate(_items(node, "products")):
        path = f"products[{index}]"
        fields = _fields(item, path, _PRODUCT_FIELDS)
        sku_node = _required(item, fields, path, "sku")
        sku = _identifier(sku_node, f"{path}.sku", _SKU, "A-Z, a-z, 0-9, _ and -")
        # Case-insensitive, because SKUs are read by people and travel in callback data.
        if sku.casefold() in lines:
            earlier, line = lines[sku.casefold()]
            how = "repeats" if earlier == sku else "differs only in case from"
            _fail(sku_node, f"{path}.sku", f"{how} the SKU {earlier} on line {line}")
        lines[sku.casefold()] = (sku, _line(sku_node))
        category_node = _required(item, fields, path, "category")
        category_id = _text(category_node, f"{path}.category", max_length=None)
        if not category_id:
            _fail(category_node, f"{path}.category", "must not be empty")
        if category_id not in categories:
            hint = _suggest(category_id, categories)
            _fail(
                category_node, f"{path}.category", f"no category {category_id} in this file{hint}"
            )
        name_zh, name_en = _name(_required(item, fields, path, "name"), f"{path}.name")
        description_zh, description_en = _optional_text(fields, path, "description")
        redeem_zh, redeem_en = _optional_text(fields, path, "redeem")
        products.append(
            ProductSpec(
                sku=sku,
                category_id=category_id,
                name_zh=name_zh,
                name_en=name_en,
                description_zh=description_zh,
                description_en=description_en,
                redeem_zh=redeem_zh,
                redeem_en=redeem_en,
                price_minor=_price(_required(item, fields, path, "price"), f"{path}.price"),
                price_stars=_optional_int(
                    fields.get("stars"),
                    f"{path}.stars",
                    1,
                    MAX_STARS,
                    f"must be a whole number of Telegram Stars from 1 to {MAX_STARS}",
                ),
                order_limit=_optional_int(
                    fields.get("order_limit"),
                    f"{path}.order_limit",
                    1,
                    MAX_ORDER_LIMIT,
                    f"must be a whole number from 1 to {MAX_ORDER_LIMIT}",
                ),
                low_stock_threshold=_low_stock_threshold(
                    fields.get("low_stock_threshold"), f"{path}.low_stock_threshold"
                ),
                active=_active(fields.get("active"), f"{path}.active"),
                position=_position(fields.get("position"), f"{path}.position", index + 1),
            )
        )
    return products


# --- structure ---------------------------------------------------------------------------------


def _fields(node: Node, path: str, allowed: tuple[str, ...]) -> dict[str, Node]:
    """The mapping's fields by name, refusing unknown and repeated ones."""
    if not isinstance(node, MappingNode) or node.tag != MAP:
        _refuse_tag(node, path)
        _fail(node, path, f"must be a mapping with the fields {', '.join(allowed)}")
    found: dict[str, Node] = {}
    for key_node, value_node in node.value:
        # A key that YAML reads as something other than text (`1:`, `on:`, `<<:`) is no field.
        name = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
        field = _join(path, name)
        if not (isinstance(key_node, ScalarNode) and key_node.tag == STR and name in allowed):
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"did you mean {close[0]}?" if close else f"expected {', '.join(allowed)}"
            if node.flow_style and _is_empty(value_node) and not close:
                # `{en: iQIYI VIP, 1 month}`: the comma ended the text and began a field.
                hint = "a comma inside { } starts a new field: put text with commas in quotes"
            _fail(key_node, field, f"unknown field ({hint})")
        if name in found:
            _fail(key_node, field, f"given twice (first on line {_line(found[name])})")
        found[name] = value_node
    return found


def _required(parent: Node, fields: dict[str, Node], path: str, name: str) -> Node:
    node = fields.get(name)
    if node is None:
        _fail(parent, _join(path, name), "is required")
    return node


def _items(node: Node, path: str) -> list[Node]:
    if not isinstance(node, SequenceNode) or node.tag != SEQ:
        _refuse_tag(node, path)
        _fail(node, path, "must be a list (each entry starting with '- ')")
    return list(node.value)


# --- values ------------------------------------------------------------------------------------


def _refuse_tag(node: Node, field: str) -> None:
    """Refuse a hand-written tag (`!!python/object`, `!!set`) before judging the value's type."""
    if node.tag not in _SCALAR_TAGS and node.tag not in (MAP, SEQ):
        tag = strict_yaml.short_tag(node.tag)
        _fail(node, field, f"the YAML tag {tag} is not allowed in a catalog file")


def _scalar(node: Node, field: str, expected: str) -> ScalarNode:
    _refuse_tag(node, field)
    if isinstance(node, ScalarNode):
        return node
    kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
    _fail(node, field, f"{expected}, not {kind}")


def _is_empty(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == NULL)


def _text(node: Node, field: str, *, max_length: int | None, one_line: bool = False) -> str:
    """Text as written: a plain scalar is taken as its characters, whatever YAML would make it."""
    if _is_empty(node):
        return ""
    text = str(_scalar(node, field, "must be text").value).strip()
    if max_length is not None and len(text) > max_length:
        _fail(node, field, f"must be at most {max_length} characters (it has {len(text)})")
    if one_line and "\n" in text:
        _fail(node, field, "must be a single line")
    return text


def _identifier(node: Node, field: str, pattern: re.Pattern[str], alphabet: str) -> str:
    text = _text(node, field, max_length=None)
    if not text:
        _fail(node, field, "must not be empty")
    if not pattern.fullmatch(text):
        _fail(node, field, f"must be 1 to {MAX_ID_LENGTH} characters from {alphabet}")
    return text


def _name(node: Node, field: str) -> tuple[str, str]:
    zh, en = _bilingual(node, field, max_length=MAX_NAME_LENGTH, required=True)
    return zh, en


def _optional_text(fields: dict[str, Node], path: str, name: str) -> tuple[str, str]:
    node = fields.get(name)
    if node is None:
        return "", ""
    return _bilingual(node, _join(path, name), max_length=MAX_TEXT_LENGTH, required=False)


def _bilingual(node: Node, field: str, *, max_length: int, required: bool) -> tuple[str, str]:
    """`{zh: ..., en: ...}`, or one plain string for both languages."""
    if isinstance(node, MappingNode):
        fields = _fields(node, field, _LANGUAGES)
        texts: list[str] = []
        for language in _LANGUAGES:
            value = fields.get(language)
            if value is None:
                if required:
                    _fail(node, _join(field, language), "is required (give both zh and en)")
                texts.append("")
                continue
            texts.append(_language_text(value, _join(field, language), max_length, required))
        return texts[0], texts[1]
    text = _language_text(node, field, max_length, required)
    return text, text


def _language_text(node: Node, field: str, max_length: int, required: bool) -> str:
    text = _text(node, field, max_length=max_length, one_line=required)
    if required and not text:
        _fail(node, field, "must not be empty")
    return text


def _price(node: Node, field: str) -> int:
    hint = "must be a whole number of minor units (e.g. 1999 for ¥19.99)"
    if _is_empty(node):
        _fail(node, field, hint)
    price = _int(node, field, hint)
    if price <= 0:
        _fail(node, field, "must be more than 0")
    if price > MAX_PRICE_MINOR:
        _fail(node, field, f"must be at most {MAX_PRICE_MINOR} (¥10,000,000.00)")
    return price


def _low_stock_threshold(node: Node | None, field: str) -> int:
    threshold = _optional_int(node, field, 0, None, "must be a whole number, 0 or more")
    return DEFAULT_LOW_STOCK_THRESHOLD if threshold is None else threshold


def _position(node: Node | None, field: str, default: int) -> int:
    position = _optional_int(node, field, 0, None, "must be a whole number, 0 or more")
    return default if position is None else position


def _optional_int(
    node: Node | None,
    field: str,
    low: int,
    high: int | None,
    expected: str,
) -> int | None:
    if node is None or _is_empty(node):
        return None
    number = _int(node, field, expected)
    if number < low or (high is not None and number > high):
        _fail(node, field, expected)
    return number


def _int(node: Node, field: str, expected: str) -> int:
    scalar = _scalar(node, field, expected)
    if scalar.tag != INT:
        _fail(node, field, expected + _unquote_hint(scalar))
    try:  # `!!int 0x64` carries the tag by hand; the digits must still be decimal
        return strict_yaml.integer(str(scalar.value))
    except ValueError:
        _fail(node, field, expected)


def _active(node: Node | None, field: str) -> bool:
    if node is None or _is_empty(node):
        return True
    scalar = _scalar(node, field, "must be true or false")
    if scalar.tag != BOOL:
        _fail(node, field, "must be true or false" + _unquote_hint(scalar))
    try:  # `!!bool yes` carries the tag by hand; the word must still be true or false
        return strict_yaml.boolean(str(scalar.value))
    except ValueError:
        _fail(node, field, "must be true or false")


def _unquote_hint(node: ScalarNode) -> str:
    return " (write it without quotes)" if node.style in ("'", '"') else ""


# --- reporting ---------------------------------------------------------------------------------


def _fail(node: Node | None, field: str, problem: str) -> NoReturn:
    raise CatalogFileError(problem, line=_line(node), field=field)


def _line(node: Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None and node.start_mark else None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
