"""The matcher: escalation first, then answer, suggest or fallback by score and lead."""

from __future__ import annotations

import pytest

from faq.knowledge import (
    DEFAULT_DIRECTORY,
    KnowledgeBase,
    load_knowledge_base,
    parse_knowledge_file,
)
from faq.matcher import FaqMatcher, Ranking, Thresholds, decide, is_bare_greeting, wants_human

SHOP = """
entries:
  - id: refund_policy
    questions:
      zh: ["能退款吗", "退款规则是什么", "可以退钱吗", "退款政策", "不想要了能退吗"]
      en: ["can i get a refund", "what is your refund policy", "do you give refunds",
           "refund rules", "can i return it"]
    answer: {zh: "未查看的卡密可以退款。", en: "Unrevealed keys can be refunded."}
  - id: request_refund
    questions:
      zh: ["我要退款", "帮我退款", "申请退款", "怎么申请退款", "退掉这个订单"]
      en: ["i want a refund", "refund my order", "how do i request a refund", "please refund me",
           "start a refund"]
    answer: {zh: "打开订单，点“申请退款”。", en: "Open the order and tap Request a refund."}
  - id: refund_status
    questions:
      zh: ["退款到账了吗", "退款进度", "退款什么时候到", "退款还没到", "查一下退款"]
      en: ["where is my refund", "refund status", "when will my refund arrive",
           "has my refund been processed", "refund not received yet"]
    answer: {zh: "退款一般几分钟内到账。", en: "Refunds usually arrive within minutes."}
  - id: how_to_redeem
    questions:
      zh: ["卡密怎么用", "激活码在哪里输入", "怎么兑换", "拿到卡密后怎么激活", "兑换码怎么使用"]
      en: ["how do i redeem my key", "where do i enter the code", "how to activate the key",
           "how to use the code", "redeem steps"]
    answer: {zh: "在官方平台输入卡密。", en: "Enter the key on the product's own platform."}
  - id: payment_methods
    questions:
      zh: ["怎么付款", "支持哪些付款方式", "能用支付宝吗", "可以用余额付吗", "付款方式有哪些"]
      en: ["how can i pay", "what payment methods do you accept", "can i pay with stars",
           "do you take paypal", "payment options"]
    answer: {zh: "支持 Stars 和余额。", en: "Telegram Stars or your wallet."}
  - id: human_agent
    questions:
      zh: ["人工", "转人工", "联系客服", "找个真人", "我要跟人说话"]
      en: ["human", "talk to a human", "real person", "agent", "can somebody from your team help"]
    answer: {zh: "正在为您转接。", en: "Fetching a member of our team."}
"""

THRESHOLDS = Thresholds(answer=60.0, margin=10.0, suggest=40.0)


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    kb = KnowledgeBase(tuple(parse_knowledge_file(SHOP, "shop.yaml")))
    return FaqMatcher.from_knowledge_base(kb, THRESHOLDS)


@pytest.mark.parametrize(
    "text",
    [
        "人工",
        "转人工！",
        "退款 转人工",
        "卡密用不了，找客服",
        "有沒有真人",
        "I want a human",
        "refund failed, get me an AGENT",
        "can I talk to someone",
        "real person please",
        "operator",
    ],
)
def test_a_request_for_a_person_always_escalates_whatever_else_it_says(
    matcher: FaqMatcher, text: str
) -> None:
    result = matcher.match(text)
    assert (result.action, result.entry_id, result.suggestions) == ("escalate", None, ())


@pytest.mark.parametrize(
    "text", ["是人工发货还是自动的", "人工智能是什么", "humane treatment", "reagent", "management"]
)
def test_words_that_only_contain_a_person_word_do_not_escalate(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我想申请退款", "request_refund"),
        ("怎麼申請退款啊？", "request_refund"),
        ("能退吗", "refund_policy"),
        ("支付宝能付吗", "payment_methods"),
        ("How do I request a refund?", "request_refund"),
        ("ＣＤＫ怎么用", "how_to_redeem"),
    ],
)
def test_a_paraphrase_is_answered_with_the_right_entry(
    matcher: FaqMatcher, text: str, expected: str
) -> None:
    result = matcher.match(text)
    assert (result.action, result.entry_id) == ("answer", expected)
    assert result.score >= THRESHOLDS.answer
    assert result.suggestions == ()


