"""`python -m faq match|eval`: the shapes later tooling relies on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from faq.cli import main

KB = """
entries:
  - id: refund_policy
    questions:
      zh: ["能退款吗", "退款规则是什么", "可以退钱吗", "退款政策", "不想要了能退吗"]
      en: ["can i get a refund", "what is your refund policy", "do you give refunds",
           "refund rules", "can i return it"]
    answer: {zh: "可以。", en: "Yes."}
  - id: how_to_redeem
    questions:
      zh: ["卡密怎么用", "激活码在哪里输入", "怎么兑换", "拿到卡密后怎么激活", "兑换码怎么使用"]
      en: ["how do i redeem my key", "where do i enter the code", "how to activate the key",
           "how to use the code", "redeem steps"]
    answer: {zh: "在官方平台输入。", en: "On the product's platform."}
  - id: payment_methods
    questions:
      zh: ["怎么付款", "支持哪些付款方式", "能用支付宝吗", "可以用余额付吗", "付款方式有哪些"]
      en: ["how can i pay", "what payment methods do you accept", "can i pay with stars",
           "do you take paypal", "payment options"]
    answer: {zh: "Stars 或余额。", en: "Stars or wallet."}
"""

QUESTIONS = "\n".join(
    [
        "question\tlanguage\texpected",
        "不想要了 能退款吗\tzh\trefund_policy",
        "where do i enter my code?\ten\thow_to_redeem",
        "可以用支付宝付款吗\tzh\tpayment_methods",
        "今天天气怎么样\tzh\tnone",
        "tell me a joke\ten\tnone",
        "转人工\tzh\thuman",
        "",
    ]
)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    directory = tmp_path / "knowledge"
    directory.mkdir()
    (directory / "shop.yaml").write_text(KB, encoding="utf-8")
    return directory


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_match_writes_one_json_object_per_question_line(kb: Path) -> None:
    code, out, err = run("match", "--kb", str(kb), stdin="怎么兑换卡密\n转人工\n\nzzzz qqqq\n")
    assert (code, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["q"] for line in lines] == ["怎么兑换卡密", "转人工", "", "zzzz qqqq"]
    for line in lines:
        assert set(line) == {"q", "action", "id", "score", "suggestions"}
        assert line["action"] in {"answer", "suggest", "fallback", "escalate"}
        assert isinstance(line["score"], int | float) and 0 <= line["score"] <= 100
        assert isinstance(line["suggestions"], list)
    assert lines[0]["id"] == "how_to_redeem"
    assert lines[1] == {
        "q": "转人工",
        "action": "escalate",
        "id": None,
        "score": 100.0,
        "suggestions": [],
    }
    assert (lines[2]["action"], lines[2]["id"]) == ("fallback", None)
    assert "怎么兑换卡密" in out  # not \\u escapes


def test_match_takes_the_language_when_given(kb: Path) -> None:
    _, out, _ = run("match", "--lang", "en", "--kb", str(kb), stdin="redeem steps\n")
    assert json.loads(out)["id"] == "how_to_redeem"


def test_a_malformed_knowledge_base_is_one_line_on_stderr_and_exit_1(kb: Path) -> None:
    (kb / "broken.yaml").write_text("entries:\n  - id: BAD\n", encoding="utf-8")
    code, out, err = run("match", "--kb", str(kb), stdin="退款\n")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert "broken.yaml: entries[0]: id:" in err


def test_eval_prints_the_figures_for_a_labelled_file(kb: Path, tmp_path: Path) -> None:
    file = tmp_path / "questions.tsv"
    file.write_text(QUESTIONS, encoding="utf-8")
    code, out, _ = run("eval", str(file), "--kb", str(kb))
    assert code == 0
    assert "6 questions" in out
    for label in [
        "answered correct",
        "answered wrong",
        "suggested, right id",
        "suggested, without",
        "fallback",
        "escalated",
        "out of scope: answered",
        "out of scope: rejected",
        "p50",
        "p99",
    ]:
        assert label in out


def test_eval_json_counts_each_kind_of_question(kb: Path, tmp_path: Path) -> None:
    file = tmp_path / "questions.tsv"
    file.write_text(QUESTIONS, encoding="utf-8")
    code, out, _ = run("eval", str(file), "--kb", str(kb), "--json")
    result = json.loads(out)
    assert code == 0
    overall = result["overall"]
    assert (overall["in_scope"], overall["out_of_scope"], overall["human"]) == (3, 2, 1)
    assert overall["human_escalated"] == 100.0
    assert result["by_language"]["zh"]["questions"] == 4
    assert set(result["latency_ms"]) == {"p50", "p99"}
    assert result["unknown_expected"] == []


def test_eval_tune_reports_the_whole_set_and_each_half_on_the_other(
    kb: Path, tmp_path: Path
) -> None:
    file = tmp_path / "questions.tsv"
    file.write_text(QUESTIONS, encoding="utf-8")
    code, out, _ = run("eval", str(file), "--kb", str(kb), "--tune", "--json")
    runs = json.loads(out)
    assert code == 0
    assert [run["run"].split(",")[0] for run in runs] == [
        "all questions (tuned and measured on the same set)",
        "odd rows",
        "even rows",
    ]


def test_a_malformed_labelled_file_names_the_line(kb: Path, tmp_path: Path) -> None:
    file = tmp_path / "questions.tsv"
    file.write_text("question\tlanguage\texpected\nhello\tfr\tnone\n", encoding="utf-8")
    code, _, err = run("eval", str(file), "--kb", str(kb))
    assert code == 1
    assert err.strip() == "questions.tsv: line 2: language must be zh or en"
