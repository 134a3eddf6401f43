"""The FAQ matcher: a buyer's question in, one of answer / suggest / fallback / escalate out.

A request for a person is a rule, checked first, and always escalates; a message of nothing but
greetings and fillers ("在吗", "hi", "ok thanks") falls back. Otherwise, on normalised text and
character n-grams (1-2 for Chinese, 2-4 for English), weighted by TF-IDF:
1. recall: entries sharing the most of the question's rarer grams (an inverted index over
   entries, each entry being all its paraphrases pooled), then the exact cosine to each pooled
   entry; pooling measured better than any single paraphrase at ranking (see `Scoring`);
2. re-rank the best few entries by their best paraphrase under explicit rapidfuzz scorers
   (`token_set_ratio` and `ratio` on normalised text; never `WRatio`, see LESSONS.md 12).
An entry's score blends both, scaled per language so that a typical unseen paraphrase scores
`TYPICAL`; thresholds on score and on the lead over the runner-up then decide.

Out-of-scope examples (`Entry.out_of_scope`: weather, jokes, other shops' orders and coupons) are
indexed and scored like entries, but never answered or suggested: when one scores best the
question falls back, and when one is close behind it narrows the lead like any runner-up.
"""

from __future__ import annotations

import heapq
import math
import operator
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Literal

from rapidfuzz import fuzz, process

from faq.knowledge import KnowledgeBase
from faq.normalise import LANGUAGES, Language, canonical, detect_language, fold, normalise

Action = Literal["answer", "suggest", "fallback", "escalate"]

HUMAN_AGENT = "human_agent"
"""The entry for "how do I reach a person": matching it confidently means escalating."""
TYPICAL = 50.0
"""The score a typical paraphrase gets for its own entry when it is left out of the base."""
CALIBRATION_SAMPLE = 300
"""Paraphrases per language left out to calibrate (every n-th; enough for a stable median)."""


@dataclass(frozen=True)
class Thresholds:
    """When a score is good enough to answer, or to suggest; the defaults are tuned by `python -m
    faq eval faq/eval/questions.tsv --tune` (README, "The FAQ matcher", for the evidence)."""

    answer: float = 32.0
    """The best entry's score needed to answer..."""
    margin: float = 2.0
    """...with at least this lead over the runner-up entry (or out-of-scope example)."""
    suggest: float = 21.0
    """Below this, the question was not understood (fallback)."""


@dataclass(frozen=True)
class Match:
    action: Action
    entry_id: str | None
    """The best entry (also kept for suggest and fallback); None when escalating, and when an
    out-of-scope example beat every entry. Never the id of an out-of-scope example."""
    score: float
    """0-100: the best entry's score (100 for an escalation by rule)."""
    suggestions: tuple[str, ...]
    """The top three distinct entries when suggesting; empty otherwise."""
    language: Language


@dataclass(frozen=True)
class Ranking:
    """Scores before any threshold: what `decide` turns into a `Match`."""

    language: Language
    escalate: bool
    """The question asks for a person (the rule fired; `entries` is then empty)."""
    entries: tuple[tuple[str, float], ...]
    """(entry id, score 0-100) of entries that can be answered, best first; a handful at most."""
    out_of_scope: float = 0.0
    """0-100: the best score of an out-of-scope example (`Entry.out_of_scope`), 0 without any."""


@dataclass(frozen=True)
class Scoring:
    """How scores are computed; each choice was measured leaving paraphrases out of the base
    (README, "The FAQ matcher", for the figures)."""

    grams: dict[Language, tuple[int, int]] = field(
        default_factory=lambda: {"zh": (1, 2), "en": (2, 4)}
    )
    recall_budget: int = 2000
    """Postings visited in recall, rarest grams first; common grams add little and cost most."""
    recalled: int = 15
    """Entries recalled by shared grams, then scored by exact cosine."""
    reranked: int = 6
    """Entries, best by cosine, whose paraphrases are scored one by one."""
    query_grams: int = 80
    """Grams of a question kept, heaviest first: a long question's common grams weigh little
    against any document, and dropping them keeps every dot product short."""
    entry_weight: float = 0.9
    """Share of an entry's score from its pooled paraphrases; the rest from its best one."""
    token_set_weight: float = 0.5
    ratio_weight: float = 0.5


