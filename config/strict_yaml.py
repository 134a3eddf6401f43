"""Strict YAML for the files people write (catalog, FAQ): plain data, typed by the YAML 1.2 rules.

PyYAML types plain scalars by YAML 1.1, where ``1:40`` is 100, ``0x64`` and ``1_000`` are numbers,
``010`` is eight and ``yes``/``on`` are true. Here a plain scalar is typed by the YAML 1.2 core
schema, except that integers are decimal only: ``[-+]?[0-9]+`` is an integer (in base 10),
``true``/``false`` (or ``True``, ``TRUE`` ...) a boolean, ``null``/``~``/nothing null, a decimal
with a point or exponent (or ``.inf``, ``.nan``) a float, and everything else text.

A text over its size cap, more than `MAX_ALIASES` aliases (``*name``), an alias inside its own
anchor and nesting deeper than `MAX_DEPTH` are refused before anything is built, so a few hundred
bytes of nested aliases cannot expand into gigabytes. When data is built, only plain tags (map,
seq, str, int, float, bool, null) are allowed, a key must be a scalar and may not repeat.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_ALIASES = 8
"""Aliases (``*name``) a file may use; enough to share a block or two, too few to bomb."""
MAX_DEPTH = 32
"""Lists and mappings nested deeper than this are refused (our formats need four or five)."""

_YAML = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_YAML + name for name in ("str", "int", "float", "bool", "null"))
SEQ, MAP = _YAML + "seq", _YAML + "map"

_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_SHOWN = 40
_T = TypeVar("_T")


class StrictYamlError(ValueError):
    """Why a text was refused; `line` (from 1) when one place is to blame."""

    def __init__(self, problem: str, *, line: int | None = None, column: int | None = None) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        super().__init__(f"line {line}: {problem}" if line is not None else problem)


def integer(text: str) -> int:
    """A decimal integer as the core schema writes it; ValueError for anything else."""
    if not _INT.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal integer")
    return int(text, 10)


def boolean(text: str) -> bool:
    """true or false (any of true, True, TRUE); ValueError for anything else (yes, on, ...)."""
    if text not in _BOOL:
        raise ValueError(f"{text!r} is not true or false")
    return _BOOL[text]


def scalar_value(node: ScalarNode) -> Any:
    """The value of a scalar carrying a plain tag (str, int, float, bool, null), by the rules
    above; ValueError when its text does not fit its tag (``!!int 0x64``) or the tag is another."""
    parse = _PARSERS.get(node.tag)
    if parse is None:
        raise ValueError(f"the tag {short_tag(node.tag)} is not a plain scalar tag")
    return parse(str(node.value))


def check_size(size: int, *, max_bytes: int) -> None:
    """Refuse a file of `size` bytes when it is over `max_bytes`."""
    if size > max_bytes:
        raise StrictYamlError(
            f"the file is larger than {_amount(max_bytes)} (it has {size} bytes); "
            "split it or trim it"
        )


def compose(text: str, *, max_bytes: int) -> Node | None:
    """The node tree of the one document in `text` (None when empty); nothing is constructed."""
    check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes=max_bytes)

    def work() -> Node | None:
        loader = _StrictLoader(text)  # the reader refuses unprintable characters right here
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()

    return _guarded(work, text)


def construct(node: Node | None) -> Any:
    """Plain data (dict, list, str, int, float, bool, None) from a node tree `compose` made."""
    if node is None:
        return None
    loader = _StrictLoader("")
    try:
        return _guarded(lambda: loader.construct_document(node), "")
    finally:
        loader.dispose()


def load(text: str, *, max_bytes: int) -> Any:
    """`construct(compose(text))`: the plain data of the one document in `text`."""
    return construct(compose(text, max_bytes=max_bytes))


def kind(node: Node) -> str:
    """How to name a node's shape in a message: "a list", "a mapping" or "text"."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return "text"


def short_tag(tag: str) -> str:
    return tag.replace(_YAML, "!!", 1) if tag.startswith(_YAML) else tag


# --- the loader --------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with core-schema resolvers, only plain constructors, and an alias budget."""

    # Fresh registries, so none of SafeLoader's YAML 1.1 resolvers or extra constructors apply.
    # The stubs declare this one an instance attribute; PyYAML keeps it per class.
    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's per-class registry
    yaml_constructors: ClassVar[dict[Any, Any]] = {}

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._aliases = 0
        self._open_anchors: set[str] = set()
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _refusal(
                    f"more than {MAX_ALIASES} aliases (*name) in one file; write the values out",
                    event,
                )
            if event.anchor in self._open_anchors:
                raise _refusal(
                    f"the alias *{event.anchor} is inside its own anchor &{event.anchor}", event
                )
            return super().compose_node(parent, index)
        anchor = event.anchor if isinstance(event, NodeEvent) else None
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _refusal(f"lists and mappings nested more than {MAX_DEPTH} deep", event)
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.discard(anchor or "")
            if nested:
                self._depth -= 1


_StrictLoader.add_implicit_resolver(NULL, re.compile(r"(?:~|null|Null|NULL)?\Z"), [*"~nN", ""])
_StrictLoader.add_implicit_resolver(
    BOOL, re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)
