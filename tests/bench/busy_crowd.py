"""Who comes to the shop on the busy day, when, with which questions, and how people behave.

Every draw comes from one seeded `random.Random`, so a run is the same day each time.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

QUESTIONS_FILE = Path(__file__).resolve().parents[2] / "faq" / "eval" / "questions.tsv"

OPENS_AT, CLOSES_AT = 9, 23
"""Support hours, local time (UTC+8, the shop's SUPPORT_HOURS)."""
ARRIVALS_BY_HOUR = {
    9: 3,
    10: 5,
    11: 6,
    12: 7,
    13: 6,
    14: 5,
    15: 5,
    16: 5,
    17: 5,
    18: 6,
    19: 8,
    20: 11,
    21: 13,
    22: 10,
}
"""Relative arrival rate per local hour: a small lunch bump and the evening peak at 21:00."""

SECOND_QUESTION = 0.4
"""Share of buyers with a second question (asked after the first is settled)."""
OUT_OF_SCOPE_TO_HUMAN = 0.3
"""Share of out-of-scope askers (weather, other shops) who then press "Talk to a human";
`--out-of-scope-to-human 1` gives the worst case."""
HUMAN_ANYWAY = 0.10
"""Share of correctly answered questions whose buyer still presses "Talk to a human"."""
SOLVED_PRESSED = 0.30
"""Share of the other correct answers whose buyer presses 👍 Solved."""
NUDGE_WHILE_QUEUED = 0.30
"""Share of queued buyers who write "anyone there?" while they wait."""
RATES_THE_HELP = 0.70
"""Share of buyers who press a star after their conversation is closed."""
FOLLOW_UPS = (0, 1, 1, 2)
"""Extra buyer/agent exchanges after the agent's first reply (drawn uniformly)."""

Range = tuple[float, float]
READ_ANSWER: Range = (10, 60)
"""Seconds a buyer takes to read a reply before pressing a button (5th-95th percentile)."""
NEXT_QUESTION: Range = (30, 180)
RETYPE_QUESTION: Range = (10, 40)
"""After "Talk to a human": the buyer writes the question again for the person."""
NUDGE_AFTER: Range = (120, 420)
FIRST_REPLY: Range = (30, 180)
"""Agent: ticket on screen -> first reply."""
BUYER_REPLIES: Range = (20, 120)
AGENT_REPLIES: Range = (30, 150)
HANDLING: Range = (180, 720)
"""Agent: assignment -> /close (3-12 minutes)."""
RATE_AFTER: Range = (10, 90)

RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (2, 3, 8, 27, 60)
"""Stars after a prompt answer; every started 10 minutes of waiting past 5 costs a star at 60%."""

AGENT_REPLY_TEXTS = {
    "zh": (
        "您好，我来帮您看一下。",
        "好的，已经帮您处理了，请再试一下。",
        "明白了，稍等我查一下订单。",
    ),
    "en": (
        "Hi, let me look into that for you.",
        "Done on my side: please try again now.",
        "I see. One moment while I check your order.",
    ),
}
BUYER_FOLLOW_UP_TEXTS = {
    "zh": ("好的 谢谢", "还是不行啊", "订单号在上面 麻烦看下", "那要等多久？"),
    "en": ("ok thanks", "still doesn't work", "my order number is above", "how long will it take?"),
}
NUDGE_TEXTS = {"zh": ("有人吗？", "还要等多久"), "en": ("hello? anyone there", "still waiting…")}


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    expected: str
    """An entry id, `none` (out of scope) or `human` (asks for a person)."""

    @property
    def wants_human(self) -> bool:
        return self.expected in ("none", "human")


@dataclass(frozen=True)
class Buyer:
    user_id: int
    language: str
    arrives_at: float
    """Seconds after opening time."""
    questions: tuple[Question, ...]

    @property
    def language_code(self) -> str:
        """What the buyer's Telegram app reports."""
        return "zh-hans" if self.language == "zh" else "en"


def load_questions(path: Path = QUESTIONS_FILE) -> dict[str, list[Question]]:
    """The evaluation set, by language."""
    by_language: dict[str, list[Question]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            question = Question(row["question"], row["language"], row["expected"])
            by_language.setdefault(question.language, []).append(question)
    return by_language


def arrival_seconds(rng: random.Random, buyers: int) -> list[float]:
    """`buyers` arrival times: given their number, a Poisson day's arrivals are independent draws
    from the rate curve (piecewise constant per hour), sorted."""
    hours = sorted(ARRIVALS_BY_HOUR)
    cumulative = list(itertools.accumulate(ARRIVALS_BY_HOUR[h] for h in hours))
    times = []
    for _ in range(buyers):
        slot = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        times.append((hours[slot] - OPENS_AT + rng.random()) * 3600)
    return sorted(times)


def crowd(
    rng: random.Random, questions: dict[str, list[Question]], buyers: int, first_user: int
) -> list[Buyer]:
    """The day's buyers in arrival order; each speaks one language, as often as the set does."""
    languages = sorted(questions)
    weights = [len(questions[language]) for language in languages]
    people = []
    for n, arrives_at in enumerate(arrival_seconds(rng, buyers)):
        language = rng.choices(languages, weights)[0]
        asked = 2 if rng.random() < SECOND_QUESTION else 1
        people.append(
            Buyer(
                first_user + n,
                language,
                arrives_at,
                tuple(rng.sample(questions[language], asked)),
            )
        )
    return people


def lognormal(rng: random.Random, spread: Range) -> float:
    """Seconds, lognormal with 90% of draws inside `spread` (its 5th and 95th percentiles)."""
    low, high = spread
    sigma = math.log(high / low) / (2 * 1.6449)
    return rng.lognormvariate(math.log(math.sqrt(low * high)), sigma)


def rating(rng: random.Random, waited_seconds: float) -> int:
    """Stars from a buyer who waited `waited_seconds` for the first human reply."""
    stars = rng.choices(RATINGS, RATING_WEIGHTS)[0]
    late = max(0.0, waited_seconds - 300)
    for _ in range(math.ceil(late / 600)):
        if rng.random() < 0.6:
            stars -= 1
    return max(1, stars)


def pick(rng: random.Random, texts: Sequence[str]) -> str:
    return texts[rng.randrange(len(texts))]
