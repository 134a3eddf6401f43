"""Catalog files: the YAML an admin uploads to define categories and products, parsed and checked.

The file's data is checked by strict pydantic models, and the whole file is refused on its first
problem, with a one-line message naming the line and the field (``line 14: products[2].price: must
be a whole number ...``). The format::

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
every language. ``name`` needs both ``zh`` and ``en``; a language left out of ``description`` or
``redeem`` is empty. Each may add ``zh-Hant``, the Traditional Chinese text; without it, Traditional
Chinese readers see the ``zh`` text in Traditional characters. Text is stripped of surrounding
whitespace and taken as written (``sku: 0123`` is the text ``0123``); numbers must be numbers
(``19.99``, ``"9500"`` and ``true`` are not prices). Values are typed by the YAML 1.2 core schema
(`config.strict_yaml`): a whole number is plain decimal digits and a boolean is ``true`` or
``false``, so YAML 1.1's ``1:40``, ``0x64``, ``1_000`` and ``yes`` are text and refused where a
number or a boolean belongs. An optional field left empty (``stars:``) takes its default. Unknown
fields are refused, with a suggestion when one is close (``prce`` -> ``price``). Only plain YAML is
read: tags such as ``!!python/object`` are refused, never evaluated. A file over `MAX_FILE_BYTES` (1
MB), or using more than `strict_yaml.MAX_ALIASES` aliases (``*name``), is refused before it is read
further.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config import strict_yaml
from config.file_model import FileModel, Loc, dotted, first_problem, kind, refused, refused_as
from config.strict_yaml import BOOL, FLOAT, INT, MAP, NULL, SEQ, STR, StrictYamlError
from store.domain.model import MAX_INVOICE_STARS

MAX_ID_LENGTH = 32
MAX_NAME_LENGTH = 64
MAX_TEXT_LENGTH = 1000
MAX_PRICE_MINOR = 10_000_000_00
MAX_STARS = MAX_INVOICE_STARS  # a product must fit one Stars invoice
MAX_ORDER_LIMIT = 100
DEFAULT_LOW_STOCK_THRESHOLD = 5

_CATEGORY_ID = rf"^[a-z0-9_-]{{1,{MAX_ID_LENGTH}}}$"
_SKU = rf"^[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}$"

MAX_FILE_BYTES = 1024 * 1024
"""A catalog of a thousand products is a few hundred KB; a bigger file is refused unread."""

# Tags the core-schema resolver gives plain scalars; anything else was written by hand (`!!set`).
_SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL})

_LANGUAGES = ("zh", "en")
_PRICE = "must be a whole number of minor units (e.g. 1999 for ¥19.99)"
_STARS = f"must be a whole number of Telegram Stars from 1 to {MAX_STARS}"
_ORDER_LIMIT = f"must be a whole number from 1 to {MAX_ORDER_LIMIT}"
_NOT_NEGATIVE = "must be a whole number, 0 or more"
_T = TypeVar("_T")


@dataclass(frozen=True)
class CategorySpec:
    id: str
    name_zh: str
    name_en: str
    position: int
    name_zh_hant: str = ""


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
    name_zh_hant: str = ""
    description_zh_hant: str = ""
    redeem_zh_hant: str = ""


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
        raise CatalogFileError(
            "the top level must be a mapping with categories and products", line=_line(root)
        )
    lines = _Lines()
    data = _data(root, (), lines)
    try:
        catalog = _CatalogFile.model_validate(data, context=lines)
    except ValidationError as error:
        problem = first_problem(error, _missing)
        if problem.key:
            line = lines.keys.get(problem.loc)
        elif problem.type == "missing":
            line = lines.of(problem.loc[:-1])  # the entry it is missing from
        else:
            line = lines.of(problem.loc)
        raise CatalogFileError(problem.words, line=line, field=dotted(problem.loc)) from None
    return _spec(catalog)


def _compose(text: str) -> Node | None:
    # Composing builds nodes (with line marks) and never constructs objects, so no tag runs.
    try:
        return strict_yaml.compose(text, max_bytes=MAX_FILE_BYTES)
    except StrictYamlError as error:
        raise CatalogFileError(error.problem, line=error.line) from None


def _missing(loc: Loc) -> str:
    return "is required (give both zh and en)" if loc[-1] in _LANGUAGES else "is required"


# --- the file as data, with the line of every value --------------------------------------------


@dataclass(frozen=True)
class _Scalar:
    """A scalar as written: its text, its YAML 1.2 value (the text itself when that does not fit
    its tag, as in ``!!int 0x64``) and whether it was quoted."""

    text: str
    value: Any
    quoted: bool


class _FlowMapping(dict[str, Any]):
    """A mapping written inside { }, where a comma ends a text and begins a field."""


@dataclass
class _Lines:
    """The line (from 1) of each value and of each key, by where it sits in the data."""

    values: dict[Loc, int | None] = field(default_factory=dict)
    keys: dict[Loc, int | None] = field(default_factory=dict)

    def of(self, loc: Loc) -> int | None:
        while loc and loc not in self.values:
            loc = loc[:-1]
        return self.values.get(loc)


def _data(node: Node, loc: Loc, lines: _Lines) -> Any:
    """Plain data for the models: mappings, lists, None and `_Scalar`s; a hand-written tag
    (``!!python/object``, ``!!set``) is refused here, never run."""
    lines.values[loc] = _line(node)
    if isinstance(node, MappingNode) and node.tag == MAP:
        return _mapping(node, loc, lines)
    if isinstance(node, SequenceNode) and node.tag == SEQ:
        return [_data(item, (*loc, index), lines) for index, item in enumerate(node.value)]
    if isinstance(node, ScalarNode) and node.tag in _SCALAR_TAGS:
        if node.tag == NULL:
            return None
        try:
            value = strict_yaml.scalar_value(node)
        except ValueError:  # `!!int 0x64`, `!!bool yes`: refused where a number or boolean belongs
            value = str(node.value)
        return _Scalar(str(node.value), value, quoted=node.style in ("'", '"'))
    raise _tag_refused(node, loc)


def _mapping(node: MappingNode, loc: Loc, lines: _Lines) -> dict[str, Any]:
    mapping: dict[str, Any] = _FlowMapping() if node.flow_style else {}
    for key_node, value_node in node.value:
        # A key that is not text (`[a]:`) names no field; the model refuses it as unknown.
        name = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
        where = (*loc, name)
        if isinstance(key_node, ScalarNode) and key_node.tag not in _SCALAR_TAGS:
            raise _tag_refused(key_node, where)
        if name in mapping:
            first = lines.keys[where]
            raise CatalogFileError(
                f"given twice (first on line {first})", line=_line(key_node), field=dotted(where)
            )
        lines.keys[where] = _line(key_node)
        mapping[name] = _data(value_node, where, lines)
    return mapping


def _tag_refused(node: Node, loc: Loc) -> CatalogFileError:
    tag = strict_yaml.short_tag(node.tag)
    return CatalogFileError(
        f"the YAML tag {tag} is not allowed in a catalog file", line=_line(node), field=dotted(loc)
    )


def _line(node: Node) -> int | None:
    return node.start_mark.line + 1 if node.start_mark else None


# --- values ------------------------------------------------------------------------------------


def _as_written(value: Any) -> Any:
    """Text as written: a scalar is taken as its characters, whatever YAML would make it."""
    if value is None:
        return ""
    return value.text.strip() if isinstance(value, _Scalar) else value


def _typed(expected: str, **by_error: str) -> WrapValidator:
    """A number or a boolean as YAML 1.2 types it; anything else is refused with `expected`, or
    with the text for pydantic's error type (``greater_than``)."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value.value if isinstance(value, _Scalar) else value)
        except ValidationError as error:
            problem = by_error.get(error.errors()[0]["type"], expected)
            if isinstance(value, list | dict):
                problem = f"{problem}, not {kind(value)}"
            elif isinstance(value, _Scalar) and value.quoted:
                problem = f"{problem} (write it without quotes)"
            raise refused(problem) from None

    return WrapValidator(validate)


