"""Evaluation: figures from outcomes, thresholds tuned within the limits."""

from __future__ import annotations

import pytest

from faq.evaluation import (
    MIN_MARGIN,
    EvaluationFileError,
    Question,
    Scored,
    figures,
    parse_questions,
    percentile,
    report,
    tune,
)
from faq.matcher import Match, Ranking, Thresholds, decide


def _scored(expected: str, *entries: tuple[str, float]) -> Scored:
    return Scored(Question("q", "en", expected, 2), Ranking("en", False, entries), 0.001)


def test_tuning_keeps_wrong_and_out_of_scope_answers_within_the_limits() -> None:
    scored = (
        [_scored("a", ("a", 90.0), ("b", 30.0))] * 18
        + [_scored("a", ("b", 70.0), ("a", 40.0))] * 2  # wrong unless the bar is above 70
        + [_scored("none", ("a", 60.0), ("b", 20.0))] * 20
    )
    chosen = tune(scored, max_wrong=5.0, max_out_of_scope_answered=5.0)
    result = report(scored, chosen, ["a", "b"]).overall
    assert result.answered_correct == 90.0
    assert result.answered_wrong <= 5.0 and result.out_of_scope_answered <= 5.0
    assert chosen.answer > 70.0


def test_tuning_asks_for_a_lead_of_at_least_the_minimum_margin() -> None:
    scored = [_scored("a", ("a", 90.0), ("b", 89.5))] * 10 + [_scored("b", ("b", 80.0))] * 10
    assert tune(scored).margin >= MIN_MARGIN
    assert tune(scored, min_margin=0).margin == 0.0


def test_figures_count_suggestions_with_and_without_the_right_entry() -> None:
    question = Question("q", "en", "a", 2)
    outcomes = [
        (question, Match("suggest", "b", 50.0, ("b", "a", "c"), "en")),
        (question, Match("suggest", "b", 50.0, ("b", "c", "d"), "en")),
        (question, decide(Ranking("en", True, ()), Thresholds())),
        (question, Match("fallback", None, 0.0, (), "en")),
    ]
    result = figures(outcomes)
    assert (result.suggested_right, result.suggested_without) == (25.0, 25.0)
    assert (result.escalated, result.fallback) == (25.0, 25.0)


def test_an_out_of_scope_question_closest_to_an_out_of_scope_example_counts_as_rejected() -> None:
    scored = [
        _scored("none", ("a", 60.0)),  # answered: the bot pretended to know
        Scored(Question("q", "en", "none", 3), Ranking("en", False, (("a", 60.0),), 70.0), 0.001),
    ]
    result = report(scored, Thresholds(answer=50.0, margin=5.0, suggest=40.0), ["a"]).overall
    assert (result.out_of_scope_answered, result.out_of_scope_rejected) == (50.0, 50.0)


def test_requests_for_the_human_agent_entry_are_judged_as_requests_for_a_person() -> None:
    assert Question("q", "zh", "human_agent", 2).kind == "human"
    assert Question("q", "zh", "human", 2).kind == "human"
    assert Question("q", "zh", "none", 2).kind == "out_of_scope"


def test_a_labelled_file_needs_its_header_and_three_cells_a_line() -> None:
    with pytest.raises(EvaluationFileError, match="line 1: the header"):
        parse_questions(["q\tl\te"])
    with pytest.raises(EvaluationFileError, match="line 3: needs 3 tab-separated cells"):
        parse_questions(["question\tlanguage\texpected", "a\ten\tnone", "b\ten"])
    parsed = parse_questions(["question\tlanguage\texpected", "", "退款\tzh\trefund_policy"])
    assert parsed == [Question("退款", "zh", "refund_policy", 3)]


def test_percentiles_are_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert (percentile(samples, 50), percentile(samples, 99)) == (50.0, 99.0)
