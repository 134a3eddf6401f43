"""Questions the bot answered itself, feedback on its answers, and support figures."""

from __future__ import annotations

import statistics
from datetime import datetime

from store.domain.model import SupportStats
from store.services.ports import KeyCipher, UnitOfWork
from store.services.queue import Handoff, hand_to_human
from store.services.sealing import open_text, seal_text

QUESTION_KEPT = 1000
"""Characters of a question kept (sealed) to start a ticket with, if the buyer asks for one."""


async def record_question(
    uow: UnitOfWork,
    *,
    user_id: int,
    language: str,
    action: str,
    entry_id: str | None,
    score: float,
    now: datetime,
    text: str = "",
    cipher: KeyCipher | None = None,
) -> int:
    """A question and how the matcher took it; its words are kept sealed, to start a ticket."""
    if text and cipher is None:
        raise ValueError("a question's words are stored sealed: pass the cipher")
    sealed = seal_text(cipher, text[:QUESTION_KEPT]) if cipher is not None else ""
    async with uow:
        question_id = await uow.questions.add(
            user_id, language, action, entry_id, round(score), now, sealed
        )
        await uow.commit()
    return question_id


async def escalate_question(
    uow: UnitOfWork,
    *,
    user_id: int,
    first_name: str,
    language: str,
    score: float,
    text: str,
    now: datetime,
    cipher: KeyCipher,
) -> Handoff:
    """A question that asks for a person: recorded as escalated, and a person fetched for it."""
    sealed = seal_text(cipher, text[:QUESTION_KEPT])
    async with uow:
        await uow.questions.add(user_id, language, "escalate", None, round(score), now, sealed)
        handoff = await hand_to_human(
            uow, user_id=user_id, first_name=first_name, text=text, now=now, cipher=cipher
        )
        await uow.commit()
    return handoff


async def choose_suggestion(
    uow: UnitOfWork, *, user_id: int, question_id: int, entry_id: str
) -> None:
    async with uow:
        await uow.questions.choose(question_id, user_id, entry_id)
        await uow.commit()


async def question_text(
    uow: UnitOfWork, *, user_id: int, question_id: int, cipher: KeyCipher
) -> str:
    """What the buyer asked (their own question only), to start a ticket with it."""
    async with uow.reading():
        stored = await uow.questions.get_text(question_id, user_id) or ""
    return open_text(cipher, stored)


async def record_feedback(
    uow: UnitOfWork, *, user_id: int, question_id: int, helpful: bool
) -> bool:
    """👍 Solved / Talk to a human on an answer: stored to show which entries need work."""
    async with uow:
        stored = await uow.questions.set_helpful(question_id, user_id, helpful)
        await uow.commit()
    return stored


async def faq_feedback(uow: UnitOfWork) -> list[tuple[str, int, int]]:
    async with uow.reading():
        return await uow.questions.feedback_by_entry()


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def support_stats(uow: UnitOfWork, *, since: datetime) -> SupportStats:
    """Figures since `since` (the start of today, UTC, for /stats).

    Containment is the share of questions the bot settled: questions asked, less tickets opened
    for a question (each ticket is a question a human had to take).
    """
    async with uow.reading():
        tickets = await uow.tickets.opened_since(since)
        counts = await uow.questions.counts_since(since)
        breaches = await uow.tickets.breaches_since(since)
        ratings = await uow.tickets.ratings_since(since)
    questions = sum(counts.values())
    escalated = sum(1 for t in tickets if t.kind == "question")
    waits = [
        (t.first_response_at - t.created_at).total_seconds() for t in tickets if t.first_response_at
    ]
    return SupportStats(
        tickets_today=len(tickets),
        questions_today=questions,
        contained_today=max(0, questions - escalated),
        first_response_median_seconds=statistics.median(waits) if waits else None,
        first_response_p90_seconds=_percentile(waits, 0.9),
        breaches_today=breaches,
        ratings=len(ratings),
        csat_percent=100.0 * sum(r >= 4 for r in ratings) / len(ratings) if ratings else None,
        average_rating=statistics.fmean(ratings) if ratings else None,
    )