_TEXT = refused_as(
    "must be text, not {kind}",
    string_too_short="must not be empty",
    string_too_long="must be at most {max_length} characters (it has {length})",
    string_pattern_mismatch="must be a single line",
)


def _identifier(alphabet: str) -> WrapValidator:
    return refused_as(
        "must be text, not {kind}",
        string_too_short="must not be empty",
        string_pattern_mismatch=f"must be 1 to {MAX_ID_LENGTH} characters from {alphabet}",
    )


_Written = BeforeValidator(_as_written)
_ONE_LINE = r"^[^\n]*$"
_NameText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=_ONE_LINE),
    _TEXT,
    _Written,
]
_LongText = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH), _TEXT, _Written]
_CategoryId = Annotated[
    str,
    StringConstraints(min_length=1, pattern=_CATEGORY_ID),
    _identifier("a-z, 0-9, _ and -"),
    _Written,
]
_Sku = Annotated[
    str,
    StringConstraints(min_length=1, pattern=_SKU),
    _identifier("A-Z, a-z, 0-9, _ and -"),
    _Written,
]
_CategoryReference = Annotated[str, StringConstraints(min_length=1), _TEXT, _Written]
_Price = Annotated[
    int,
    Field(gt=0, le=MAX_PRICE_MINOR),
    _typed(
        _PRICE,
        greater_than="must be more than 0",
        less_than_equal=f"must be at most {MAX_PRICE_MINOR} (¥10,000,000.00)",
    ),
]
_Stars = Annotated[int, Field(ge=1, le=MAX_STARS), _typed(_STARS)]
_OrderLimit = Annotated[int, Field(ge=1, le=MAX_ORDER_LIMIT), _typed(_ORDER_LIMIT)]
_NotNegative = Annotated[int, Field(ge=0), _typed(_NOT_NEGATIVE)]
_Active = Annotated[bool, _typed("must be true or false")]


