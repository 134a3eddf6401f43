"""The FAQ knowledge base: every ``*.yaml`` file in one directory, loaded and checked.

Admins add entries by dropping in another file. A file is refused on its first problem with one
line naming the file, the entry (index and id) and the field::

    refunds.yaml: entries[3] (refund_status): answer.en: unknown placeholder {refund_days}

The format::

    entries:
      - id: refund_policy          # [a-z0-9_]{1,40}, unique across all files
        questions:                 # at least 3 per language; 10-20 natural paraphrases is right
          zh: ["能退款吗", ...]
          en: ["can i get a refund", ...]
        answer:                    # plain text, no HTML tags; may use the placeholders below
          zh: "未查看的卡密在 {refund_window_days} 天内可直接退款……"
          en: "Keys you have not revealed can be refunded within {refund_window_days} days ..."
        actions: [request_refund]  # optional, from ACTIONS

      - id: other_shops            # an out-of-scope example: questions only, never answered
        out_of_scope: true
        questions:
          zh: ["天猫买的鞋怎么退货", ...]
          en: ["my ebay seller wont refund me", ...]

An out-of-scope entry teaches the matcher what the FAQ does *not* cover (chit-chat, weather,
other shops' orders and coupons): a question closest to it falls back. It has no answer and no
actions, and it is kept apart (`KnowledgeBase.out_of_scope`), so `entry`, `ids`, `entries` and
`in` only ever see entries that can be answered or suggested.

Only plain YAML is read (`config.strict_yaml`): tags such as ``!!python/object`` are refused,
never evaluated; values are typed by the YAML 1.2 core schema (``out_of_scope: yes`` is text, not
true); a key must be text; a file may use at most `strict_yaml.MAX_ALIASES` aliases (``*name``)
and hold at most `MAX_FILE_BYTES` (1 MB).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config import strict_yaml
from config.strict_yaml import StrictYamlError
from faq.normalise import LANGUAGES

DEFAULT_DIRECTORY = Path(__file__).parent / "knowledge"

ACTIONS = frozenset(
    {
        "request_refund",
        "report_bad_key",
        "my_orders",
        "shop",
        "wallet",
        "refund_status",
        "human_agent",
    }
)
"""Buttons an answer may carry; the conversation layer knows what each one opens."""

PLACEHOLDERS = frozenset(
    {
        "shop_name",
        "support_hours",
        "refund_window_days",
        "reservation_minutes",
        "support_contact",
        "first_response_minutes",
    }
)
"""Settings an answer may mention; `faq.answer.render_answer` fills them in."""

MIN_QUESTIONS = 3
MAX_FILE_BYTES = 1024 * 1024
"""The shipped files are 5-15 KB each; a knowledge file over 1 MB is refused unread."""
_SHOWN_LENGTH = 40
_ID = re.compile(r"[a-z0-9_]{1,40}")
_TAG = re.compile(r"<\s*/?\s*[A-Za-z!]")
_ENTRY_FIELDS = frozenset({"id", "questions", "answer", "actions", "out_of_scope"})
MAX_ANSWER = 3000
"""Characters an answer may have: with the shop's settings filled in it must fit one message."""


class KnowledgeBaseError(ValueError):
    """A knowledge file that cannot be used; the message is one line naming where and why."""