def test_an_ambiguous_question_suggests_the_three_closest_entries(matcher: FaqMatcher) -> None:
    result = matcher.match("退款")
    assert result.action == "suggest"
    assert set(result.suggestions) == {"refund_policy", "request_refund", "refund_status"}
    assert result.entry_id == result.suggestions[0]


@pytest.mark.parametrize("text", ["asdfgh qwerty", "今天天气怎么样", "what is the weather today"])
def test_nonsense_and_off_topic_questions_fall_back(matcher: FaqMatcher, text: str) -> None:
    assert matcher.match(text).action == "fallback"


@pytest.mark.parametrize("text", ["", "   ", "😀👍", "？？？", "\x00\u200b"])
def test_blank_or_symbol_only_input_falls_back_without_a_best_entry(
    matcher: FaqMatcher, text: str
) -> None:
    result = matcher.match(text)
    assert (result.action, result.entry_id, result.score) == ("fallback", None, 0.0)


def test_overlong_input_is_matched_on_its_beginning(matcher: FaqMatcher) -> None:
    result = matcher.match("我想申请退款" + "啊" * 10_000)
    assert result.entry_id == "request_refund"


def test_the_language_is_detected_when_not_given_and_kept_when_given(
    matcher: FaqMatcher,
) -> None:
    assert matcher.match("我想申请退款").language == "zh"
    assert matcher.match("refund my order").language == "en"
    assert matcher.match("refund my order", "zh").language == "zh"


def test_matching_the_entry_for_reaching_a_person_escalates(matcher: FaqMatcher) -> None:
    result = matcher.match("can somebody from your team help")
    assert result.action == "escalate"


def test_scores_stay_between_0_and_100(matcher: FaqMatcher) -> None:
    for text in ["我想申请退款", "退款", "refund", "怎么申请退款", "asdf"]:
        for _, score in matcher.rank(text).entries:
            assert 0.0 <= score <= 100.0


def test_an_answer_needs_a_clear_lead_over_the_runner_up() -> None:
    close = Ranking("en", False, (("a", 80.0), ("b", 75.0), ("c", 50.0)))
    clear = Ranking("en", False, (("a", 80.0), ("b", 60.0)))
    thresholds = Thresholds(answer=70.0, margin=10.0, suggest=40.0)
    assert decide(close, thresholds).action == "suggest"
    assert decide(close, thresholds).suggestions == ("a", "b", "c")
    assert decide(clear, thresholds).action == "answer"
    assert decide(Ranking("en", False, (("a", 39.0),)), thresholds).action == "fallback"


def test_a_question_typed_exactly_like_a_paraphrase_finds_its_entry(
    matcher: FaqMatcher,
) -> None:
    for question, entry_id in [
        ("退掉这个订单", "request_refund"),
        ("redeem steps", "how_to_redeem"),
    ]:
        assert matcher.rank(question).entries[0][0] == entry_id


ELSEWHERE = """
entries:
  - id: other_shops
    out_of_scope: true
    questions:
      zh: ["淘宝买的衣服怎么退货", "京东的快递到哪了", "拼多多退款多久到", "天猫的优惠券怎么领",
           "闲鱼卖家不发货"]
      en: ["how do i return shoes on amazon", "ebay refund status", "where is my ups parcel",
           "aliexpress coupon", "shein return policy"]
  - id: weather
    out_of_scope: true
    questions:
      zh: ["今天天气怎么样", "明天会下雨吗", "外面冷不冷"]
      en: ["whats the weather", "will it rain tomorrow", "is it cold outside"]
"""


@pytest.fixture(scope="module")
def guarded() -> FaqMatcher:
    """The shop's entries plus examples of what it does not cover."""
    entries = parse_knowledge_file(SHOP, "shop.yaml")
    examples = parse_knowledge_file(ELSEWHERE, "elsewhere.yaml")
    return FaqMatcher.from_knowledge_base(
        KnowledgeBase(tuple(entries), tuple(examples)), THRESHOLDS
    )


@pytest.mark.parametrize(
    "text", ["淘宝买的衣服退货怎么弄", "拼多多的退款多久到账", "how do i return shoes on amazon?"]
)
def test_a_question_closest_to_an_out_of_scope_example_falls_back_without_an_entry(
    guarded: FaqMatcher, text: str
) -> None:
    ranking = guarded.rank(text)
    assert ranking.out_of_scope > ranking.entries[0][1]
    result = guarded.match(text)
    assert (result.action, result.entry_id, result.suggestions) == ("fallback", None, ())


