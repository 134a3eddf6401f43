"""Knowledge files: loaded from a directory, refused with the file, entry and field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.strict_yaml import MAX_ALIASES
from faq.knowledge import (
    DEFAULT_DIRECTORY,
    MAX_FILE_BYTES,
    KnowledgeBaseError,
    load_knowledge_base,
)
from faq.matcher import HUMAN_AGENT, is_bare_greeting, wants_human
from faq.normalise import normalise

GOOD = """
entries:
  - id: refund_policy
    questions:
      zh: ["能退款吗", "退款规则", "可以退钱吗"]
      en: ["can i get a refund", "refund policy", "do you give refunds"]
    answer:
      zh: "未查看的卡密在 {refund_window_days} 天内可直接退款。"
      en: "Keys you have not revealed can be refunded within {refund_window_days} days."
    actions: [request_refund]
  - id: business_hours
    questions:
      zh: ["几点上班", "营业时间", "周末有人吗"]
      en: ["opening hours", "business hours", "open on weekends"]
    answer:
      zh: "{shop_name} 的值班时间：{support_hours}。"
      en: "{shop_name} is staffed {support_hours}."
"""


def _entry(**changes: str) -> str:
    fields = {
        "id": "refund_status",
        "questions": '{zh: ["退款到了吗", "退款进度", "退款多久到"], '
        'en: ["where is my refund", "refund status", "refund not here"]}',
        "answer": '{zh: "几分钟内到账。", en: "Within minutes."}',
        "actions": "[refund_status]",
    }
    fields.update(changes)
    lines = [f"    {key}: {value}" for key, value in fields.items() if value != "-"]
    return "entries:\n  - " + "\n".join(lines).lstrip()


def test_every_yaml_file_in_the_directory_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(_entry(), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not knowledge", encoding="utf-8")
    kb = load_knowledge_base(tmp_path)
    assert kb.ids == ("refund_policy", "business_hours", "refund_status")
    entry = kb.entry("refund_policy")
    assert entry.questions["zh"] == ("能退款吗", "退款规则", "可以退钱吗")
    assert entry.actions == ("request_refund",)
    assert "refund_status" in kb and "nope" not in kb


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _entry(answer='{zh: "{refund_days} 天", en: "x"}'),
            "refunds.yaml: entries[0] (refund_status): answer.zh: unknown placeholder "
            "{refund_days}",
        ),
        (
            _entry(id="Refund-Status"),
            "refunds.yaml: entries[0]: id: must be 1-40 of a-z, 0-9 and _, not 'Refund-Status'",
        ),
        (
            _entry(questions='{zh: ["退款到了吗", "退款进度", "退款多久到"]}'),
            "refunds.yaml: entries[0] (refund_status): questions.en: missing",
        ),
        (
            _entry(questions='{zh: ["退款到了吗"], en: ["a", "b", "c"]}'),
            "refunds.yaml: entries[0] (refund_status): questions.zh: needs at least 3 "
            "questions, has 1",
        ),
        (
            _entry(questions='{zh: ["a", "b", "c"], en: ["a", "", "c"]}'),
            "refunds.yaml: entries[0] (refund_status): questions.en[1]: must be a non-empty text",
        ),
        (
            _entry(questions='{zh: ["a", "b", "c"], en: ["a", "b", "c"], fr: ["a", "b", "c"]}'),
            "refunds.yaml: entries[0] (refund_status): questions.fr: unknown language",
        ),
        (
            _entry(actions="[refund_now]"),
            "refunds.yaml: entries[0] (refund_status): actions[0]: unknown action 'refund_now'",
        ),
        (
            _entry(answer='{zh: "<b>几分钟</b>", en: "x"}'),
            "refunds.yaml: entries[0] (refund_status): answer.zh: must be plain text, without "
            "HTML tags",
        ),
        (
            _entry(answer='{zh: "{refund_window_days:>3} 天", en: "x"}'),
            "refunds.yaml: entries[0] (refund_status): answer.zh: placeholder "
            "{refund_window_days} must be a bare name",
        ),
        (
            _entry(answer="-"),
            "refunds.yaml: entries[0] (refund_status): answer: missing",
        ),
        (
            _entry(answers='{zh: "x", en: "y"}'),
            "refunds.yaml: entries[0] (refund_status): answers: unknown field",
        ),
        (
            _entry(answer='{zh: "' + "退" * 3001 + '", en: "x"}'),
            "refunds.yaml: entries[0] (refund_status): answer.zh: 3001 characters; a message "
            "holds 3000",
        ),
        ("entries: {id: x}", "refunds.yaml: entries: must be a list"),
        ("- just a list", "refunds.yaml: the file must be a mapping with one key, entries"),
        (
            "entries:\n  - !!python/object/apply:os.system [echo hacked]",
            "refunds.yaml: line 2: entries[0]: the tag !!python/object/apply:os.system is not "
            "allowed",
        ),
        ("entries: [\n", "refunds.yaml: line 2: invalid YAML"),
        (
            _entry() + "\n    id: again",
            "refunds.yaml: line 6: entries[0] (refund_status): id: the key 'id' is repeated "
            "(first on line 2)",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file_entry_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "refunds.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(tmp_path)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


QUESTIONS = '{zh: ["退款到了吗", "退款进度", "退款多久到"], en: ["a", "b", "c"]'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _entry(**{"[answer]": "x"}),
            "refunds.yaml: line 6: entries[0] (refund_status): a key must be text or a number, "
            "not a list",
        ),
        (
            _entry(id="{[refund_status]: 1}"),
            "refunds.yaml: line 2: entries[0]: id: a key must be text or a number, not a list",
        ),
        (
            _entry(id="{{a: 1}: refund_status}"),
            "refunds.yaml: line 2: entries[0]: id: a key must be text or a number, not a mapping",
        ),
        (
            _entry(questions=QUESTIONS + ', [fr]: ["a", "b", "c"]}'),
            "refunds.yaml: line 3: entries[0] (refund_status): questions: a key must be text "
            "or a number, not a list",
        ),
        (
            _entry(answer='{zh: "几分钟内到账。", en: "Within minutes.", {en: 1}: x}'),
            "refunds.yaml: line 4: entries[0] (refund_status): answer: a key must be text or a "
            "number, not a mapping",
        ),
        (
            _entry(actions="[{refund_status: true}]"),
            "refunds.yaml: entries[0] (refund_status): actions[0]: must be the name of an "
            "action, not a mapping",
        ),
        (
            _entry(actions="[[shop, wallet]]"),
            "refunds.yaml: entries[0] (refund_status): actions[0]: must be the name of an "
            "action, not a list",
        ),
        (
            "[entries]: []\n",
            "refunds.yaml: line 1: a key must be text or a number, not a list",
        ),
        (
            _entry(id="[refund_status]"),
            "refunds.yaml: entries[0]: id: must be 1-40 of a-z, 0-9 and _, not ['refund_status']",
        ),
    ],
)
def test_a_list_or_mapping_where_a_key_or_name_belongs_is_refused_in_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "refunds.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(tmp_path)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_a_long_value_is_cut_short_in_the_message(tmp_path: Path) -> None:
    (tmp_path / "refunds.yaml").write_text(_entry(id="X" * 5000), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"not 'XXX+\.\.\.'$") as refused:
        load_knowledge_base(tmp_path)
    assert len(str(refused.value)) < 200


def billion_laughs_id() -> str:
    """One entry whose id nests eight levels of nine aliases: 9**9 strings if expanded."""
    levels = ["&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for this, previous in zip("bcdefghi", "abcdefgh", strict=True):
        levels.append(f"&{this} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "entries:\n  - id: [" + ", ".join(levels) + "]\n"


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(billion_laughs_id(), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(tmp_path)
    assert str(refused.value).startswith(
        f"bomb.yaml: line 2: more than {MAX_ALIASES} aliases (*name)"
    )


def test_a_few_aliases_are_allowed(tmp_path: Path) -> None:
    text = _entry(questions='&q {zh: ["退款到了吗", "退款进度", "退款多久到"], en: [a, b, c]}')
    text += "\n  - id: refund_eta\n    questions: *q\n    answer: {zh: 快, en: Soon}\n"
    (tmp_path / "refunds.yaml").write_text(text, encoding="utf-8")
    kb = load_knowledge_base(tmp_path)
    assert kb.entry("refund_eta").questions == kb.entry("refund_status").questions


def test_a_file_over_the_size_cap_is_refused_naming_the_cap(tmp_path: Path) -> None:
    assert MAX_FILE_BYTES == 1024 * 1024
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    big = GOOD + "#" * (MAX_FILE_BYTES - len(GOOD.encode()) + 1)
    (tmp_path / "big.yaml").write_text(big, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(tmp_path)
    assert str(refused.value) == (
        f"big.yaml: the file is larger than 1 MB (it has {MAX_FILE_BYTES + 1} bytes); "
        "split it or trim it"
    )


def test_a_file_at_the_size_cap_is_read(tmp_path: Path) -> None:
    exact = GOOD + "#" * (MAX_FILE_BYTES - len(GOOD.encode()))
    (tmp_path / "exact.yaml").write_text(exact, encoding="utf-8")
    assert len(load_knowledge_base(tmp_path)) == 2


@pytest.mark.parametrize("written", ["yes", "on", "y"])
def test_out_of_scope_takes_only_true_or_false(tmp_path: Path, written: str) -> None:
    (tmp_path / "oos.yaml").write_text(
        OUT_OF_SCOPE.replace("out_of_scope: true", f"out_of_scope: {written}"), encoding="utf-8"
    )
    with pytest.raises(
        KnowledgeBaseError, match=f"out_of_scope: must be true or false, not '{written}'$"
    ):
        load_knowledge_base(tmp_path)


def test_an_id_used_in_two_files_is_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_entry(), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD + _entry().removeprefix("entries:"), encoding="utf-8")
    with pytest.raises(
        KnowledgeBaseError,
        match=r"^b\.yaml: entries\[2\] \(refund_status\): "
        r"id: already used in a\.yaml$",
    ):
        load_knowledge_base(tmp_path)


OUT_OF_SCOPE = """
entries:
  - id: weather
    out_of_scope: true
    questions:
      zh: ["今天天气怎么样", "会下雨吗", "外面冷不冷"]
      en: ["whats the weather", "will it rain", "is it cold outside"]