def _one_text_or_both(text: Any) -> WrapValidator:
    """``{zh: ..., en: ...}``, or one text for both languages (refused as that one field)."""
    adapter: TypeAdapter[str] = TypeAdapter(text, config=ConfigDict(strict=True))

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, dict):
            return handler(value)
        try:
            written = adapter.validate_python(value)
        except ValidationError as error:
            raise refused(first_problem(error, _missing).words) from None
        return handler({"zh": written, "en": written})

    return WrapValidator(validate)


# --- the models --------------------------------------------------------------------------------


class _CatalogModel(FileModel):
    @classmethod
    def unknown_field(cls, name: str, data: dict[str, Any]) -> str:
        fields = cls.field_names()
        close = difflib.get_close_matches(name, fields, n=1)
        if close:
            return f"unknown field (did you mean {close[0]}?)"
        if isinstance(data, _FlowMapping) and data[name] is None:
            # `{en: iQIYI VIP, 1 month}`: the comma ended the text and began a field.
            return (
                "unknown field (a comma inside { } starts a new field: "
                "put text with commas in quotes)"
            )
        return f"unknown field (expected {', '.join(fields)})"


class _Name(_CatalogModel):
    zh: _NameText
    en: _NameText
    zh_hant: Annotated[_NameText | None, Field(alias="zh-Hant")] = None


class _Texts(_CatalogModel):
    zh: _LongText = ""
    en: _LongText = ""
    zh_hant: Annotated[_LongText, Field(alias="zh-Hant")] = ""


_NameField = Annotated[_Name, _one_text_or_both(_NameText)]
_TextsField = Annotated[_Texts, _one_text_or_both(_LongText)]
_NO_TEXT = _Texts()


class _Category(_CatalogModel):
    not_a_mapping: ClassVar[str] = "must be a mapping with the fields id, name, position"

    id: _CategoryId
    name: _NameField
    position: _NotNegative | None = None


class _Product(_CatalogModel):
    not_a_mapping: ClassVar[str] = (
        "must be a mapping with the fields sku, category, name, description, redeem, price, "
        "stars, order_limit, low_stock_threshold, active, position"
    )

    sku: _Sku
    category: _CategoryReference
    name: _NameField
    description: _TextsField = _NO_TEXT
    redeem: _TextsField = _NO_TEXT
    price: _Price
    stars: _Stars | None = None
    order_limit: _OrderLimit | None = None
    low_stock_threshold: _NotNegative | None = None
    active: _Active | None = None
    position: _NotNegative | None = None


_LIST = refused_as("must be a list (each entry starting with '- ')")


class _CatalogFile(_CatalogModel):
    categories: Annotated[list[_Category], _LIST]
    products: Annotated[list[_Product], _LIST]

    @model_validator(mode="after")
    def _ids_unique_and_categories_known(self, info: ValidationInfo) -> _CatalogFile:
        lines = info.context
        assert isinstance(lines, _Lines), "parse_catalog passes the lines as the context"
        category_lines: dict[str, int | None] = {}
        for index, category in enumerate(self.categories):
            at: Loc = ("categories", index, "id")
            if category.id in category_lines:
                earlier = category_lines[category.id]
                raise refused(f"repeats the id {category.id} from line {earlier}", at=at)
            category_lines[category.id] = lines.of(at)
        skus: dict[str, tuple[str, int | None]] = {}
        for index, product in enumerate(self.products):
            at = ("products", index, "sku")
            # Case-insensitive, because SKUs are read by people and travel in callback data.
            if product.sku.casefold() in skus:
                earlier_sku, line = skus[product.sku.casefold()]
                how = "repeats" if earlier_sku == product.sku else "differs only in case from"
                raise refused(f"{how} the SKU {earlier_sku} on line {line}", at=at)
            skus[product.sku.casefold()] = (product.sku, lines.of(at))
            if product.category not in category_lines:
                hint = _suggest(product.category, category_lines)
                raise refused(
                    f"no category {product.category} in this file{hint}",
                    at=("products", index, "category"),
                )
        return self


def _spec(catalog: _CatalogFile) -> CatalogSpec:
    """The checked file as the catalog service takes it, with the defaults filled in."""
    categories = tuple(
        CategorySpec(
            id=category.id,
            name_zh=category.name.zh,
            name_en=category.name.en,
            position=_default(category.position, index + 1),
            name_zh_hant=category.name.zh_hant or "",
        )
        for index, category in enumerate(catalog.categories)
    )
    products = tuple(
        ProductSpec(
            sku=product.sku,
            category_id=product.category,
            name_zh=product.name.zh,
            name_en=product.name.en,
            description_zh=product.description.zh,
            description_en=product.description.en,
            redeem_zh=product.redeem.zh,
            redeem_en=product.redeem.en,
            price_minor=product.price,
            price_stars=product.stars,
            order_limit=product.order_limit,
            low_stock_threshold=_default(product.low_stock_threshold, DEFAULT_LOW_STOCK_THRESHOLD),
            active=_default(product.active, True),
            position=_default(product.position, index + 1),
            name_zh_hant=product.name.zh_hant or "",
            description_zh_hant=product.description.zh_hant,
            redeem_zh_hant=product.redeem.zh_hant,
        )
        for index, product in enumerate(catalog.products)
    )
    return CatalogSpec(categories, products)


def _default(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
