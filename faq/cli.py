"""`python -m faq match|eval`: the matcher on standard input, or measured on a labelled file."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from faq.evaluation import (
    EvaluationFileError,
    Scored,
    format_report,
    read_questions,
    report,
    score_questions,
    tune,
)
from faq.knowledge import DEFAULT_DIRECTORY, KnowledgeBaseError, load_knowledge_base
from faq.matcher import FaqMatcher, Thresholds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m faq", description="Kamibot's FAQ matcher")
    commands = parser.add_subparsers(dest="command", required=True)
    match = commands.add_parser(
        "match", help="match questions read one per line on stdin; one JSON object per line out"
    )
    match.add_argument("--lang", choices=["zh", "en"], help="default: detected per question")
    match.add_argument("--kb", type=Path, default=DEFAULT_DIRECTORY, help="knowledge directory")
    evaluate = commands.add_parser("eval", help="measure on a labelled TSV file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--kb", type=Path, default=DEFAULT_DIRECTORY, help="knowledge directory")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument(
        "--tune",
        action="store_true",
        help="choose thresholds on the file (and on each half, reported on the other half)",
    )
    defaults = Thresholds()
    evaluate.add_argument(
        "--answer",
        type=float,
        default=defaults.answer,
        help="score to answer (default %(default)s)",
    )
    evaluate.add_argument(
        "--margin", type=float, default=defaults.margin, help="lead to answer (default %(default)s)"
    )
    evaluate.add_argument(
        "--suggest",
        type=float,
        default=defaults.suggest,
        help="score to suggest (default %(default)s)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    # The contract is UTF-8 lines whatever the locale; a stray bad byte must not end the run.
    if stdin is None and isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    if stdout is None and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8")
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        kb = load_knowledge_base(args.kb)
    except KnowledgeBaseError as error:
        print(f"knowledge base refused: {error}", file=stderr)
        return 1
    matcher = FaqMatcher.from_knowledge_base(kb)
    if args.command == "match":
        _match(matcher, args.lang, stdin, stdout)
        return 0
    try:
        questions = read_questions(args.file)
    except EvaluationFileError as error:
        print(str(error), file=stderr)
        return 1
    scored = score_questions(matcher, questions)
    chosen = Thresholds(args.answer, args.margin, args.suggest)
    if not args.tune:
        result = report(scored, chosen, kb.ids)
        if args.json:
            print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), file=stdout)
        else:
            print(format_report(result, f"{args.file}: {len(questions)} questions"), file=stdout)
        return 0
    _tune(scored, kb.ids, str(args.file), args.json, stdout)
    return 0


def _match(matcher: FaqMatcher, language: str | None, stdin: TextIO, stdout: TextIO) -> None:
    for line in stdin:
        question = line.rstrip("\r\n")
        result = matcher.match(question, "zh" if language == "zh" else "en" if language else None)
        record = {
            "q": question,
            "action": result.action,
            "id": result.entry_id,
            "score": result.score,
            "suggestions": list(result.suggestions),
        }
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        stdout.flush()  # a caller may be waiting for this line before it writes the next


def _tune(
    scored: Sequence[Scored], ids: Sequence[str], name: str, as_json: bool, stdout: TextIO
) -> None:
    """Tuned on everything (in-sample), then two-fold: tuned on one half, reported on the other."""
    halves = (scored[0::2], scored[1::2])
    runs = [("all questions (tuned and measured on the same set)", scored, scored)]
    runs += [
        ("odd rows, thresholds tuned on the even rows", halves[0], halves[1]),
        ("even rows, thresholds tuned on the odd rows", halves[1], halves[0]),
    ]
    results = []
    for label, tune_on, measure_on in runs:
        chosen = tune(tune_on)
        results.append((label, chosen, report(measure_on, chosen, ids)))
    if as_json:
        payload = [
            {"run": label, "tuned": asdict(chosen), **result.as_dict()}
            for label, chosen, result in results
        ]
        print(json.dumps(payload, ensure_ascii=False, indent=2), file=stdout)
        return
    for label, _, result in results:
        print(format_report(result, f"{name}: {label}"), file=stdout)
        print(file=stdout)
