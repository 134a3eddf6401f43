"""`make bench`: a simulated busy day of customer support through the real conversation layer.

2,000 buyers arrive between 09:00 and 23:00 (UTC+8) and ask 1-2 questions from the FAQ
evaluation set; some end up with one of 3 agents, who reply, talk, close, and are rated. Everything
runs on a scripted clock against a migrated SQLite file, a ShopContext built by
`bot.app.build_context`, and a recording fake of Telegram (see busy_simulation.py).
Prints containment, the matcher's outcomes, tickets, the wait for a human, breaches and CSAT, and
writes artifacts/bench-busy-day.json.
Exit status: 0 all well, 1 an invariant broke, 2 someone saw an error or Telegram would have
refused a message (no invariant broke).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import PortRefunder, build_context, open_database
from bot.sender import OutgoingSender
from config.settings import Settings, load_settings
from handlers.action import SendText
from handlers.event import Person, TextMessage
from handlers.router import dispatch
from store.adapters.tables import response_breaches
from store.adapters.unit_of_work import SqlUnitOfWork
from store.domain.model import SupportStats, Ticket, TicketStatus
from store.services.question import support_stats
from tests.bench import busy_crowd as people
from tests.bench.busy_simulation import TARGET_CHECK_SECONDS, Agent, BusyDay, Tally
from tests.bench.busy_telegram import RecordingTelegram
from tests.bench.handler_errors import counted_handler_errors
from tests.bench.latency import percentile
from tests.bench.purchases import machine
from tests.conftest import FakeClock

SEED = 20261125
BUYERS = 2_000
FIRST_USER = 810_000_001
OPENS = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
"""09:00 in UTC+8, the shop's time zone."""
LOCAL = timedelta(hours=8)
DAY_SECONDS = (people.CLOSES_AT - people.OPENS_AT) * 3600
ADMIN = Person(900_100, 900_100, "Owner", "zh-hans")
AGENTS = (
    Agent(900_001, "Mei", "zh-hans"),
    Agent(900_002, "Jun", "zh-hans", breaks=((3 * 3600, 4 * 3600),)),
    Agent(900_003, "Alex", "en"),
)
"""Jun takes lunch 12:00-13:00 (`/duty off`, then `/duty on`)."""
SECRET = "kamibot benchmark passphrase that is not a real secret"
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "bench-busy-day.json"
EXIT_STATUS = {"ok": 0, "invariant-broken": 1, "errors-seen": 2}


class RecordingRefunder(PortRefunder):
    """Stars refunds, recorded instead of sent (a support day asks for none)."""

    def __init__(self) -> None:
        super().__init__(OutgoingSender())
        self.refunded: list[tuple[int, str]] = []

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self.refunded.append((user_id, charge_id))


def _settings(database: Path) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "CARD_KEY_SECRET": SECRET,
            "AGENT_IDS": ",".join(str(a.user_id) for a in AGENTS),
            "ADMIN_IDS": str(ADMIN.user_id),
            "MAX_OPEN_RESERVATIONS": "3",
            "AGENT_CAPACITY": "3",
            "FIRST_RESPONSE_MINUTES": "5",
            "NEXT_RESPONSE_MINUTES": "10",
            "SUPPORT_HOURS": "09:00-23:00 (UTC+8)",
        },
        env_file=None,
    )


@dataclass(frozen=True)
class Breach:
    ticket_id: int
    target: str
    due_at: datetime


@dataclass(frozen=True)
class TelegramFigures:
    """What the recording fake of Telegram saw over the day."""

    calls: dict[str, int]
    refused: dict[str, int]
    refused_examples: dict[str, str]
    edits: int
    edits_not_modified: int
    most_edits_of_one_message: int
    unanswered_presses: int
    largest_burst_to_one_chat: int
    largest_burst_chat: str
    messages_to: dict[str, int]
    """Messages to the admin and each agent."""
    same_text_twice_in_one_step: dict[str, int]

    @classmethod
    def of(cls, telegram: RecordingTelegram) -> TelegramFigures:
        return cls(
            calls=dict(telegram.calls),
            refused=dict(telegram.refused.reasons),
            refused_examples=telegram.refused.examples,
            edits=sum(telegram.edits.values()),
            edits_not_modified=telegram.not_modified,
            most_edits_of_one_message=max(telegram.edits.values(), default=0),
            unanswered_presses=telegram.unanswered_presses,
            largest_burst_to_one_chat=telegram.largest_burst[0],
            largest_burst_chat=_who(telegram.largest_burst[1], buyers_from=FIRST_USER),
            messages_to={
                _who(chat, buyers_from=FIRST_USER): n
                for chat, n in telegram.sent_to.most_common()
                if chat < FIRST_USER
            },
            same_text_twice_in_one_step=dict(telegram.repeated.reasons),
        )