"""


def test_out_of_scope_examples_are_kept_apart_from_the_entries_that_can_be_answered(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(OUT_OF_SCOPE, encoding="utf-8")
    kb = load_knowledge_base(tmp_path)
    assert kb.ids == ("refund_policy", "business_hours")
    assert [entry.id for entry in kb.entries] == ["refund_policy", "business_hours"]
    assert "weather" not in kb
    with pytest.raises(KeyError):
        kb.entry("weather")
    [weather] = kb.out_of_scope
    assert weather.id == "weather" and weather.out_of_scope
    assert weather.questions["en"][0] == "whats the weather"
    assert (weather.answer, weather.actions) == ({}, ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            OUT_OF_SCOPE.replace("out_of_scope: true", "out_of_scope: yes please"),
            "oos.yaml: entries[0] (weather): out_of_scope: must be true or false",
        ),
        (
            OUT_OF_SCOPE + '    answer: {zh: "晴", en: "Sunny"}\n',
            "oos.yaml: entries[0] (weather): answer: an out-of-scope entry is never answered",
        ),
        (
            OUT_OF_SCOPE + "    actions: [shop]\n",
            "oos.yaml: entries[0] (weather): actions: an out-of-scope entry is never answered",
        ),
        (
            OUT_OF_SCOPE.replace(
                '      en: ["whats the weather", "will it rain", "is it cold outside"]\n', ""
            ),
            "oos.yaml: entries[0] (weather): questions.en: missing",
        ),
    ],
)
def test_a_malformed_out_of_scope_entry_is_refused_naming_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "oos.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(tmp_path)
    assert str(refused.value).startswith(message)


def test_an_out_of_scope_id_may_not_repeat_an_entry_id(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        OUT_OF_SCOPE.replace("id: weather", "id: business_hours"), encoding="utf-8"
    )
    with pytest.raises(KnowledgeBaseError, match=r"id: already used in a\.yaml$"):
        load_knowledge_base(tmp_path)


def test_a_missing_or_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="not a directory"):
        load_knowledge_base(tmp_path / "missing")
    with pytest.raises(KnowledgeBaseError, match=r"no \*\.yaml knowledge files"):
        load_knowledge_base(tmp_path)


REQUIRED_IDS = {
    "how_to_buy",
    "payment_methods",
    "payment_failed",
    "delivery_time",
    "order_status",
    "cancel_order",
    "change_order",
    "refund_policy",
    "request_refund",
    "refund_status",
    "key_invalid",
    "how_to_redeem",
    "wallet_topup",
    "discounts",
    "invoice",
    "account",
    "shipping",
    "notifications",
    "traceability",
    "bulk_purchase",
    "feedback",
    "complaint",
    "business_hours",
    "human_agent",
}


def test_the_shipped_knowledge_base_loads_and_covers_the_required_questions() -> None:
    kb = load_knowledge_base(DEFAULT_DIRECTORY)
    assert set(kb.ids) >= REQUIRED_IDS
    assert kb.out_of_scope and not set(kb.ids) & {entry.id for entry in kb.out_of_scope}


def test_every_shipped_entry_has_12_to_20_paraphrases_per_language() -> None:
    kb = load_knowledge_base(DEFAULT_DIRECTORY)
    counts = {
        (entry.id, language): len(questions)
        for entry in (*kb.entries, *kb.out_of_scope)
        for language, questions in entry.questions.items()
    }
    assert {key: n for key, n in counts.items() if not 12 <= n <= 20} == {}


def test_no_shipped_paraphrase_is_dead_because_a_rule_decides_it_first() -> None:
    """A paraphrase that asks for a person (outside `human_agent`) always escalates, and a bare
    greeting always falls back: no buyer's question would ever be matched to it."""
    kb = load_knowledge_base(DEFAULT_DIRECTORY)
    dead = [
        (entry.id, question)
        for entry in (*kb.entries, *kb.out_of_scope)
        for questions in entry.questions.values()
        for question in questions
        if (entry.id != HUMAN_AGENT and wants_human(question))
        or is_bare_greeting(question)
        or not normalise(question)
    ]
    assert dead == []


