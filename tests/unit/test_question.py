"""Questions the bot answered, feedback on its answers, and support figures, on fakes."""

from __future__ import annotations

import pytest

from store.services.question import (
    choose_suggestion,
    escalate_question,
    faq_feedback,
    question_text,
    record_feedback,
    record_question,
    support_stats,
)
from store.services.queue import ask_for_human
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()
BUYER, OTHER = 1001, 1002


async def ask(
    db: FakeDatabase,
    clock: FakeClock,
    text: str = "",
    action: str = "answer",
    entry: str | None = "refund",
) -> int:
    return await record_question(
        FakeUnitOfWork(db),
        user_id=BUYER,
        language="en",
        action=action,
        entry_id=entry,
        score=87.6,
        now=clock.now(),
        text=text,
        cipher=CIPHER if text else None,
    )


async def test_a_question_is_kept_sealed_with_how_the_matcher_took_it(clock: FakeClock) -> None:
    db = FakeDatabase()
    question_id = await ask(db, clock, "how do I get my money back?")
    row = db.tables.questions[question_id]
    assert (row.action, row.entry_id, row.score) == ("answer", "refund", 88)
    assert row.text == CIPHER.seal("how do I get my money back?")


async def test_a_question_s_words_are_never_stored_without_the_cipher(clock: FakeClock) -> None:
    db = FakeDatabase()
    with pytest.raises(ValueError):
        await record_question(
            FakeUnitOfWork(db),
            user_id=BUYER,
            language="en",
            action="answer",
            entry_id=None,
            score=0,
            now=clock.now(),
            text="words",
        )
    assert db.tables.questions == {}


async def test_only_the_buyer_who_asked_reads_the_question_back(clock: FakeClock) -> None:
    db = FakeDatabase()
    question_id = await ask(db, clock, "where is my key?")
    uow = FakeUnitOfWork(db)
    assert await question_text(uow, user_id=BUYER, question_id=question_id, cipher=CIPHER) == (
        "where is my key?"
    )
    assert uow.opened == ["read"]
    assert (
        await question_text(
            FakeUnitOfWork(db), user_id=OTHER, question_id=question_id, cipher=CIPHER
        )
        == ""
    )


async def test_a_suggestion_chosen_settles_the_same_question(clock: FakeClock) -> None:
    db = FakeDatabase()
    question_id = await ask(db, clock, action="suggest", entry=None)
    await choose_suggestion(
        FakeUnitOfWork(db), user_id=BUYER, question_id=question_id, entry_id="delivery"
    )
    row = db.tables.questions[question_id]
    assert (row.action, row.entry_id, len(db.tables.questions)) == ("answer", "delivery", 1)


async def test_feedback_counts_by_entry_and_only_the_askers(clock: FakeClock) -> None:
    db = FakeDatabase()
    ids = [await ask(db, clock) for _ in range(3)]
    assert await record_feedback(
        FakeUnitOfWork(db), user_id=BUYER, question_id=ids[0], helpful=True
    )
    assert await record_feedback(
        FakeUnitOfWork(db), user_id=BUYER, question_id=ids[1], helpful=False
    )
    assert not await record_feedback(
        FakeUnitOfWork(db), user_id=OTHER, question_id=ids[2], helpful=True
    )
    assert await faq_feedback(FakeUnitOfWork(db)) == [("refund", 1, 1)]


async def test_support_figures_count_questions_escalations_responses_and_ratings(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    since = clock.now()
    for _ in range(3):
        await ask(db, clock)
    await ask_for_human(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="Li",
        text="help",
        now=clock.now(),
        cipher=CIPHER,
    )
    stats = await support_stats(FakeUnitOfWork(db), since=since)
    assert (stats.questions_today, stats.tickets_today, stats.contained_today) == (3, 1, 2)
    assert stats.first_response_median_seconds is None and stats.ratings == 0
    assert stats.containment_percent == pytest.approx(200 / 3)


async def test_a_question_asking_for_a_person_is_recorded_as_escalated_with_its_ticket(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    handoff = await escalate_question(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="Li",
        language="en",
        score=12.0,
        text="a person please",
        now=clock.now(),
        cipher=CIPHER,
    )
    [question] = db.tables.questions.values()
    assert (question.action, CIPHER.open(question.text)) == ("escalate", "a person please")
    assert handoff.new and CIPHER.open(db.tables.tickets[handoff.ticket.id].subject) == (
        "a person please"
    )