@dataclass
class Day:
    """What the store holds at the end of the day, and what the simulation counted."""

    tally: Tally
    tickets: list[Ticket]
    breaches: list[Breach]
    stats: SupportStats
    stats_text: str
    agents_on_duty: int
    ended_at: float
    wall_seconds: float
    handler_errors: Counter[str]
    telegram: TelegramFigures
    arrivals: list[float]
    violations: Counter[str] = field(default_factory=Counter)
    violation_examples: dict[str, str] = field(default_factory=dict)

    def violation(self, name: str, example: str, count: int = 1) -> None:
        self.violations[name] += count
        self.violation_examples.setdefault(name, example)


async def simulate(
    database: Path,
    buyers_count: int = BUYERS,
    seed: int = SEED,
    out_of_scope_to_human: float = people.OUT_OF_SCOPE_TO_HUMAN,
) -> Day:
    settings = _settings(database)
    engine = await open_database(settings)
    clock = FakeClock(OPENS)
    rng = random.Random(seed)
    try:
        ctx = build_context(settings, engine, clock=clock, refunder=RecordingRefunder())
        buyers = people.crowd(rng, people.load_questions(), buyers_count, FIRST_USER)
        day = BusyDay(
            ctx,
            engine,
            clock,
            rng,
            buyers=buyers,
            agents=list(AGENTS),
            admin=ADMIN,
            day_seconds=DAY_SECONDS,
            out_of_scope_to_human=out_of_scope_to_human,
        )
        began = time.perf_counter()
        with counted_handler_errors() as errors:
            ended_at = await day.run()
            wall = time.perf_counter() - began
            since = OPENS.replace(hour=0, minute=0)
            stats = await support_stats(ctx.uow().reading(), since=since)
            shown = await dispatch(TextMessage(ADMIN, "/stats", 0), ctx)
        async with ctx.uow().reading() as uow:
            assert isinstance(uow, SqlUnitOfWork)  # the breaches are read from their table
            tickets = await uow.tickets.opened_since(OPENS - timedelta(hours=1))
            on_duty = await uow.agents.on_duty()
            rows = await uow.connection.execute(
                select(
                    response_breaches.c.ticket_id,
                    response_breaches.c.target,
                    response_breaches.c.due_at,
                )
            )
            breaches = [Breach(r.ticket_id, r.target, r.due_at) for r in rows]
    finally:
        await engine.dispose()
    stats_text = next((a.html for a in shown if isinstance(a, SendText)), "")
    return Day(
        tally=day.tally,
        tickets=sorted(tickets, key=lambda t: t.id),
        breaches=breaches,
        stats=stats,
        stats_text=stats_text,
        agents_on_duty=len(on_duty),
        ended_at=ended_at,
        wall_seconds=wall,
        handler_errors=errors.reasons,
        arrivals=[b.arrives_at for b in buyers],
        telegram=TelegramFigures.of(day.telegram),
    )


def _who(chat: int, *, buyers_from: int) -> str:
    if chat == ADMIN.user_id:
        return "admin"
    name = next((a.name for a in AGENTS if a.user_id == chat), None)
    if name is not None:
        return f"agent {name}"
    return "a buyer" if chat >= buyers_from else f"chat {chat}"


def _minutes(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"median": None, "p90": None, "max": None, "n": 0}
    return {
        "median": round(statistics.median(seconds) / 60, 2),
        "p90": round(percentile(seconds, 90) / 60, 2),
        "max": round(max(seconds) / 60, 2),
        "n": len(seconds),
    }


def _local(moment: datetime) -> str:
    return (moment + LOCAL).strftime("%H:%M:%S")


def _second(moment: datetime) -> float:
    return (moment - OPENS).total_seconds()