def test_every_id_is_offered_with_those_most_like_a_mistyped_one_first() -> None:
    knowledge = load_knowledge_base()
    nearest = knowledge.nearest_ids("refnd")
    assert sorted(nearest) == sorted(knowledge.ids)
    assert set(nearest[:3]) == {"refund_policy", "request_refund", "refund_status"}


def test_an_answer_written_in_traditional_chinese_is_kept_and_one_not_written_is_converted(
    tmp_path: Path,
) -> None:
    written = _entry(
        answer='{zh: "几分钟内到账。", zh-Hant: "幾分鐘內入帳。", en: "Within minutes."}'
    )
    (tmp_path / "a.yaml").write_text(written, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    kb = load_knowledge_base(tmp_path)
    assert kb.entry("refund_status").answer["zh-hant"] == "幾分鐘內入帳。"
    assert (
        kb.entry("business_hours").answer["zh-hant"] == "{shop_name} 的值班時間：{support_hours}。"
    )


def test_an_answer_whose_languages_use_other_placeholders_is_refused(tmp_path: Path) -> None:
    answer = (
        '{zh: "{shop_name} 值班。", zh-Hant: "{support_hours} 值班。", en: "{shop_name} works."}'
    )
    (tmp_path / "refunds.yaml").write_text(_entry(answer=answer), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as refused:
        load_knowledge_base(tmp_path)
    assert "answer.zh-Hant: uses ['support_hours'] where zh uses ['shop_name']" in str(
        refused.value
    )
