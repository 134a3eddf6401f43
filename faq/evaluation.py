"""The matcher measured on a labelled set of questions, and thresholds chosen on that evidence.

The set is a UTF-8, tab-separated file with the header ``question, language, expected``:
language is ``zh`` or ``en``; expected is an entry id, ``none`` (out of scope: the bot should
not answer) or ``human`` (a request for a person: the bot should escalate).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from faq.matcher import HUMAN_AGENT, FaqMatcher, Match, Ranking, Thresholds, decide
from faq.normalise import LANGUAGES, Language

OUT_OF_SCOPE = "none"
HUMAN = "human"
HEADER = ("question", "language", "expected")
MIN_MARGIN = 2
"""The smallest lead over the runner-up that tuning considers. An answer needs a clear lead
(issue 3), and the labelled set cannot show why: it has no one-word questions, yet "order",
"订单", "退款", "key" and "payment" each score within 2 points of two entries on the shipped
base, where answering is a coin toss and "did you mean" is right."""

Kind = Literal["in_scope", "out_of_scope", "human"]


class EvaluationFileError(ValueError):
    """A labelled file that cannot be read; the message is one line naming the line."""


@dataclass(frozen=True)
class Question:
    text: str
    language: Language
    expected: str
    line: int

    @property
    def kind(self) -> Kind:
        if self.expected == OUT_OF_SCOPE:
            return "out_of_scope"
        # Matching the entry about reaching a person escalates, so it is judged as a request.
        return "human" if self.expected in (HUMAN, HUMAN_AGENT) else "in_scope"


@dataclass(frozen=True)
class Scored:
    """One question, ranked once: thresholds can then be varied without matching again."""

    question: Question
    ranking: Ranking
    seconds: float


def read_questions(path: Path) -> list[Question]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationFileError(f"{path}: cannot be read: {error}") from None
    return parse_questions(lines, path.name)


def parse_questions(lines: Sequence[str], name: str = "questions.tsv") -> list[Question]:
    if not lines or tuple(lines[0].rstrip("\r").split("\t")) != HEADER:
        raise EvaluationFileError(
            f"{name}: line 1: the header must be question<TAB>language<TAB>expected"
        )
    questions: list[Question] = []
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 3:
            raise EvaluationFileError(f"{name}: line {number}: needs 3 tab-separated cells")
        text, language, expected = (cell.strip() for cell in cells)
        if language not in LANGUAGES:
            raise EvaluationFileError(f"{name}: line {number}: language must be zh or en")
        if not expected:
            raise EvaluationFileError(f"{name}: line {number}: expected is empty")
        questions.append(Question(text, "zh" if language == "zh" else "en", expected, number))
    return questions


def score_questions(
    matcher: FaqMatcher,
    questions: Iterable[Question],
    clock: Callable[[], float] = time.perf_counter,
) -> list[Scored]:
    """Rank every question in its labelled language, timing each (thresholds cost nothing)."""
    scored: list[Scored] = []
    for question in questions:
        started = clock()
        ranking = matcher.rank(question.text, question.language)
        scored.append(Scored(question, ranking, clock() - started))
    return scored


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest sample that at least `p` percent are at or below."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Figures:
    """Outcomes of one group of questions. Rates are percentages of the group they name."""

    questions: int
    in_scope: int
    out_of_scope: int
    human: int
    answered_correct: float
    """Of in-scope questions, as are the five rates after it."""
    answered_wrong: float
    suggested_right: float
    """Suggested, with the expected entry among the three."""
    suggested_without: float
    fallback: float
    escalated: float
    human_escalated: float
    """Of questions asking for a person."""
    out_of_scope_answered: float
    out_of_scope_suggested: float
    out_of_scope_rejected: float
    """Fallback (or escalation): the bot did not pretend to know."""


def _rate(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def figures(outcomes: Sequence[tuple[Question, Match]]) -> Figures:
    tally: dict[str, int] = {}

    def count(name: str) -> None:
        tally[name] = tally.get(name, 0) + 1

    for question, match in outcomes:
        kind = question.kind
        count(kind)
        if kind == "human":
            if match.action == "escalate":
                count("human_escalated")
        elif kind == "out_of_scope":
            count(
                {"answer": "oos_answered", "suggest": "oos_suggested"}.get(
                    match.action, "oos_rejected"
                )
            )
        elif match.action == "answer":
            count("correct" if match.entry_id == question.expected else "wrong")
        elif match.action == "suggest":
            count(
                "suggested_right" if question.expected in match.suggestions else "suggested_without"
            )
        else:
            count(match.action)
    inside, outside, human = (tally.get(k, 0) for k in ("in_scope", "out_of_scope", "human"))
    return Figures(
        questions=len(outcomes),
        in_scope=inside,
        out_of_scope=outside,
        human=human,
        answered_correct=_rate(tally.get("correct", 0), inside),
        answered_wrong=_rate(tally.get("wrong", 0), inside),
        suggested_right=_rate(tally.get("suggested_right", 0), inside),
        suggested_without=_rate(tally.get("suggested_without", 0), inside),
        fallback=_rate(tally.get("fallback", 0), inside),
        escalated=_rate(tally.get("escalate", 0), inside),
        human_escalated=_rate(tally.get("human_escalated", 0), human),
        out_of_scope_answered=_rate(tally.get("oos_answered", 0), outside),
        out_of_scope_suggested=_rate(tally.get("oos_suggested", 0), outside),
        out_of_scope_rejected=_rate(tally.get("oos_rejected", 0), outside),
    )


@dataclass(frozen=True)
class Report:
    thresholds: Thresholds
    overall: Figures
    by_language: dict[str, Figures]
    p50_ms: float
    p99_ms: float
    unknown_expected: tuple[str, ...]
    """Expected ids that are not in the knowledge base: a labelling or coverage problem."""

    def as_dict(self) -> dict[str, object]:
        return {
            "thresholds": asdict(self.thresholds),
            "overall": asdict(self.overall),
            "by_language": {language: asdict(f) for language, f in self.by_language.items()},
            "latency_ms": {"p50": round(self.p50_ms, 3), "p99": round(self.p99_ms, 3)},
            "unknown_expected": list(self.unknown_expected),
        }


def report(scored: Sequence[Scored], thresholds: Thresholds, known_ids: Iterable[str]) -> Report:
    outcomes = [(s.question, decide(s.ranking, thresholds)) for s in scored]
    known = set(known_ids)
    unknown = sorted(
        {q.expected for q, _ in outcomes if q.kind == "in_scope" and q.expected not in known}
    )
    latencies = [s.seconds * 1000 for s in scored]
    return Report(
        thresholds=thresholds,
        overall=figures(outcomes),
        by_language={
            language: figures([o for o in outcomes if o[0].language == language])
            for language in LANGUAGES
        },
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        unknown_expected=tuple(unknown),
    )


def tune(
    scored: Sequence[Scored],
    max_wrong: float = 5.0,
    max_out_of_scope_answered: float = 5.0,
    min_margin: int = MIN_MARGIN,
) -> Thresholds:
    """Grid search: the most answered-correct within both limits (percent), then the suggest line.

    Answer lines 0-100 and leads `min_margin`-30 are tried. Among equally good (answer, margin)
    pairs the highest, i.e. most cautious, is kept. The
    suggest line then maximises questions handled well short of an answer: in-scope questions
    answered right or suggested with the right entry, plus out-of-scope questions rejected.
    """
    rows = [(s.question, s.ranking) for s in scored]
    inside = sum(1 for q, _ in rows if q.kind == "in_scope") or 1
    outside = sum(1 for q, _ in rows if q.kind == "out_of_scope") or 1
    best_key: tuple[int, int, int, float, float] | None = None
    best = Thresholds(answer=101.0, margin=0.0, suggest=101.0)
    for answer in range(0, 101):
        for margin in range(min_margin, 31):
            trial = Thresholds(float(answer), float(margin), float(answer))
            correct = wrong = oos = 0
            for question, ranking in rows:
                match = decide(ranking, trial)
                if match.action != "answer":
                    continue
                if question.kind == "out_of_scope":
                    oos += 1
                elif question.kind == "in_scope":
                    if match.entry_id == question.expected:
                        correct += 1
                    else:
                        wrong += 1
            if 100 * wrong / inside > max_wrong or 100 * oos / outside > max_out_of_scope_answered:
                continue
            key = (correct, -wrong, -oos, float(answer), float(margin))
            if best_key is None or key > best_key:
                best_key, best = key, trial
    good_best = -1
    chosen_suggest = best.answer
    for suggest in range(0, int(min(best.answer, 100)) + 1):
        trial = Thresholds(best.answer, best.margin, float(suggest))
        good = 0
        for question, ranking in rows:
            match = decide(ranking, trial)
            if question.kind == "out_of_scope":
                good += match.action in ("fallback", "escalate")
            elif question.kind == "in_scope":
                good += (match.action == "answer" and match.entry_id == question.expected) or (
                    match.action == "suggest" and question.expected in match.suggestions
                )
        if good >= good_best:
            good_best, chosen_suggest = good, float(suggest)
    return Thresholds(best.answer, best.margin, chosen_suggest)


def format_report(result: Report, title: str) -> str:
    """A compact table: one column for all questions, one per language."""
    groups = [("all", result.overall), *result.by_language.items()]
    lines = [
        title,
        f"thresholds: answer >= {result.thresholds.answer:g} with a lead >= "
        f"{result.thresholds.margin:g}; suggest >= {result.thresholds.suggest:g}",
        f"{'':34}" + "".join(f"{name:>11}" for name, _ in groups),
    ]

    def row(label: str, values: Iterable[object]) -> None:
        lines.append(f"{label:34}" + "".join(f"{value:>11}" for value in values))

    row("questions", (f.questions for _, f in groups))
    row(
        "  in scope / out of scope / human",
        (f"{f.in_scope}/{f.out_of_scope}/{f.human}" for _, f in groups),
    )
    rates = [
        ("in scope: answered correct %", "answered_correct"),
        ("in scope: answered wrong %", "answered_wrong"),
        ("in scope: suggested, right id %", "suggested_right"),
        ("in scope: suggested, without %", "suggested_without"),
        ("in scope: fallback %", "fallback"),
        ("in scope: escalated %", "escalated"),
        ("asks for a person: escalated %", "human_escalated"),
        ("out of scope: answered %", "out_of_scope_answered"),
        ("out of scope: suggested %", "out_of_scope_suggested"),
        ("out of scope: rejected %", "out_of_scope_rejected"),
    ]
    for label, name in rates:
        row(label, (f"{getattr(f, name):.1f}" for _, f in groups))
    lines.append(f"latency per question: p50 {result.p50_ms:.3f} ms, p99 {result.p99_ms:.3f} ms")
    if result.unknown_expected:
        lines.append(
            "expected ids not in the knowledge base: " + ", ".join(result.unknown_expected)
        )
    return "\n".join(lines)