_StrictLoader.add_implicit_resolver(INT, re.compile(rf"(?:{_INT.pattern})\Z"), list("-+0123456789"))
_StrictLoader.add_implicit_resolver(
    FLOAT, re.compile(rf"(?:{_FLOAT.pattern})\Z"), list("-+.0123456789")
)


def _construct_int(_loader: _StrictLoader, node: Node) -> int:
    return _scalar(integer, node, "a decimal integer")


def _parse_float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise ValueError(text)
    if text.lstrip("+-").lower() == ".inf":
        return -math.inf if text.startswith("-") else math.inf
    return math.nan if text.lower() == ".nan" else float(text)


def _construct_float(_loader: _StrictLoader, node: Node) -> float:
    return _scalar(_parse_float, node, "a decimal number")


def _construct_bool(_loader: _StrictLoader, node: Node) -> bool:
    return _scalar(boolean, node, "true or false")


def _parse_null(text: str) -> None:
    if text not in _NULL:
        raise ValueError(text)


def _construct_null(_loader: _StrictLoader, node: Node) -> None:
    _scalar(_parse_null, node, "null")


def _construct_str(loader: _StrictLoader, node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise _refusal(f"the tag !!str needs text, not {kind(node)}", node)
    return loader.construct_scalar(node)


def _construct_mapping(loader: _StrictLoader, node: Node) -> dict[Any, Any]:
    if not isinstance(node, MappingNode):
        raise _refusal(f"the tag {short_tag(node.tag)} needs a mapping, not {kind(node)}", node)
    mapping: dict[Any, Any] = {}
    first_line: dict[Any, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise _refusal(f"a key must be text or a number, not {kind(key_node)}", key_node)
        key = loader.construct_object(key_node, deep=True)
        if key in first_line:
            raise _refusal(
                f"the key {_shown(key)} is repeated (first on line {first_line[key]})", key_node
            )
        first_line[key] = key_node.start_mark.line + 1
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_sequence(loader: _StrictLoader, node: Node) -> list[Any]:
    if not isinstance(node, SequenceNode):
        raise _refusal(f"the tag {short_tag(node.tag)} needs a list, not {kind(node)}", node)
    return [loader.construct_object(child, deep=True) for child in node.value]


def _construct_refused(_loader: _StrictLoader, node: Node) -> None:
    # Every other tag: !!python/..., !!set, !!binary, !!timestamp, !custom.
    raise _refusal(f"the tag {short_tag(node.tag)} is not allowed", node)


_PARSERS: dict[str, Callable[[str], Any]] = {
    STR: str,
    INT: integer,
    FLOAT: _parse_float,
    BOOL: boolean,
    NULL: _parse_null,
}

_StrictLoader.add_constructor(STR, _construct_str)
_StrictLoader.add_constructor(INT, _construct_int)
_StrictLoader.add_constructor(FLOAT, _construct_float)
_StrictLoader.add_constructor(BOOL, _construct_bool)
_StrictLoader.add_constructor(NULL, _construct_null)
_StrictLoader.add_constructor(MAP, _construct_mapping)
_StrictLoader.add_constructor(SEQ, _construct_sequence)
_StrictLoader.add_constructor(None, _construct_refused)


# --- reporting ---------------------------------------------------------------------------------


class _Refused(yaml.YAMLError):
    """Raised inside PyYAML's machinery, turned into `StrictYamlError` at the edge."""

    def __init__(self, problem: str, line: int | None, column: int | None) -> None:
        super().__init__(problem)
        self.problem, self.line, self.column = problem, line, column


def _refusal(problem: str, where: Node | NodeEvent) -> _Refused:
    mark = where.start_mark
    return _Refused(problem, mark.line + 1 if mark else None, mark.column if mark else None)


def _scalar(parse: Callable[[str], _T], node: Node, expected: str) -> _T:
    try:
        return parse(str(node.value))
    except ValueError:
        shown = _shown(str(node.value))
        raise _refusal(f"{shown} is not {expected} (tag {short_tag(node.tag)})", node) from None


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 3] + "..."


def _guarded(work: Callable[[], _T], text: str) -> _T:
    """Run PyYAML, turning each of its errors into one `StrictYamlError` line."""
    try:
        return work()
    except _Refused as refused:
        raise StrictYamlError(refused.problem, line=refused.line, column=refused.column) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        raise StrictYamlError(
            f"invalid YAML: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column if mark else None,
        ) from None
    except yaml.reader.ReaderError as error:
        character = error.character
        shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
        raise StrictYamlError(
            f"invalid YAML: the character {shown} is not allowed",
            line=text.count("\n", 0, error.position) + 1,
        ) from None
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StrictYamlError(f"invalid YAML: {first_line}") from None
    except RecursionError:  # a last resort; MAX_DEPTH refuses deep nesting long before
        raise StrictYamlError("invalid YAML: nested too deeply") from None


def _amount(size: int) -> str:
    megabyte = 1024 * 1024
    if size % megabyte == 0:
        return f"{size // megabyte} MB"
    if size % 1024 == 0:
        return f"{size // 1024} KB"
    return f"{size} bytes"
