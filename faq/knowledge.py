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

Only plain YAML is read: tags such as ``!!python/object`` are refused, never evaluated.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import yaml

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
_ID = re.compile(r"[a-z0-9_]{1,40}")
_TAG = re.compile(r"<\s*/?\s*[A-Za-z!]")
_ENTRY_FIELDS = frozenset({"id", "questions", "answer", "actions", "out_of_scope"})


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
            text = path.read_text(encoding="utf-8")
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
    root = _safe_load(text, name)
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
        _fail(name, where, f"id: must be 1-40 of a-z, 0-9 and _, not {raw_id!r}")
    where = f"{where} ({raw_id})"
    unknown = sorted(str(key) for key in item if key not in _ENTRY_FIELDS)
    if unknown:
        known = ", ".join(sorted(_ENTRY_FIELDS))
        _fail(name, where, f"{unknown[0]}: unknown field (known: {known})")
    out_of_scope = item.get("out_of_scope", False)
    if not isinstance(out_of_scope, bool):
        _fail(name, where, f"out_of_scope: must be true or false, not {out_of_scope!r}")
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
    for position, action in enumerate(value):
        if action not in ACTIONS:
            known = ", ".join(sorted(ACTIONS))
            _fail(name, where, f"actions[{position}]: unknown action {action!r} (known: {known})")
    return tuple(value)


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that also refuses a key given twice (the second would silently win)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} repeated on line {line}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _safe_load(text: str, name: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        raise KnowledgeBaseError(f"{name}: {where}invalid YAML: {problem}") from None
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise KnowledgeBaseError(f"{name}: invalid YAML: {first_line}") from None
    except RecursionError:
        raise KnowledgeBaseError(f"{name}: invalid YAML: nested too deeply") from None


def _fail(name: str, where: str, problem: str) -> NoReturn:
    raise KnowledgeBaseError(": ".join(part for part in (name, where, problem) if part))