def check(day: Day, rules_first_minutes: int = 5) -> None:
    """The invariants of a fair queue with response targets; each break is recorded on `day`."""
    for name, count in day.tally.violations.items():
        day.violation(name, day.tally.violation_examples[name], count)
    end = OPENS + timedelta(seconds=day.ended_at)
    for ticket in day.tickets:
        if ticket.status is TicketStatus.CLOSED:
            continue
        example = f"ticket #{ticket.id} {ticket.status.value}, opened {_local(ticket.created_at)}"
        if ticket.status is TicketStatus.ASSIGNED:
            day.violation("a ticket was left open with an agent at day's end", example)
        elif day.agents_on_duty:
            day.violation("a ticket was left queued while agents were on duty", example)
    served = sorted(
        (t for t in day.tickets if t.assigned_at is not None), key=lambda t: (t.created_at, t.id)
    )
    for earlier, later in itertools.pairwise(served):
        assert earlier.assigned_at is not None and later.assigned_at is not None
        if later.assigned_at < earlier.assigned_at:
            day.violation(
                "a ticket was served before an older one (all were general questions)",
                f"#{later.id} (opened {_local(later.created_at)}) assigned"
                f" {_local(later.assigned_at)}, before #{earlier.id} (opened"
                f" {_local(earlier.created_at)}) at {_local(earlier.assigned_at)}",
            )
    once = Counter((b.ticket_id, b.target, b.due_at) for b in day.breaches)
    for (ticket_id, target, _), count in once.items():
        if count > 1:
            day.violation("a breach was recorded twice", f"ticket #{ticket_id} {target} x{count}")
    recorded = Counter((b.ticket_id, b.target) for b in day.breaches)
    firsts = [key for key, count in recorded.items() if key[1] == "first" and count > 1]
    if firsts:
        day.violation(
            "a first-response breach was recorded twice", f"ticket #{firsts[0][0]}", len(firsts)
        )
    alerts: Counter[tuple[int, str]] = Counter()
    for body, count in day.tally.breach_alerts.items():
        for missed in body.split(","):  # one alert per check lists every new breach
            kind, _, number = missed.partition(":")
            alerts[int(number), kind] += count
    if alerts != recorded:
        differing = sorted(set(alerts.items()) ^ set(recorded.items()))[:3]
        day.violation(
            "breach alerts differ from recorded breaches (each is alerted once)",
            f"(ticket, target), count: {differing}",
        )
    first_target = timedelta(minutes=rules_first_minutes)
    slack = timedelta(seconds=TARGET_CHECK_SECONDS)
    for ticket in day.tickets:
        answered = ticket.first_response_at or end
        late = answered - ticket.created_at
        has_breach = (ticket.id, "first") in recorded
        if late > first_target + slack and not has_breach:
            day.violation(
                "a missed first-response target was not recorded",
                f"ticket #{ticket.id} waited {late.total_seconds() / 60:.1f} min",
            )
        elif late <= first_target and has_breach:
            day.violation(
                "a first-response breach was recorded for a ticket answered in time",
                f"ticket #{ticket.id} waited {late.total_seconds() / 60:.1f} min",
            )
    escalated = sum(day.tally.routes.values())
    if len(day.tickets) != escalated:
        day.violation(
            "tickets differ from the buyers who asked for a person",
            f"{len(day.tickets)} tickets, {escalated} buyers",
        )
    if day.tally.settled_by_bot + escalated != day.tally.questions:
        day.violation(
            "a question was neither settled nor escalated",
            f"{day.tally.questions} questions, {day.tally.settled_by_bot} settled,"
            f" {escalated} escalated",
        )
    rated = sum(1 for t in day.tickets if t.rating is not None)
    if rated != day.tally.ratings_given:
        day.violation(
            "ratings stored differ from ratings given", f"{rated} vs {day.tally.ratings_given}"
        )


def status(day: Day) -> str:
    if day.violations:
        return "invariant-broken"
    if day.handler_errors or day.telegram.refused:
        return "errors-seen"
    return "ok"


