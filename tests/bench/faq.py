"""`python -m tests.bench.faq`: the FAQ matcher on the shipped labelled set, and its speed at scale.

1. The shipped evaluation set (`faq/eval/questions.tsv`) against the shipped knowledge base with
   the default thresholds: the figures `python -m faq eval` prints, plus the same set split in two
   (thresholds tuned on one half, measured on the other) as an honest out-of-sample estimate.
2. Latency per question on a synthetic 500-entry base (about 19,000 paraphrases): the real
   entries (and the out-of-scope examples) plus variants with their own ids, each paraphrase
   varied with product names and kinds, numbers and filler words so that the n-gram statistics
   look like a bigger shop's, not like copies.
Writes `artifacts/bench-faq.json`.
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from faq.evaluation import (
    Question,
    format_report,
    percentile,
    read_questions,
    report,
    score_questions,
    tune,
)
from faq.knowledge import DEFAULT_DIRECTORY, Entry, KnowledgeBase, load_knowledge_base
from faq.matcher import FaqMatcher, Thresholds

QUESTIONS = Path(__file__).resolve().parents[2] / "faq" / "eval" / "questions.tsv"
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "bench-faq.json"
ENTRIES = 500
ROUNDS = 5
"""Times each question is asked of the 500-entry base (after one untimed round)."""

PRODUCTS_ZH = (
    "王者荣耀",
    "原神",
    "和平精英",
    "爱奇艺",
    "腾讯视频",
    "优酷",
    "芒果TV",
    "网易云音乐",
    "QQ音乐",
    "哔哩哔哩",
    "steam",
    "xbox",
    "ps5",
    "switch",
    "百度网盘",
    "WPS",
    "迅雷",
    "喜马拉雅",
    "饿了么",
    "美团",
    "京东plus",
    "Apple",
    "谷歌",
    "微软",
    "英雄联盟",
    "穿越火线",
    "梦幻西游",
    "我的世界",
    "永劫无间",
    "暗黑破坏神",
    "魔兽世界",
    "绝地求生",
    "坦克世界",
    "得到",
    "知乎盐选",
    "keep",
    "滴滴",
    "携程",
    "话费",
    "流量包",
)
PRODUCTS_EN = (
    "netflix",
    "spotify",
    "steam",
    "xbox game pass",
    "playstation plus",
    "nintendo eshop",
    "google play",
    "itunes",
    "amazon",
    "disney plus",
    "hbo max",
    "youtube premium",
    "office 365",
    "windows 11",
    "adobe",
    "nordvpn",
    "expressvpn",
    "roblox",
    "fortnite",
    "valorant",
    "league of legends",
    "minecraft",
    "genshin",
    "pubg",
    "apex coins",
    "fifa points",
    "razer gold",
    "uber eats",
    "airbnb",
    "duolingo",
    "canva",
    "chatgpt plus",
    "discord nitro",
    "twitch",
    "ea play",
    "ubisoft",
    "battle net",
    "riot points",
    "mobile data",
    "phone credit",
)
# The matcher drops product names (`faq.normalise.PRODUCTS`), so each variant also names a kind
# of product, which it keeps: the variants still differ in their n-grams, as a bigger shop's would.
KINDS_ZH = ("月卡", "季卡", "年卡", "礼品卡", "点券", "皮肤", "会员", "充值卡", "兑换券", "体验卡")
KINDS_EN = (
    "monthly plan",
    "yearly plan",
    "gift card",
    "coins",
    "credits",
    "skin",
    "membership",
    "top up card",
    "season pass",
    "trial",
)
FILLER_ZH = ("请问", "亲", "那个", "急", "谢谢", "在线等", "麻烦问下", "老板", "求助", "")
FILLER_EN = ("pls", "hey", "quick question", "thanks", "asap", "hi", "um", "urgent", "btw", "")


def synthetic_base(real: KnowledgeBase, size: int = ENTRIES, seed: int = 7) -> KnowledgeBase:
    """The real entries plus varied copies up to `size` entries (about 30 paraphrases each)."""
    rng = random.Random(seed)
    entries = list(real.entries)
    number = 0
    while len(entries) < size:
        source = real.entries[number % len(real.entries)]
        product_zh = PRODUCTS_ZH[(number // len(real.entries)) % len(PRODUCTS_ZH)]
        product_en = PRODUCTS_EN[(number // len(real.entries)) % len(PRODUCTS_EN)]
        kind_zh = KINDS_ZH[number % len(KINDS_ZH)]
        kind_en = KINDS_EN[number % len(KINDS_EN)]

        def vary(question: str, product: str, filler: tuple[str, ...], zh: bool) -> str:
            words = [rng.choice(filler), question, product, str(rng.randint(1, 999))]
            if rng.random() < 0.5:
                words[1], words[2] = words[2], words[1]
            return ("" if zh else " ").join(word for word in words if word)

        entries.append(
            Entry(
                id=f"synthetic_{number:03d}",
                questions={
                    "zh": tuple(
                        vary(q, f"{product_zh}{kind_zh}", FILLER_ZH, True)
                        for q in source.questions["zh"]
                    ),
                    "en": tuple(
                        vary(q, f"{product_en} {kind_en}", FILLER_EN, False)
                        for q in source.questions["en"]
                    ),
                },
                answer=dict(source.answer),
                actions=source.actions,
            )
        )
        number += 1
    return KnowledgeBase(tuple(entries), real.out_of_scope)


def latency(matcher: FaqMatcher, questions: list[Question]) -> dict[str, float]:
    for question in questions:  # untimed: first calls warm caches
        matcher.match(question.text, question.language)
    samples: list[float] = []
    for _ in range(ROUNDS):
        for question in questions:
            started = time.perf_counter()
            matcher.match(question.text, question.language)
            samples.append((time.perf_counter() - started) * 1000)
    return {
        "questions_timed": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "max_ms": round(max(samples), 3),
    }


def main() -> int:
    kb = load_knowledge_base(DEFAULT_DIRECTORY)
    questions = read_questions(QUESTIONS)
    matcher = FaqMatcher.from_knowledge_base(kb)
    scored = score_questions(matcher, questions)
    shipped = report(scored, matcher.thresholds, kb.ids)
    print(format_report(shipped, f"FAQ evaluation: {len(questions)} questions, default thresholds"))

    held_out = []
    for label, tune_on, measure_on in (
        ("tuned on even rows, measured on odd rows", scored[0::2], scored[1::2]),
        ("tuned on odd rows, measured on even rows", scored[1::2], scored[0::2]),
    ):
        chosen = tune(tune_on)
        result = report(measure_on, chosen, kb.ids)
        held_out.append({"run": label, "tuned": asdict(chosen), **result.as_dict()})
        figures = result.overall
        print(
            f"held out ({label}): thresholds {chosen.answer:g}/{chosen.margin:g}/"
            f"{chosen.suggest:g}; answered correct {figures.answered_correct}%, wrong "
            f"{figures.answered_wrong}%, out of scope answered {figures.out_of_scope_answered}%"
        )

    big = synthetic_base(kb)
    started = time.perf_counter()
    big_matcher = FaqMatcher.from_knowledge_base(big, Thresholds())
    build_seconds = time.perf_counter() - started
    paraphrases = sum(len(q) for entry in big.entries for q in entry.questions.values())
    timing = latency(big_matcher, questions)
    print(
        f"latency with {len(big)} entries ({paraphrases} paraphrases, index built in "
        f"{build_seconds:.1f} s): p50 {timing['p50_ms']:.3f} ms, p99 {timing['p99_ms']:.3f} ms, "
        f"max {timing['max_ms']:.3f} ms per question over {timing['questions_timed']} questions"
    )

    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "rapidfuzz": version("rapidfuzz"),
                "machine": f"{platform.machine()}, {platform.system()}",
                "shipped": shipped.as_dict(),
                "held_out": held_out,
                "scale": {
                    "entries": len(big),
                    "paraphrases": paraphrases,
                    "build_seconds": round(build_seconds, 2),
                    **timing,
                },
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {ARTIFACT.relative_to(ARTIFACT.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
