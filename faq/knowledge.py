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
          zh-Hant: "未檢視的卡密在……"  # optional: else zh in Traditional characters
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
true, and strict pydantic models take no text for a boolean); a key must be text; a file may use
at most `strict_yaml.MAX_ALIASES` aliases (``*name``) and hold at most `MAX_FILE_BYTES` (1 MB).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, NoReturn

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from rapidfuzz import fuzz, process
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config import strict_yaml
from config.file_model import (
    FileModel,
    Problem,
    dotted,
    first_problem,
    kind,
    refused,
    refused_as,
    shown,
)
from config.strict_yaml import StrictYamlError
from faq.normalise import traditional

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
_ID = re.compile(r"[a-z0-9_]{1,40}")
_TAG = re.compile(r"<\s*/?\s*[A-Za-z!]")
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

    def nearest_ids(self, typed: str) -> tuple[str, ...]:
        """Every id, those most like `typed` first (a mistyped `/reply` id, say)."""
        scores = {
            found: score
            for found, score, _ in process.extract(
                typed.casefold(), self.ids, scorer=fuzz.WRatio, limit=None
            )
        }
        return tuple(sorted(self.ids, key=lambda entry_id: -scores.get(entry_id, 0)))

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
    try:
        checked = _KnowledgeFile.model_validate(root)
    except ValidationError as error:
        raise _refusal(name, root, first_problem(error, lambda _loc: "missing")) from None
    entries: list[Entry] = []
    ids: set[str] = set()
    for index, item in enumerate(checked.entries):
        if item.id in ids:
            _fail(name, f"entries[{index}] ({item.id})", "id: already used in this file")
        ids.add(item.id)
        entries.append(item.entry())
    return entries


# --- the models --------------------------------------------------------------------------------


def _answer_text(raw: str) -> str:
    if not raw.strip():
        raise refused("must be a non-empty text")
    if _TAG.search(raw):
        raise refused("must be plain text, without HTML tags")
    if len(raw) > MAX_ANSWER:
        raise refused(f"{len(raw)} characters; a message holds {MAX_ANSWER}")
    try:
        names = placeholders(raw)
    except ValueError as error:
        raise refused(str(error)) from None
    for placeholder in names:
        if placeholder not in PLACEHOLDERS:
            raise refused(f"unknown placeholder {{{placeholder}}}")
    return raw.strip()


def _action(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, list | dict):
        raise refused(f"must be the name of an action, not {kind(value)}")
    if value not in ACTIONS:
        raise refused(f"unknown action {shown(value)} (known: {', '.join(sorted(ACTIONS))})")
    return handler(value)


_EntryId = Annotated[
    str,
    StringConstraints(pattern=rf"^{_ID.pattern}$"),
    refused_as("must be 1-40 of a-z, 0-9 and _, not {input}"),
]
_Question = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    refused_as("must be a non-empty text"),
]
_QuestionList = Annotated[
    list[_Question],
    Field(min_length=MIN_QUESTIONS),
    refused_as(
        "must be a list of questions",
        too_short="needs at least {min_length} questions, has {actual_length}",
    ),
]
_AnswerText = Annotated[str, AfterValidator(_answer_text), refused_as("must be a non-empty text")]
_Action = Annotated[str, WrapValidator(_action)]


class _PerLanguage(FileModel):
    not_a_mapping: ClassVar[str] = "must be a mapping with zh and en"

    @classmethod
    def unknown_field(cls, name: str, data: dict[str, Any]) -> str:
        return "unknown language (use zh and en)"


class _Questions(_PerLanguage):
    zh: _QuestionList
    en: _QuestionList


class _Answer(_PerLanguage):
    not_a_mapping: ClassVar[str] = "must be a mapping with zh, zh-Hant and en"

    zh: _AnswerText
    zh_hant: Annotated[_AnswerText | None, Field(alias="zh-Hant")] = None
    en: _AnswerText

    @classmethod
    def unknown_field(cls, name: str, data: dict[str, Any]) -> str:
        return "unknown language (use zh, zh-Hant and en)"

    @model_validator(mode="after")
    def _same_placeholders(self) -> _Answer:
        expected = sorted(set(placeholders(self.zh)))
        for at, text in (("zh-Hant", self.zh_hant), ("en", self.en)):
            found = sorted(set(placeholders(text or self.zh)))
            if found != expected:
                raise refused(
                    f"uses {found or 'no placeholder'} where zh uses {expected}", at=(at,)
                )
        return self

    def texts(self) -> dict[str, str]:
        """Each language's answer; Traditional Chinese not written is zh in its characters."""
        return {
            "zh": self.zh,
            "zh-hant": self.zh_hant or traditional(self.zh),
            "en": self.en,
        }


class _Entry(FileModel):
    not_a_mapping: ClassVar[str] = "must be a mapping with id, questions, answer (and actions)"

    id: _EntryId
    out_of_scope: Annotated[bool, refused_as("must be true or false, not {input}")] = False
    questions: _Questions
    answer: _Answer | None = None
    actions: Annotated[list[_Action], refused_as("must be a list")] | None = None

    @field_validator("answer", "actions", mode="before")
    @classmethod
    def _only_in_scope(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("out_of_scope"):
            raise refused("an out-of-scope entry is never answered; remove it")
        return value

    @model_validator(mode="after")
    def _answered(self) -> _Entry:
        if not self.out_of_scope and self.answer is None:
            raise refused("missing", at=("answer",))
        return self

    def entry(self) -> Entry:
        answer = {} if self.answer is None else self.answer.texts()
        return Entry(
            id=self.id,
            questions={"zh": tuple(self.questions.zh), "en": tuple(self.questions.en)},
            answer=answer,
            actions=tuple(self.actions or ()),
            out_of_scope=self.out_of_scope,
        )


class _KnowledgeFile(FileModel):
    entries: Annotated[list[_Entry], refused_as("must be a list")]


def _refusal(name: str, root: dict[str, Any], problem: Problem) -> KnowledgeBaseError:
    """``name: entries[i] (id): field: problem``; the id only when it is a valid one."""
    where, field = "", problem.loc
    if len(field) >= 2 and field[0] == "entries" and isinstance(field[1], int):
        index, field = field[1], field[2:]
        where = f"entries[{index}]"
        raw = root["entries"][index]
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str) and _ID.fullmatch(raw_id):
            where = f"{where} ({raw_id})"
    parts = (name, where, dotted(field), problem.words)
    return KnowledgeBaseError(": ".join(part for part in parts if part))


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


def _fail(name: str, where: str, problem: str) -> NoReturn:
    raise KnowledgeBaseError(": ".join(part for part in (name, where, problem) if part))