def figures(day: Day) -> dict[str, object]:
    tally, tickets = day.tally, day.tickets
    escalated = sum(tally.routes.values())
    waits = [
        (t.first_response_at - t.created_at).total_seconds()
        for t in tickets
        if t.first_response_at is not None
    ]
    queued = [
        (t.assigned_at - t.created_at).total_seconds() for t in tickets if t.assigned_at is not None
    ]
    ratings = [t.rating for t in tickets if t.rating is not None]
    by_target = Counter(b.target for b in day.breaches)
    still_open = [t for t in tickets if t.status is not TicketStatus.CLOSED]
    peak = max(tally.queue_samples, key=lambda s: s[1], default=(0.0, 0))
    return {
        "buyers": len(day.arrivals),
        "questions": tally.questions,
        "containment_percent": round(100 * (1 - escalated / tally.questions), 1),
        "outcomes": {k: tally.outcomes[k] for k in ("answer", "suggest", "fallback", "escalate")},
        "routes_to_a_human": dict(tally.routes.most_common()),
        "button_presses": dict(tally.presses.most_common()),
        "second_questions_put_to_agents": tally.handed_to_agents,
        "out_of_scope_left_without_a_human": tally.out_of_scope_left,
        "tickets_without_a_subject": sum(1 for t in tickets if not t.subject.strip()),
        "tickets": len(tickets),
        "tickets_closed": len(tickets) - len(still_open),
        "tickets_open_at_end": len(still_open),
        "tickets_by_agent": {
            _who(agent, buyers_from=FIRST_USER): n
            for agent, n in sorted(Counter(t.agent_id for t in tickets if t.agent_id).items())
        },
        "wait_for_a_human_minutes": _minutes(waits),
        "never_answered": len(tickets) - len(waits),
        "queue_wait_minutes": _minutes(queued),
        "longest_queue": {"tickets": peak[1], "at": _local(OPENS + timedelta(seconds=peak[0]))},
        "breaches": {"first": by_target["first"], "next": by_target["next"]},
        "tickets_with_a_breach": len({b.ticket_id for b in day.breaches}),
        "promised_wait": promises(tally),
        "left_in_the_queue": {
            "buyers": tally.left_waiting,
            "still_shown_a_wait_in_minutes": tally.left_with_a_wait_promised,
            "example": tally.left_example,
        },
        "csat_percent": round(100 * sum(r >= 4 for r in ratings) / len(ratings), 1)
        if ratings
        else None,
        "ratings": len(ratings),
        "average_rating": round(statistics.fmean(ratings), 2) if ratings else None,
    }


def promises(tally: Tally) -> dict[str, object]:
    """The wait a queued buyer was first shown, against the wait they had until an agent."""
    pairs = tally.promises
    if not pairs:
        return {"queued_buyers": 0}
    shown = [float(minutes) for minutes, _ in pairs]
    had = [seconds / 60 for _, seconds in pairs]
    return {
        "queued_buyers": len(pairs),
        "shown_median_min": statistics.median(shown),
        "had_median_min": round(statistics.median(had), 1),
        "had_over_twice_shown_percent": round(
            100 * sum(h > 2 * max(s, 1) for s, h in zip(shown, had, strict=True)) / len(pairs), 1
        ),
        "had_under_half_shown_percent": round(
            100 * sum(h < s / 2 for s, h in zip(shown, had, strict=True)) / len(pairs), 1
        ),
    }


def hourly(day: Day, arrivals: list[float]) -> list[dict[str, object]]:
    """Per local hour: arrivals, tickets opened, their wait for a human, the longest queue."""
    rows = []
    for hour in range(people.OPENS_AT, people.CLOSES_AT + 1):
        start, stop = (hour - people.OPENS_AT) * 3600, (hour - people.OPENS_AT + 1) * 3600
        opened = [t for t in day.tickets if start <= _second(t.created_at) < stop]
        waits = [
            (
                (t.first_response_at or OPENS + timedelta(seconds=day.ended_at)) - t.created_at
            ).total_seconds()
            for t in opened
        ]
        samples = [n for s, n in day.tally.queue_samples if start <= s < stop]
        if hour == people.CLOSES_AT and not opened and not samples:
            continue
        rows.append(
            {
                "hour": f"{hour:02d}:00",
                "buyers": sum(1 for a in arrivals if start <= a < stop),
                "tickets": len(opened),
                "wait_median_min": round(statistics.median(waits) / 60, 1) if waits else None,
                "wait_max_min": round(max(waits) / 60, 1) if waits else None,
                "longest_queue": max(samples, default=0),
            }
        )
    return rows