@dataclass(frozen=True)
class Entry:
    id: str
    questions: dict[str, tuple[str, ...]]
    """Paraphrases per language ("zh", "en"), as written."""
    answer: dict[str, str]
    """Answer text per language, with `{placeholder}`s still in it; empty when out of scope."""
    actions: tuple[str, ...] = ()
    out_of_scope: bool = False
    """An example of what the FAQ does not cover: never answered, never suggested."""


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    """The entries that can be answered (and suggested)."""
    out_of_scope: tuple[Entry, ...] = ()
    """Examples of questions the FAQ does not cover; only the matcher reads them."""

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id; KeyError when there is none."""
        return self._by_id[entry_id]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(entry.id for entry in self.entries)

    @cached_property
    def _by_id(self) -> dict[str, Entry]:
        return {entry.id: entry for entry in self.entries}


def placeholders(text: str) -> list[str]:
    """The `{names}` in an answer text, in order; ValueError for a stray brace or a format spec."""
    names: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a bare name, without ! or :")
        names.append(name)
    return names


def load_knowledge_base(directory: Path = DEFAULT_DIRECTORY) -> KnowledgeBase:
    """Every ``*.yaml`` file in `directory`, in name order; `KnowledgeBaseError` on any problem."""
    if not directory.is_dir():
        raise KnowledgeBaseError(f"{directory}: not a directory")
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise KnowledgeBaseError(f"{directory}: no *.yaml knowledge files")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            strict_yaml.check_size(path.stat().st_size, max_bytes=MAX_FILE_BYTES)
            text = path.read_text(encoding="utf-8")
        except StrictYamlError as error:
            raise KnowledgeBaseError(f"{path.name}: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise KnowledgeBaseError(f"{path.name}: cannot be read: {error}") from None
        for index, entry in enumerate(parse_knowledge_file(text, path.name)):
            if entry.id in seen:
                where = f"entries[{index}] ({entry.id})"
                _fail(path.name, where, f"id: already used in {seen[entry.id]}")
            seen[entry.id] = path.name
            entries.append(entry)
    return KnowledgeBase(
        tuple(entry for entry in entries if not entry.out_of_scope),
        tuple(entry for entry in entries if entry.out_of_scope),
    )


def parse_knowledge_file(text: str, name: str) -> list[Entry]:
    """The entries of one knowledge file; `name` is used in error messages."""
    root = _load(text, name)
    if not isinstance(root, dict) or set(root) != {"entries"}:
        _fail(name, "", "the file must be a mapping with one key, entries")
    items = root["entries"]
    if not isinstance(items, list):
        _fail(name, "entries", "must be a list")
    entries: list[Entry] = []
    ids: set[str] = set()
    for index, item in enumerate(items):
        entry = _parse_entry(item, name, index)
        if entry.id in ids:
            _fail(name, f"entries[{index}] ({entry.id})", "id: already used in this file")
        ids.add(entry.id)
        entries.append(entry)
    return entries


def _parse_entry(item: object, name: str, index: int) -> Entry:
    where = f"entries[{index}]"
    if not isinstance(item, dict):
        _fail(name, where, "must be a mapping with id, questions, answer (and actions)")
    raw_id = item.get("id")
    if not isinstance(raw_id, str) or not _ID.fullmatch(raw_id):
        _fail(name, where, f"id: must be 1-40 of a-z, 0-9 and _, not {_shown(raw_id)}")
    where = f"{where} ({raw_id})"
    unknown = sorted(str(key) for key in item if key not in _ENTRY_FIELDS)
    if unknown:
        known = ", ".join(sorted(_ENTRY_FIELDS))
        _fail(name, where, f"{unknown[0]}: unknown field (known: {known})")
    out_of_scope = item.get("out_of_scope", False)
    if not isinstance(out_of_scope, bool):
        _fail(name, where, f"out_of_scope: must be true or false, not {_shown(out_of_scope)}")
    if "questions" not in item:
        _fail(name, where, "questions: missing")
    if out_of_scope:
        for field in ("answer", "actions"):
            if field in item:
                _fail(name, where, f"{field}: an out-of-scope entry is never answered; remove it")
        return Entry(
            id=raw_id,
            questions=_questions(item["questions"], name, where),
            answer={},
            out_of_scope=True,
        )
    if "answer" not in item:
        _fail(name, where, "answer: missing")
    return Entry(
        id=raw_id,
        questions=_questions(item["questions"], name, where),
        answer=_answer(item["answer"], name, where),
        actions=_actions(item.get("actions", []), name, where),
    )


def _per_language(value: object, name: str, where: str, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        _fail(name, where, f"{field}: must be a mapping with zh and en")
    for language in value:
        if language not in LANGUAGES:
            _fail(name, where, f"{field}.{language}: unknown language (use zh and en)")
    for language in LANGUAGES:
        if language not in value:
            _fail(name, where, f"{field}.{language}: missing")
    return value


def _questions(value: object, name: str, where: str) -> dict[str, tuple[str, ...]]:
    questions: dict[str, tuple[str, ...]] = {}
    for language, raw in _per_language(value, name, where, "questions").items():
        field = f"questions.{language}"
        if not isinstance(raw, list):
            _fail(name, where, f"{field}: must be a list of questions")
        texts: list[str] = []
        for position, question in enumerate(raw):
            if not isinstance(question, str) or not question.strip():
                _fail(name, where, f"{field}[{position}]: must be a non-empty text")
            texts.append(question.strip())
        if len(texts) < MIN_QUESTIONS:
            _fail(
                name, where, f"{field}: needs at least {MIN_QUESTIONS} questions, has {len(texts)}"
            )
        questions[language] = tuple(texts)
    return {language: questions[language] for language in LANGUAGES}


def _answer(value: object, name: str, where: str) -> dict[str, str]:
    answer: dict[str, str] = {}
    for language, raw in _per_language(value, name, where, "answer").items():
        field = f"answer.{language}"
        if not isinstance(raw, str) or not raw.strip():
            _fail(name, where, f"{field}: must be a non-empty text")
        if _TAG.search(raw):
            _fail(name, where, f"{field}: must be plain text, without HTML tags")
        if len(raw) > MAX_ANSWER:
            _fail(name, where, f"{field}: {len(raw)} characters; a message holds {MAX_ANSWER}")
        try:
            names = placeholders(raw)
        except ValueError as error:
            _fail(name, where, f"{field}: {error}")
        for placeholder in names:
            if placeholder not in PLACEHOLDERS:
                _fail(name, where, f"{field}: unknown placeholder {{{placeholder}}}")
        answer[language] = raw.strip()
    return {language: answer[language] for language in LANGUAGES}


def _actions(value: object, name: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        _fail(name, where, "actions: must be a list")
    known = ", ".join(sorted(ACTIONS))
    for position, action in enumerate(value):
        if isinstance(action, list | dict):
            shape = "a list" if isinstance(action, list) else "a mapping"
            _fail(name, where, f"actions[{position}]: must be the name of an action, not {shape}")
        if action not in ACTIONS:
            problem = f"unknown action {_shown(action)} (known: {known})"
            _fail(name, where, f"actions[{position}]: {problem}")
    return tuple(value)


def _load(text: str, name: str) -> object:
    """Plain data from one file; a refusal names the line and, when it can, the entry and field."""
    try:
        root = strict_yaml.compose(text, max_bytes=MAX_FILE_BYTES)
    except StrictYamlError as error:
        raise KnowledgeBaseError(f"{name}: {error}") from None
    try:
        return strict_yaml.construct(root)
    except StrictYamlError as error:
        where = _locate(root, error.line, error.column)
        _fail(name, f"line {error.line}" if error.line else "", f"{where}{error.problem}")


def _locate(root: Node | None, line: int | None, column: int | None) -> str:
    """``entries[i] (id): field: `` for the place at (line, column), as far as it can be told."""
    if line is None or not isinstance(root, MappingNode):
        return ""
    here = (line - 1, column or 0)
    items = next((value for key, value in root.value if _is_text(key, "entries")), None)
    if not isinstance(items, SequenceNode) or not _before(items, here):
        return ""
    if items.end_mark is not None and (items.end_mark.line, items.end_mark.column) <= here:
        return ""
    begun = [(i, node) for i, node in enumerate(items.value) if _before(node, here)]
    if not begun:
        return ""
    index, item = begun[-1]
    where = f"entries[{index}]"
    if not isinstance(item, MappingNode):
        return f"{where}: "
    raw_id = next((value.value for key, value in item.value if _is_text(key, "id")), None)
    if isinstance(raw_id, str) and _ID.fullmatch(raw_id):
        where = f"{where} ({raw_id})"
    fields = [key for key, _ in item.value if _before(key, here)]
    # The last field begun before the place; none when the place is a key that is not text.
    if fields and isinstance(fields[-1], ScalarNode):
        return f"{where}: {fields[-1].value}: "
    return f"{where}: "


def _is_text(node: Node, text: str) -> bool:
    return isinstance(node, ScalarNode) and node.value == text


def _before(node: Node, here: tuple[int, int]) -> bool:
    return (node.start_mark.line, node.start_mark.column) <= here


def _shown(value: object) -> str:
    """A value as a message shows it: its repr, cut short."""
    shown = repr(value)
    if len(shown) <= _SHOWN_LENGTH:
        return shown
    closing = "'" if isinstance(value, str) else ""
    return shown[: _SHOWN_LENGTH - 3 - len(closing)] + "..." + closing


def _fail(name: str, where: str, problem: str) -> NoReturn:
    raise KnowledgeBaseError(": ".join(part for part in (name, where, problem) if part))