# Checked on folded text (width, case, script, punctuation) before synonyms are applied.
# "人工发货" (delivered by hand) and "人工智能" are about something else.
_PERSON_ZH = re.compile(r"人工(?!智能|发货|发卡|充值)|客服|真人|活人|工作人员|找个人|叫个人")
_PERSON_EN = re.compile(
    r"\b(?:humans?|(?:live |support |customer service |real )?agents?|operators?"
    r"|real (?:person|people|human)|live (?:person|chat|support)"
    r"|(?:talk|talking|speak|speaking|chat) (?:to|with) (?:someone|somebody|anyone|a person"
    r"|a human|staff|support|a real)"
    r"|(?:someone|somebody|anyone)(?: \w+){0,3} (?:talk|speak|chat) (?:to|with)"
    r"|(?:someone|somebody|anyone) (?:from|on|in) your (?:team|staff|side)"
    r"|customer (?:service|support|care)|representative|staff member)\b"
)


# Greetings, thanks and fillers that carry no question. A message made only of these falls back
# (the bot's menu and the offer of a person), whatever paraphrase it happens to resemble: "ok"
# is not "alipay ok?". Matched on the whole folded message, so "你好 怎么退款" is still asked.
_GREETING_ZH = (
    "你好|您好|你们好|大家好|哈喽|哈罗|哈啰|嗨|在吗|在么|在嘛|在不在|在不|在没|有人吗|有人在吗"
    "|亲亲|亲|早安|早上好|上午好|中午好|下午好|晚上好|晚安|早|谢谢|多谢|谢了|感谢|好的|好滴"
    "|好吧|嗯嗯|嗯|哦哦|哦|噢|哈哈|呵呵|嘿嘿|嘻嘻|老板|喂|请问|拜拜|再见|收到|知道了|明白了"
)
_GREETING_EN = (
    "hi+|hello+|helo|hallo|hey+|heya|hiya|yo+|sup|howdy|greetings|good (?:morning|afternoon"
    "|evening|night|day)|morning|evening|there|anyone|anybody|thanks|thank you|thx|ty|cheers"
    "|pls|please|ok|okay|okk|k+|lol|lmao|haha+|hehe|hmm+|um+|uh+|btw|bro|sir|dear|bye"
    "|goodbye|see (?:you|ya)|yes|yeah|yep|no|nope"
)
_BARE_GREETING = re.compile(
    f"(?:(?:{_GREETING_ZH})|(?<![a-z])(?:{_GREETING_EN})(?![a-z]))"
    f"(?: ?(?:(?:{_GREETING_ZH})|(?<![a-z])(?:{_GREETING_EN})(?![a-z])))*"
)


def is_bare_greeting(text: str) -> bool:
    """Only greetings, thanks or fillers ("在吗", "hi there", "ok thanks"): nothing to answer."""
    return _only_greeting(fold(text))


def _only_greeting(folded: str) -> bool:
    return bool(_BARE_GREETING.fullmatch(folded))


def wants_human(text: str) -> bool:
    """A request for a person, in either language, wherever it sits in the message."""
    return _asks_for_person(fold(text))


def _asks_for_person(folded: str) -> bool:
    return bool(_PERSON_ZH.search(folded) or _PERSON_EN.search(folded))


def _grams(text: str, low: int, high: int) -> Counter[str]:
    padded = f" {text} " if low > 1 else text
    grams: Counter[str] = Counter()
    for size in range(low, high + 1):
        for start in range(len(padded) - size + 1):
            gram = padded[start : start + size]
            if not gram.isspace():
                grams[gram] += 1
    return grams