ASSUMPTIONS = {
    "day": "09:00-23:00 UTC+8 on a FakeClock; agents `/duty on` at 09:00 and `/duty off` at"
    " 23:00, then finish the conversations they hold; tickets still queued wait for tomorrow",
    "arrivals": "the buyers' arrival times drawn independently from an hourly rate curve"
    f" {people.ARRIVALS_BY_HOUR} (relative), uniform within the hour",
    "questions": f"1 question, or 2 with p={people.SECOND_QUESTION}, drawn without replacement"
    " from faq/eval/questions.tsv in the buyer's language (language weighted as in the set)",
    "needs_a_human": "expected `human`, or `none` (out of scope; all of them unless"
    " --out-of-scope-to-human says otherwise); a wrong answer; a fallback; suggestions without"
    f" the right entry (None of these); {people.HUMAN_ANYWAY:.0%} of right answers anyway."
    " A right entry among suggestions is pressed and counts as answered",
    "buyer_behaviour": f"reads {people.READ_ANSWER} s before pressing, next question after"
    f" {people.NEXT_QUESTION} s, presses 👍 on {people.SOLVED_PRESSED:.0%} of right answers,"
    f" retypes the question {people.RETYPE_QUESTION} s after Talk to a human,"
    f" {people.NUDGE_WHILE_QUEUED:.0%} nudge after {people.NUDGE_AFTER} s if still queued,"
    f" a second question goes to the agent; rates {people.RATES_THE_HELP:.0%} of closed"
    f" conversations {people.RATE_AFTER} s after close",
    "agents": "3 agents, capacity 3, tickets assigned by the app (no /next); Jun off duty"
    f" 12:00-13:00. First reply {people.FIRST_REPLY} s after the card arrives, then"
    f" {people.FOLLOW_UPS} further exchanges (buyer {people.BUYER_REPLIES} s, agent"
    f" {people.AGENT_REPLIES} s), /close at {people.HANDLING} s after assignment"
    " (no sooner than 30 s after the last reply); every reply and /close is preceded by"
    " pressing the card's Reply to #N",
    "distributions": "ranges are lognormal 5th-95th percentiles",
    "ratings": f"stars drawn {dict(zip(people.RATINGS, people.RATING_WEIGHTS, strict=True))}"
    " (percent); each started 10 minutes of waiting past 5 minutes costs one star with p=0.6",
    "targets": "first response 5 min, next response 10 min; check_response_targets every"
    f" {TARGET_CHECK_SECONDS} simulated seconds",
}