@pytest.mark.parametrize(
    "text",
    ["退款", "天猫退款", "refund", "amazon refund", "coupon", "weather refund", "淘宝", "ebay"],
)
def test_an_out_of_scope_example_is_never_answered_or_suggested(
    guarded: FaqMatcher, text: str
) -> None:
    result = guarded.with_thresholds(Thresholds(answer=0.0, margin=0.0, suggest=0.0)).match(text)
    assert result.entry_id not in {"other_shops", "weather"}
    assert not {"other_shops", "weather"} & set(result.suggestions)


def test_the_shops_own_questions_still_find_their_entries_beside_out_of_scope_examples(
    guarded: FaqMatcher,
) -> None:
    assert (guarded.match("我想申请退款").action, guarded.match("我想申请退款").entry_id) == (
        "answer",
        "request_refund",
    )
    assert guarded.match("How do I request a refund?").entry_id == "request_refund"


def test_an_out_of_scope_example_close_behind_narrows_the_lead_and_one_ahead_wins() -> None:
    thresholds = Thresholds(answer=70.0, margin=10.0, suggest=40.0)
    entries = (("a", 80.0), ("b", 50.0))
    assert decide(Ranking("en", False, entries, out_of_scope=60.0), thresholds).action == "answer"
    close = decide(Ranking("en", False, entries, out_of_scope=75.0), thresholds)
    assert (close.action, close.suggestions) == ("suggest", ("a", "b"))
    ahead = decide(Ranking("en", False, entries, out_of_scope=85.0), thresholds)
    assert (ahead.action, ahead.entry_id, ahead.suggestions) == ("fallback", None, ())


@pytest.mark.parametrize(
    "text",
    [
        "在吗",
        "在吗在吗",
        "你好！",
        "亲 在不",
        "hi there 👋",
        "ok thanks",
        "Good morning",
        "HELLO??",
    ],
)
def test_a_bare_greeting_falls_back_without_an_entry(matcher: FaqMatcher, text: str) -> None:
    assert is_bare_greeting(text)
    result = matcher.match(text)
    assert (result.action, result.entry_id, result.suggestions) == ("fallback", None, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好，我想申请退款", "request_refund"),
        ("hi, how do I request a refund?", "request_refund"),
    ],
)
def test_a_greeting_before_a_question_does_not_hide_the_question(
    matcher: FaqMatcher, text: str, expected: str
) -> None:
    assert not is_bare_greeting(text)
    assert matcher.match(text).entry_id == expected


@pytest.fixture(scope="module")
def shipped() -> FaqMatcher:
    return FaqMatcher.from_knowledge_base(load_knowledge_base(DEFAULT_DIRECTORY))


@pytest.mark.parametrize(
    ("text", "action", "entry_id"),
    [
        ("怎么退款", "answer", "request_refund"),
        ("how do i get a refund", "answer", "request_refund"),
        ("how long does delivery take after i pay?", "answer", "delivery_time"),
        ("what payment methods do you accept", "answer", "payment_methods"),
        ("人工", "escalate", None),
        ("I need a real person", "escalate", None),
        ("purple monkey dishwasher", "fallback", None),
        ("随便说点什么吧哈哈嘿嘿", "fallback", None),
    ],
)
def test_the_shipped_base_settles_the_questions_the_conversation_relies_on(
    shipped: FaqMatcher, text: str, action: str, entry_id: str | None
) -> None:
    result = shipped.match(text)
    assert result.action == action
    if action != "fallback":
        assert result.entry_id == entry_id


@pytest.mark.parametrize("text", ["order", "订单", "退款", "key", "payment"])
def test_the_shipped_base_offers_a_choice_for_a_one_word_question(
    shipped: FaqMatcher, text: str
) -> None:
    result = shipped.match(text)
    assert result.action == "suggest" and len(result.suggestions) == 3


def test_the_shipped_base_never_hands_out_an_out_of_scope_id() -> None:
    kb = load_knowledge_base(DEFAULT_DIRECTORY)
    examples = {entry.id for entry in kb.out_of_scope}
    anything = FaqMatcher.from_knowledge_base(kb, Thresholds(answer=0.0, margin=0.0, suggest=0.0))
    for entry in kb.out_of_scope:
        for language, questions in entry.questions.items():
            for question in questions:
                result = anything.match(question, "zh" if language == "zh" else "en")
                assert result.entry_id not in examples
                assert not examples & set(result.suggestions)