def _weigh(grams: Counter[str], idf: dict[str, float], unseen: float) -> dict[str, float]:
    """Sublinear TF times IDF, L2-normalised."""
    log = math.log
    weights = {
        gram: (1 + log(n) if n > 1 else 1.0) * idf.get(gram, unseen) for gram, n in grams.items()
    }
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {gram: w / norm for gram, w in weights.items()}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    # Key intersection, lookups and products all run in C; this runs ~50 times a question.
    common = a.keys() & b.keys()
    return float(sum(map(operator.mul, map(a.__getitem__, common), map(b.__getitem__, common))))


@dataclass
class _Index:
    """TF-IDF vectors of documents, with the documents that have each gram."""

    vectors: list[dict[str, float]]
    idf: dict[str, float]
    unseen_idf: float
    postings: dict[str, tuple[int, ...]]

    @classmethod
    def build(cls, documents: Sequence[Counter[str]]) -> _Index:
        df: Counter[str] = Counter()
        for grams in documents:
            df.update(grams.keys())
        total = len(documents)
        idf = {gram: math.log((total + 1) / (n + 1)) + 1 for gram, n in df.items()}
        vectors = [_weigh(grams, idf, 0.0) for grams in documents]
        postings: dict[str, list[int]] = {}
        for doc, vector in enumerate(vectors):
            for gram in vector:
                postings.setdefault(gram, []).append(doc)
        frozen = {gram: tuple(docs) for gram, docs in postings.items()}
        return cls(vectors, idf, math.log(total + 1) + 1, frozen)

    def query(self, grams: Counter[str], keep: int) -> dict[str, float]:
        """The question's vector, cut to the `keep` heaviest grams and normalised over those.

        Normalising after the cut keeps a long question's cosines on the same scale as a short
        one's (rather than bounded by the share of its weight that was kept).
        """
        weights = _weigh(grams, self.idf, self.unseen_idf)
        if len(weights) <= keep:
            return weights
        kept = heapq.nlargest(keep, weights.items(), key=operator.itemgetter(1))
        norm = math.sqrt(sum(w * w for _, w in kept)) or 1.0
        return {gram: w / norm for gram, w in kept}

    def recall(self, query: dict[str, float], budget: int, limit: int) -> list[int]:
        """The documents sharing the most of the query's rarer grams (a cheap stand-in for cosine).

        Posting lists are visited rarest first until `budget` postings; `Counter` counts the
        document ids in C.
        """
        known = sorted((self.postings[gram] for gram in query if gram in self.postings), key=len)
        chosen: list[tuple[int, ...]] = []
        visited = 0
        for posting in known:
            if visited and visited + len(posting) > budget:
                break
            visited += len(posting)
            chosen.append(posting)
        # The rarer half counts twice: a crude IDF that costs only its (short) postings again.
        counts: Counter[int] = Counter(chain.from_iterable(chosen[: len(chosen) // 2]))
        counts.update(chain.from_iterable(chosen))
        return [doc for doc, _ in counts.most_common(limit)]

    def cosine(self, query: dict[str, float], doc: int) -> float:
        return _dot(query, self.vectors[doc])


@dataclass
class _Language:
    """One language's paraphrases: pooled per entry, and one by one."""

    low: int
    high: int
    texts: list[str]
    by_entry: list[list[int]]
    """The paraphrases (positions in `texts`) of each entry."""
    choices: list[list[str]]
    """The paraphrases (normalised texts) of each entry."""
    exact: dict[str, int]
    """Normalised paraphrase -> its entry, so a question typed exactly is always recalled."""
    entries: _Index
    scale: float = 1.0
    """Multiplies raw scores so that a typical unseen paraphrase of an entry scores `TYPICAL`."""

    @classmethod
    def build(
        cls,
        paraphrases: Sequence[tuple[int, str]],
        entries: int,
        scoring: Scoring,
        language: Language,
        out_of_scope: frozenset[int] = frozenset(),
    ) -> _Language:
        low, high = scoring.grams[language]
        counts = [_grams(text, low, high) for _, text in paraphrases]
        pooled: list[Counter[str]] = [Counter() for _ in range(entries)]
        by_entry: list[list[int]] = [[] for _ in range(entries)]
        for doc, ((owner, _), grams) in enumerate(zip(paraphrases, counts, strict=True)):
            pooled[owner].update(grams)
            by_entry[owner].append(doc)
        found = cls(
            low=low,
            high=high,
            texts=[text for _, text in paraphrases],
            by_entry=by_entry,
            choices=[[paraphrases[doc][1] for doc in docs] for docs in by_entry],
            exact={text: owner for owner, text in paraphrases},
            entries=_Index.build(pooled),
        )
        found.scale = found._calibrate(
            scoring, [owner for owner, _ in paraphrases], counts, pooled, out_of_scope
        )
        return found

    def _calibrate(
        self,
        scoring: Scoring,
        owners: Sequence[int],
        counts: Sequence[Counter[str]],
        pooled: Sequence[Counter[str]],
        out_of_scope: frozenset[int],
    ) -> float:
        """`TYPICAL` over the median raw score of a paraphrase for its own entry, left out of it:
        one set of thresholds then serves both languages and a base that grows (README)."""
        # Out-of-scope examples are deliberately varied (weather, jokes, other shops): left out,
        # they score low against each other and would only say how unlike each other they are.
        answerable = [doc for doc in range(len(counts)) if owners[doc] not in out_of_scope]
        step = max(1, len(answerable) // CALIBRATION_SAMPLE)
        scores: list[float] = []
        for doc in answerable[::step]:
            owner = owners[doc]
            query = self.entries.query(counts[doc], scoring.query_grams)
            rest = _weigh(pooled[owner] - counts[doc], self.entries.idf, 0.0)
            others = [self.texts[other] for other in self.by_entry[owner] if other != doc]
            best = self._best_paraphrase(scoring, self.texts[doc], others)
            scores.append(_blend(scoring, _dot(query, rest), best))
        typical = statistics.median(scores) if scores else 0.0
        return TYPICAL / typical if typical > 0 else 1.0

    @staticmethod
    def _best_paraphrase(scoring: Scoring, text: str, choices: Sequence[str]) -> float:
        """0-100: rapidfuzz's best `token_set_ratio` and best `ratio` over `choices`, blended.

        `extractOne` loops over the paraphrases in C++, which is what keeps this cheap.
        """
        if not choices:
            return 0.0
        best_set = process.extractOne(text, choices, scorer=fuzz.token_set_ratio, processor=None)
        best_ratio = process.extractOne(text, choices, scorer=fuzz.ratio, processor=None)
        return (
            scoring.token_set_weight * (best_set[1] if best_set else 0.0)
            + scoring.ratio_weight * (best_ratio[1] if best_ratio else 0.0)
        ) / (scoring.token_set_weight + scoring.ratio_weight)

    def rank(self, scoring: Scoring, text: str) -> list[tuple[int, float]]:
        """(entry, score) for the best entries, best first; `text` is normalised."""
        grams = _grams(text, self.low, self.high)
        query = self.entries.query(grams, scoring.query_grams)
        recalled = self.entries.recall(query, scoring.recall_budget, scoring.recalled)
        cosines = {entry: self.entries.cosine(query, entry) for entry in recalled}
        best = heapq.nlargest(scoring.reranked, cosines, key=cosines.__getitem__)
        typed = self.exact.get(text)
        if typed is not None and typed not in best:
            cosines[typed] = self.entries.cosine(query, typed)
            best.append(typed)
        scores = [
            (
                entry,
                self.scale
                * _blend(
                    scoring,
                    cosines[entry],
                    self._best_paraphrase(scoring, text, self.choices[entry]),
                ),
            )
            for entry in best
        ]
        return sorted(scores, key=operator.itemgetter(1), reverse=True)


def _blend(scoring: Scoring, pooled_cosine: float, best_paraphrase: float) -> float:
    weight = scoring.entry_weight
    return weight * 100 * pooled_cosine + (1 - weight) * best_paraphrase


def decide(ranking: Ranking, thresholds: Thresholds) -> Match:
    """Answer with a clear lead, suggest the top three, or fall back; a person escalates."""
    language = ranking.language
    if ranking.escalate:
        return Match("escalate", None, 100.0, (), language)
    if not ranking.entries:
        return Match("fallback", None, 0.0, (), language)
    best_id, best = ranking.entries[0]
    if ranking.out_of_scope >= best:  # closest to something the FAQ does not cover
        return Match("fallback", None, round(ranking.out_of_scope, 2), (), language)
    # An out-of-scope example close behind is a rival like any other entry.
    second = ranking.entries[1][1] if len(ranking.entries) > 1 else 0.0
    runner_up = max(second, ranking.out_of_scope)
    score = round(best, 2)
    if best >= thresholds.answer and best - runner_up >= thresholds.margin:
        if best_id == HUMAN_AGENT:
            return Match("escalate", None, score, (), language)
        return Match("answer", best_id, score, (), language)
    if best >= thresholds.suggest:
        top = tuple(entry_id for entry_id, _ in ranking.entries[:3])
        return Match("suggest", best_id, score, top, language)
    return Match("fallback", best_id, score, (), language)


class FaqMatcher:
    """Built once from a knowledge base; `match` is then pure and safe to call from anywhere."""

    def __init__(
        self,
        entry_ids: Sequence[str],
        languages: dict[Language, _Language],
        thresholds: Thresholds,
        scoring: Scoring,
        out_of_scope: frozenset[int] = frozenset(),
    ) -> None:
        self._entry_ids = tuple(entry_ids)
        self._languages = languages
        self._out_of_scope = out_of_scope
        """Positions in `entry_ids` of out-of-scope examples."""
        self.thresholds = thresholds
        self.scoring = scoring

    @classmethod
    def from_knowledge_base(
        cls,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        scoring: Scoring | None = None,
    ) -> FaqMatcher:
        scoring = scoring or Scoring()
        entries = (*kb.entries, *kb.out_of_scope)
        out_of_scope = frozenset(range(len(kb.entries), len(entries)))
        languages = {
            language: _Language.build(
                _unique(
                    (position, normalise(question, language))
                    for position, entry in enumerate(entries)
                    for question in entry.questions[language]
                ),
                len(entries),
                scoring,
                language,
                out_of_scope,
            )
            for language in LANGUAGES
        }
        return cls(
            [entry.id for entry in entries],
            languages,
            thresholds or Thresholds(),
            scoring,
            out_of_scope,
        )

    def with_thresholds(self, thresholds: Thresholds) -> FaqMatcher:
        """The same index with other thresholds (for evaluation and tuning)."""
        return FaqMatcher(
            self._entry_ids, self._languages, thresholds, self.scoring, self._out_of_scope
        )

    def match(self, text: str, language: Language | None = None) -> Match:
        """What to do with a buyer's question; `language` is detected when not given."""
        return decide(self.rank(text, language), self.thresholds)

    def rank(self, text: str, language: Language | None = None) -> Ranking:
        """Entries scored for `text`, best first, before any threshold."""
        folded = fold(text)
        chosen: Language = language or detect_language(folded)
        if _asks_for_person(folded):
            return Ranking(chosen, True, ())
        if _only_greeting(folded):
            return Ranking(chosen, False, ())
        normalised = canonical(folded, chosen)
        if not normalised:
            return Ranking(chosen, False, ())
        ranked = self._languages[chosen].rank(self.scoring, normalised)
        answerable = [(entry, score) for entry, score in ranked if entry not in self._out_of_scope]
        rejected = [score for entry, score in ranked if entry in self._out_of_scope]
        return Ranking(
            chosen,
            False,
            tuple((self._entry_ids[entry], min(100.0, score)) for entry, score in answerable[:5]),
            min(100.0, max(rejected, default=0.0)),
        )


def _unique(paraphrases: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop empty and repeated (entry, text) pairs, which would only weigh twice."""
    seen: set[tuple[int, str]] = set()
    kept: list[tuple[int, str]] = []
    for pair in paraphrases:
        if pair[1] and pair not in seen:
            seen.add(pair)
            kept.append(pair)
    return kept