def print_report(day: Day, numbers: dict[str, object], hours: list[dict[str, object]]) -> None:
    tally = day.tally
    outcomes = numbers["outcomes"]
    assert isinstance(outcomes, dict)
    wait = numbers["wait_for_a_human_minutes"]
    queue = numbers["queue_wait_minutes"]
    assert isinstance(wait, dict) and isinstance(queue, dict)
    longest = numbers["longest_queue"]
    assert isinstance(longest, dict)
    breaches = numbers["breaches"]
    assert isinstance(breaches, dict)
    lines = [
        f"buyers                {numbers['buyers']:>6}",
        f"questions to the bot  {numbers['questions']:>6}   answered {outcomes['answer']},"
        f" suggested {outcomes['suggest']}, fallback {outcomes['fallback']},"
        f" escalated {outcomes['escalate']}",
        f"containment           {numbers['containment_percent']:>5}%   questions settled"
        " without a human",
        f"tickets               {numbers['tickets']:>6}   closed {numbers['tickets_closed']},"
        f" open at the end {numbers['tickets_open_at_end']}; by agent"
        f" {numbers['tickets_by_agent']}",
        f"wait for a human      median {wait['median']} min, p90 {wait['p90']} min, max"
        f" {wait['max']} min   (ticket opened -> first agent reply; {wait['n']} answered,"
        f" {numbers['never_answered']} not)",
        f"  of which queued     median {queue['median']} min, p90 {queue['p90']} min, max"
        f" {queue['max']} min   (opened -> assigned); longest queue {longest['tickets']}"
        f" at {longest['at']}",
        f"breaches              first {breaches['first']}, next {breaches['next']}"
        f"   ({numbers['tickets_with_a_breach']} tickets)",
        f"CSAT                  {numbers['csat_percent']}%   4-5 stars of {numbers['ratings']}"
        f" ratings, average {numbers['average_rating']}",
    ]
    promised = numbers["promised_wait"]
    left = numbers["left_in_the_queue"]
    assert isinstance(promised, dict) and isinstance(left, dict)
    if promised["queued_buyers"]:
        lines.append(
            f"queue promise         {promised['queued_buyers']} buyers queued: first shown a"
            f" median {promised['shown_median_min']} min, had {promised['had_median_min']} min;"
            f" {promised['had_over_twice_shown_percent']}% waited over twice what they were shown,"
            f" {promised['had_under_half_shown_percent']}% under half"
        )
    if left["buyers"]:
        lines.append(
            f"left in the queue     {left['buyers']} buyers at the end (nobody on duty);"
            f" {left['still_shown_a_wait_in_minutes']} still read an expected wait in minutes"
        )
    print("\n".join(lines))
    print()
    print(f"{'hour':>5} {'buyers':>6} {'tickets':>7} {'wait med':>8} {'wait max':>8} {'queue':>5}")
    for row in hours:
        print(
            f"{row['hour']:>5} {row['buyers']:>6} {row['tickets']:>7}"
            f" {_cell(row['wait_median_min']):>8} {_cell(row['wait_max_min']):>8}"
            f" {row['longest_queue']:>5}"
        )
    print(
        "  (wait: opened -> first agent reply, or -> end of run if never; queue: most tickets"
        f" waiting at a {TARGET_CHECK_SECONDS} s check)"
    )
    print()
    print("how buyers reached a human:")
    for route, count in tally.routes.most_common():
        print(f"  {count:>5}  {route}")
    print(
        f"  ({numbers['second_questions_put_to_agents']} second questions went to the agent;"
        f" {numbers['out_of_scope_left_without_a_human']} out-of-scope askers left without one;"
        f" {numbers['tickets_without_a_subject']} tickets reached their agent with no subject)"
    )
    print()
    stats = day.stats
    print(
        "the store's own figures (support_stats, as /stats shows them): tickets"
        f" {stats.tickets_today}, questions {stats.questions_today}, containment"
        f" {_cell(stats.containment_percent)}%, first response median"
        f" {_cell(_min(stats.first_response_median_seconds))} min, p90"
        f" {_cell(_min(stats.first_response_p90_seconds))} min, breaches {stats.breaches_today},"
        f" CSAT {_cell(stats.csat_percent)}% of {stats.ratings}"
    )
    telegram = day.telegram
    print(
        f"Telegram: {sum(telegram.calls.values())} calls {telegram.calls};"
        f" refused {sum(telegram.refused.values()) or 'none'};"
        f" edits {telegram.edits} (+{telegram.edits_not_modified} not modified, at most"
        f" {telegram.most_edits_of_one_message} of one message); button presses left"
        f" unanswered {telegram.unanswered_presses}; at most"
        f" {telegram.largest_burst_to_one_chat} messages to one chat in one step"
        f" ({telegram.largest_burst_chat}); busiest chats"
        f" {telegram.messages_to}; sent from the outbox by kind"
        f" {dict(tally.messages_by_kind)}"
    )
    for reason, count in telegram.refused.items():
        print(f"  refused {count} x {reason}: e.g. {telegram.refused_examples[reason]}")
    for text, count in telegram.same_text_twice_in_one_step.items():
        print(f"  sent twice in a row to the same chat, {count} x: {text}")
    if tally.reply_mismatch:
        mismatch = dict(tally.reply_mismatch)
        print(f"  replies whose buttons did not fit the matcher's outcome: {mismatch}")
    for reason, count in day.handler_errors.most_common():
        print(f"  handler error logged {count} x {reason}")
    for name, count in tally.oddities.items():
        print(f"  oddity {count} x {name}: e.g. {tally.oddity_examples[name]}")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _min(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def speed(day: Day) -> dict[str, object]:
    tally = day.tally
    wall = day.wall_seconds
    return {
        "wall_seconds": round(wall, 1),
        "steps": tally.steps,
        "updates": tally.updates,
        "outbox_items": sum(tally.outbox.values()),
        "outbox_by_kind": dict(tally.outbox),
        "target_checks": tally.target_checks,
        "steps_per_second": round(tally.steps / wall, 1),
        "updates_per_second": round(tally.updates / wall, 1),
        "seconds_in_dispatch": round(tally.update_seconds, 1),
        "seconds_draining_outbox": round(tally.drain_seconds, 1),
        "seconds_by_outbox_kind": {k: round(v, 1) for k, v in tally.outbox_seconds.items()},
        "seconds_in_target_checks": round(tally.check_seconds, 1),
        "seconds_in_check_response_targets": round(tally.target_job_seconds, 1),
        "simulated_until": _local(OPENS + timedelta(seconds=day.ended_at)),
    }


def report(
    day: Day,
    numbers: dict[str, object],
    hours: list[dict[str, object]],
    facts: dict[str, object],
    started: datetime,
    run: dict[str, object],
) -> dict[str, object]:
    return {
        "benchmark": "busy-day",
        "started_at": started.isoformat(timespec="seconds"),
        "status": status(day),
        "machine": facts,
        "run": run,
        "assumptions": ASSUMPTIONS,
        "figures": numbers,
        "by_hour": hours,
        "store_support_stats": asdict(day.stats),
        "stats_command_text": day.stats_text,
        "telegram": asdict(day.telegram),
        "handler_errors": dict(day.handler_errors),
        "reply_mismatch": dict(day.tally.reply_mismatch),
        "oddities": dict(day.tally.oddities),
        "speed": speed(day),
        "invariants": {
            "broken": dict(day.violations),
            "examples": day.violation_examples,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.busy_day", description=__doc__)
    parser.add_argument("--buyers", type=int, default=BUYERS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--out-of-scope-to-human",
        type=float,
        default=people.OUT_OF_SCOPE_TO_HUMAN,
        help="share of out-of-scope askers who then want a person (default: all)",
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = datetime.now(UTC)
    facts = machine()
    print(f"Kamibot busy-day benchmark, {started.isoformat(timespec='seconds')}")
    print(
        f"machine: {facts['implementation']} {facts['python']}, SQLite {facts['sqlite']},"
        f" {facts['cpu_count']} CPUs ({facts['cpus_usable']} usable), {facts['platform']}"
    )
    print(
        f"day: {options.buyers} buyers 09:00-23:00 UTC+8, {len(AGENTS)} agents (capacity 3,"
        " Jun at lunch 12-13), targets first 5 / next 10 min, seed"
        f" {options.seed}; SQLite file in a temp dir, ShopContext from bot.app.build_context",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="kamibot-busy-day-") as tmp:
        database = Path(tmp) / "shop.sqlite3"
        day = asyncio.run(
            simulate(database, options.buyers, options.seed, options.out_of_scope_to_human)
        )
    check(day)
    numbers = figures(day)
    hours = hourly(day, day.arrivals)
    print()
    print_report(day, numbers, hours)
    pace = speed(day)
    print()
    print(
        f"wall time {pace['wall_seconds']} s for {pace['steps']} steps ({pace['updates']} updates"
        f" through dispatch, {pace['outbox_items']} outbox items, {pace['target_checks']} target"
        f" checks): {pace['steps_per_second']} steps/s, {pace['updates_per_second']} updates/s;"
        f" in dispatch {pace['seconds_in_dispatch']} s, draining the outbox"
        f" {pace['seconds_draining_outbox']} s (by kind {pace['seconds_by_outbox_kind']}),"
        f" target checks {pace['seconds_in_target_checks']} s (check_response_targets"
        f" {pace['seconds_in_check_response_targets']} s); simulated until"
        f" {pace['simulated_until']}"
    )
    if day.violations:
        print("INVARIANTS BROKEN:")
        for name, count in day.violations.items():
            print(f"  {count} x {name}: e.g. {day.violation_examples[name]}")
    else:
        print(
            "invariants: ok (tickets closed or queued after hours, served in order, never to an"
            " agent off duty or over capacity, each breach recorded and alerted once)"
        )
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        json.dumps(
            report(day, numbers, hours, facts, started, vars(options)), indent=2, ensure_ascii=False
        )
        + "\n"
    )
    print(f"results: {ARTIFACT}")
    wait = numbers["wait_for_a_human_minutes"]
    assert isinstance(wait, dict)
    print(
        f"bench-busy-day status={status(day)} buyers={options.buyers}"
        f" questions={numbers['questions']} containment={numbers['containment_percent']}"
        f" tickets={numbers['tickets']}"
        f" wait_median_min={wait['median']} wait_p90_min={wait['p90']} wait_max_min={wait['max']}"
        f" breaches={len(day.breaches)} csat={numbers['csat_percent']}"
        f" wall_s={pace['wall_seconds']} steps_per_s={pace['steps_per_second']}"
    )
    return EXIT_STATUS[status(day)]


if __name__ == "__main__":
    sys.exit(main())
