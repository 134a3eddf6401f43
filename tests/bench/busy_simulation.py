"""The busy day as a discrete-event simulation through `handlers.router.dispatch`.

A heap of (simulated second, sequence, step). Each step moves the scripted clock to its time and
does what one person does (a buyer writes or presses a button, an agent replies or closes); what
comes back is "sent" through a recording fake of Telegram, and people react only to what they
were sent. After each step the outbox is drained as the delivery worker would (claim, render,
finish), which is how agents get tickets and queued buyers see their place move; every 30
simulated seconds the response-target job runs, as the scheduler does.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sql_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from faq.matcher import Match
from handlers.context import ShopContext
from handlers.event import ButtonPress, Person, TextMessage
from handlers.outbox import render_outbox
from handlers.router import dispatch
from store.adapters.tables import tickets
from store.adapters.unit_of_work import SqlUnitOfWork
from store.domain.model import TicketStatus
from store.domain.outbox import OutboxReceipt, ResponseBreach, TicketAssigned, payload_body
from store.services.outbox import claim_outbox, finish_outbox
from store.services.response_target import check_response_targets
from tests.bench import busy_crowd as people
from tests.bench.busy_crowd import Buyer, Question
from tests.bench.busy_telegram import Delivered, RecordingTelegram
from tests.conftest import FakeClock

QUEUE_LENGTH = select(func.count()).where(tickets.c.status == TicketStatus.QUEUED.value)
PROMISED_WAIT = re.compile(r"(?:about|约) (\d+) (?:min|分钟)")
"""The expected wait in a queued buyer's message, as they read it."""
TARGET_CHECK_SECONDS = 30
"""How often the scheduler's response-target job runs."""
CLOSE_AFTER_LAST_REPLY = 30
"""An agent closes at the end of the handling time, but never sooner than this after a reply."""

Step = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Agent:
    user_id: int
    name: str
    language_code: str
    breaks: tuple[tuple[float, float], ...] = ()
    """(off, back) in seconds after opening: `/duty off`, then `/duty on` again."""


@dataclass
class Conversation:
    """A ticket as the simulation knows it: from the card its agent was sent."""

    ticket_id: int
    buyer: BuyerState
    agent_id: int
    card_message_id: int
    assigned_at: float
    close_at: float
    follow_ups: int
    first_reply_at: float | None = None


@dataclass
class BuyerState:
    buyer: Buyer
    person: Person
    pending: list[Question]
    asked_human_at: float | None = None
    conversation: Conversation | None = None
    route: str = ""
    promised_wait: int | None = None
    """Minutes the queue message promised when the buyer first saw it."""
    queue_message: int | None = None

    @property
    def waiting(self) -> bool:
        """Asked for a person, and no agent has the ticket yet."""
        return self.asked_human_at is not None and self.conversation is None


@dataclass
class AgentState:
    agent: Agent
    person: Person
    on_duty: bool = False
    holding: set[int] = field(default_factory=set)


@dataclass
class Tally:
    """What happened, counted as it happened."""

    questions: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    """The matcher's action on each question put to the bot."""
    settled_by_bot: int = 0
    routes: Counter[str] = field(default_factory=Counter)
    """How each buyer who reached a human got there."""
    out_of_scope_left: int = 0
    """Out-of-scope askers who did not ask for a person (counted as settled by the bot)."""
    handed_to_agents: int = 0
    """Second questions a buyer asked the agent instead of the bot."""
    presses: Counter[str] = field(default_factory=Counter)
    reply_mismatch: Counter[str] = field(default_factory=Counter)
    """A reply whose buttons do not fit the matcher's outcome for that text."""
    violations: Counter[str] = field(default_factory=Counter)
    violation_examples: dict[str, str] = field(default_factory=dict)
    oddities: Counter[str] = field(default_factory=Counter)
    oddity_examples: dict[str, str] = field(default_factory=dict)
    outbox: Counter[str] = field(default_factory=Counter)
    breach_alerts: Counter[str] = field(default_factory=Counter)
    """RESPONSE_BREACH items rendered, by "target:ticket"."""
    ratings_given: int = 0
    promises: list[tuple[int, float]] = field(default_factory=list)
    """(minutes promised, seconds until an agent had the ticket) for buyers who queued."""
    messages_by_kind: Counter[str] = field(default_factory=Counter)
    """Messages sent from outbox items, by the item's kind."""
    left_waiting: int = 0
    left_with_a_wait_promised: int = 0
    """Buyers still queued at the end whose queue message still promises a wait in minutes."""
    left_example: str = ""
    queue_samples: list[tuple[float, int]] = field(default_factory=list)
    """(second, tickets queued) at every target check."""
    steps: int = 0
    updates: int = 0
    target_checks: int = 0
    update_seconds: float = 0.0
    drain_seconds: float = 0.0
    outbox_seconds: dict[str, float] = field(default_factory=dict)
    """Rendering, sending and finishing outbox items, by kind."""
    check_seconds: float = 0.0
    target_job_seconds: float = 0.0
    """Of check_seconds: check_response_targets itself (the rest is the queue snapshot)."""

    def violation(self, name: str, example: str) -> None:
        self.violations[name] += 1
        self.violation_examples.setdefault(name, example)

    def oddity(self, name: str, example: str) -> None:
        self.oddities[name] += 1
        self.oddity_examples.setdefault(name, example)


class OutboxWatch:
    """Notes each INSERT into the outbox, so a step drains it only when there is something to
    send: the same sends at the same moments as the worker woken after every update, without a
    claim transaction that finds nothing after most updates."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.due = False
        sql_event.listen(engine.sync_engine, "after_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        statement = args[2]
        if statement.startswith("INSERT") and "INTO outbox " in statement:
            self.due = True


class BusyDay:
    def __init__(
        self,
        ctx: ShopContext,
        engine: AsyncEngine,
        clock: FakeClock,
        rng: random.Random,
        *,
        buyers: list[Buyer],
        agents: list[Agent],
        admin: Person,
        day_seconds: float,
        out_of_scope_to_human: float = people.OUT_OF_SCOPE_TO_HUMAN,
    ) -> None:
        self.ctx = ctx
        self.clock = clock
        self.rng = rng
        self.opens = clock.now()
        self.day_seconds = day_seconds
        self.out_of_scope_to_human = out_of_scope_to_human
        self.telegram = RecordingTelegram()
        self.tally = Tally()
        self.watch = OutboxWatch(engine)
        self.admin = admin
        self.buyers = {
            b.user_id: BuyerState(b, Person(b.user_id, b.user_id, "", b.language_code), [])
            for b in buyers
        }
        self.agents = {
            a.user_id: AgentState(a, Person(a.user_id, a.user_id, a.name, a.language_code))
            for a in agents
        }
        self.conversations: dict[int, Conversation] = {}
        self.matches: dict[str, Match] = {}
        self._heap: list[tuple[float, int, Step, tuple[object, ...]]] = []
        self._order = itertools.count()
        self._now = 0.0
        self._work = 0
        """Steps in the heap other than the target check: the day ends when none are left."""
        self._callbacks = itertools.count(1)
        self._delivered: list[Delivered] = []
        """Everything sent during the current step: replies and what the outbox drain sent."""
        self._expected: list[tuple[int, str, str]] = []
        """(chat, violation, example): a message that chat must get before the step ends."""
        self._queue_news: list[BuyerState] = []
        """Buyers who asked for a person this step: what place and wait were they shown?"""

    # --- the loop ---

    def at(self, when: float, step: Step, *args: object) -> None:
        heapq.heappush(self._heap, (when, next(self._order), step, args))
        if step != self._check_targets:
            self._work += 1

    def later(self, spread: people.Range, step: Step, *args: object) -> None:
        self.at(self._now + people.lognormal(self.rng, spread), step, *args)

    async def run(self) -> float:
        """Simulate the day; returns the simulated second of the last step."""
        assert self.ctx.faq is not None
        for buyer in self.buyers.values():
            for question in buyer.buyer.questions:
                if question.text not in self.matches:
                    self.matches[question.text] = self.ctx.faq.match(question.text)
        self.at(0, self._admin_starts)
        for agent in self.agents.values():
            self.at(0, self._duty, agent, True)
            for off, back in agent.agent.breaks:
                self.at(off, self._duty, agent, False)
                self.at(back, self._duty, agent, True)
            self.at(self.day_seconds, self._duty, agent, False)
        for buyer in self.buyers.values():
            self.at(buyer.buyer.arrives_at, self._arrive, buyer)
        self.at(TARGET_CHECK_SECONDS, self._check_targets)
        while self._heap:
            when, _, step, args = heapq.heappop(self._heap)
            if step != self._check_targets:
                self._work -= 1
            self.clock.advance(seconds=when - self._now)
            self._now = when
            await step(*args)
            if self.watch.due:
                await self._drain()
            self._end_step()
            self.tally.steps += 1
        self._left_waiting()
        return self._now

    def _left_waiting(self) -> None:
        """What buyers still in the queue read at the end, with nobody on duty any more."""
        for state in self.buyers.values():
            if not state.waiting:
                continue
            self.tally.left_waiting += 1
            if state.queue_message is None:
                continue
            text = self.telegram.text_of(state.buyer.user_id, state.queue_message) or ""
            if PROMISED_WAIT.search(text):
                self.tally.left_with_a_wait_promised += 1
                self.tally.left_example = self.tally.left_example or text

    def _end_step(self) -> None:
        chats = {d.chat_id for d in self._delivered}
        for chat, name, example in self._expected:
            if chat not in chats:
                self.tally.violation(name, f"{self._clock_text()}: {example}")
        for state in self._queue_news:
            self._note_promise(state)
        self._delivered.clear()
        self._expected.clear()
        self._queue_news.clear()
        self.telegram.end_step()

    def _note_promise(self, state: BuyerState) -> None:
        for message in self._delivered:
            if message.chat_id != state.buyer.user_id:
                continue
            promised = PROMISED_WAIT.search(message.html)
            if promised is not None and state.waiting:
                state.promised_wait = int(promised.group(1))
                state.queue_message = message.message_id
                return

    def expect(self, chat: int, name: str, example: str) -> None:
        """By the end of this step (the outbox drained), `chat` must have been sent something."""
        self._expected.append((chat, name, example))

    def moment(self, second: float | None = None) -> datetime:
        return self.opens + timedelta(seconds=self._now if second is None else second)

    async def _send(self, event: TextMessage | ButtonPress) -> list[Delivered]:
        """One update through the conversation layer, its actions through the fake Telegram."""
        if isinstance(event, ButtonPress):
            self.telegram.pressed(event.callback_id)
        else:
            self.telegram.user_wrote(event.person.chat_id, event.message_id)
        started = time.perf_counter()
        actions = await dispatch(event, self.ctx)
        self.tally.update_seconds += time.perf_counter() - started
        self.tally.updates += 1
        delivered = await self.telegram.perform(actions)
        if isinstance(event, ButtonPress):
            self.telegram.end_press(event.callback_id)
        self._delivered += delivered
        return delivered

    async def _write(self, person: Person, text: str) -> list[Delivered]:
        message_id = self.telegram.user_wrote(person.chat_id)
        return await self._send(TextMessage(person, text, message_id))

    async def _press(self, person: Person, message: Delivered, data: str) -> list[Delivered]:
        self.tally.presses[data.split(":", 1)[0]] += 1
        callback = f"cb{next(self._callbacks)}"
        return await self._send(ButtonPress(person, data, message.message_id, callback))

    async def _drain(self) -> None:
        started = time.perf_counter()
        ctx = self.ctx
        while self.watch.due:
            self.watch.due = False
            while items := await claim_outbox(ctx.uow(), now=ctx.clock.now()):
                for item in items:
                    began = time.perf_counter()
                    refused = self.telegram.refused.reasons.total()
                    rendered = await render_outbox(item, ctx)
                    delivered, kept = [], None
                    for index, action in enumerate(rendered.actions):
                        shown = await self.telegram.perform([action])
                        delivered += shown
                        if index == rendered.kept and shown:
                            kept = shown[0].message_id
                    self._delivered += delivered
                    self.tally.messages_by_kind[item.kind] += len(delivered)
                    ok = self.telegram.refused.reasons.total() == refused
                    await finish_outbox(
                        ctx.uow(),
                        item=item,
                        now=ctx.clock.now(),
                        sent=ok,
                        give_up=not ok,
                        receipt=OutboxReceipt(kept, rendered.relayed),
                    )
                    self.tally.outbox[item.kind] += 1
                    spent = time.perf_counter() - began
                    seconds = self.tally.outbox_seconds
                    seconds[item.kind] = seconds.get(item.kind, 0.0) + spent
                    match item.payload:
                        case TicketAssigned(ticket_id=ticket_id) if delivered:
                            self._assigned(item.chat_id, ticket_id, delivered)
                        case ResponseBreach():
                            self.tally.breach_alerts[payload_body(item.payload)] += 1
        self.tally.drain_seconds += time.perf_counter() - started

    async def _check_targets(self) -> None:
        """The scheduler's job, and a look at the queue while nothing is moving."""
        started = time.perf_counter()
        ctx = self.ctx
        await check_response_targets(ctx.uow(), now=ctx.clock.now(), rules=ctx.support)
        self.tally.target_job_seconds += time.perf_counter() - started
        async with ctx.uow().reading() as uow:
            assert isinstance(uow, SqlUnitOfWork)  # the queue's length is counted in SQL
            on_duty = await uow.agents.on_duty()
            waiting = (await uow.connection.execute(QUEUE_LENGTH)).scalar_one()
        self.tally.queue_samples.append((self._now, waiting))
        if waiting and any(a.open_tickets < a.capacity for a in on_duty):
            self.tally.violation(
                "a ticket waited while an agent on duty had room",
                f"{self._clock_text()}: {waiting} queued, agents "
                + ", ".join(f"{a.user_id}={a.open_tickets}/{a.capacity}" for a in on_duty),
            )
        for agent in on_duty:
            if agent.open_tickets > agent.capacity:
                self.tally.violation(
                    "an agent held more tickets than their capacity",
                    f"{self._clock_text()}: agent {agent.user_id} {agent.open_tickets}",
                )
        self.tally.target_checks += 1
        self.tally.check_seconds += time.perf_counter() - started
        if self._now < self.day_seconds or self._work:
            self.at(self._now + TARGET_CHECK_SECONDS, self._check_targets)

    def _clock_text(self) -> str:
        local = self.moment() + timedelta(hours=8)
        return local.strftime("%H:%M:%S")

    # --- the admin and the agents ---

    async def _admin_starts(self) -> None:
        """The shop's admin has opened the bot, so breach alerts can reach them."""
        await self._write(self.admin, "/start")

    async def _duty(self, state: AgentState, on: bool) -> None:
        state.on_duty = on
        await self._write(state.person, f"/duty {'on' if on else 'off'}")

    def _assigned(self, agent_id: int, ticket_id: int, delivered: list[Delivered]) -> None:
        """A ticket card reached an agent: they will reply, talk a little, then close."""
        agent = self.agents[agent_id]
        example = f"{self._clock_text()}: ticket #{ticket_id} to agent {agent_id}"
        if not agent.on_duty:
            self.tally.violation("a ticket was assigned to an agent off duty", example)
        if len(agent.holding) >= self.ctx.support.capacity:
            self.tally.violation("a ticket was assigned beyond the agent's capacity", example)
        if ticket_id in self.conversations:
            self.tally.oddity("a ticket was assigned twice", example)
            return
        focus = f"agt:{ticket_id}"
        card = next((d for d in delivered if d.chat_id == agent_id and focus in d.buttons), None)
        told = [d for d in delivered if d.chat_id != agent_id]
        if card is None or not told or told[-1].chat_id not in self.buyers:
            self.tally.violation("an assignment did not reach both agent and buyer", example)
            return
        buyer = self.buyers[told[-1].chat_id]
        if buyer.asked_human_at is None or buyer.conversation is not None:
            self.tally.violation("a ticket was assigned for a buyer who was not waiting", example)
            return
        agent.holding.add(ticket_id)
        assert buyer.asked_human_at is not None
        if buyer.promised_wait is not None:
            waited = self._now - buyer.asked_human_at
            self.tally.promises.append((buyer.promised_wait, waited))
        conversation = Conversation(
            ticket_id,
            buyer,
            agent_id,
            card.message_id,
            assigned_at=self._now,
            close_at=self._now + people.lognormal(self.rng, people.HANDLING),
            follow_ups=max(self.rng.choice(people.FOLLOW_UPS), len(buyer.pending)),
        )
        self.conversations[ticket_id] = conversation
        buyer.conversation = conversation
        self.later(people.FIRST_REPLY, self._agent_replies, conversation)

    async def _agent_replies(self, conversation: Conversation) -> None:
        agent = self.agents[conversation.agent_id]
        buyer = conversation.buyer
        await self._focus(agent, conversation)
        text = people.pick(self.rng, people.AGENT_REPLY_TEXTS[buyer.buyer.language])
        delivered = await self._write(agent.person, text)
        if not any(d.chat_id == buyer.buyer.user_id for d in delivered):
            self.tally.violation(
                "an agent's reply did not reach the buyer",
                f"{self._clock_text()}: ticket #{conversation.ticket_id}",
            )
        if conversation.first_reply_at is None:
            conversation.first_reply_at = self._now
        if conversation.follow_ups > 0:
            conversation.follow_ups -= 1
            self.later(people.BUYER_REPLIES, self._buyer_follows_up, conversation)
        else:
            close_at = max(conversation.close_at, self._now + CLOSE_AFTER_LAST_REPLY)
            self.at(close_at, self._agent_closes, conversation)

    async def _focus(self, agent: AgentState, conversation: Conversation) -> None:
        """With more than one conversation, the agent presses "Reply to #N" on the card so what
        they type goes to that buyer (with one, it goes there anyway)."""
        if len(agent.holding) < 2:
            return
        card = Delivered(agent.agent.user_id, conversation.card_message_id, "", ())
        await self._press(agent.person, card, f"agt:{conversation.ticket_id}")

    async def _agent_closes(self, conversation: Conversation) -> None:
        agent = self.agents[conversation.agent_id]
        buyer = conversation.buyer
        await self._focus(agent, conversation)
        delivered = await self._write(agent.person, "/close")
        agent.holding.discard(conversation.ticket_id)
        prompt = next(
            (d for d in delivered if d.chat_id == buyer.buyer.user_id and d.buttons), None
        )
        if prompt is None:
            self.tally.violation(
                "a closed conversation did not ask the buyer for a rating",
                f"{self._clock_text()}: ticket #{conversation.ticket_id}",
            )
            return
        if self.rng.random() < people.RATES_THE_HELP:
            assert buyer.asked_human_at is not None and conversation.first_reply_at is not None
            waited = conversation.first_reply_at - buyer.asked_human_at
            stars = people.rating(self.rng, waited)
            self.later(people.RATE_AFTER, self._buyer_rates, buyer, prompt, stars)

    # --- the buyers ---

    async def _arrive(self, state: BuyerState) -> None:
        state.pending = list(state.buyer.questions)
        await self._ask(state)

    async def _ask(self, state: BuyerState) -> None:
        """The buyer's next question goes to the bot; how they react depends on what came back."""
        question = state.pending.pop(0)
        chat = state.buyer.user_id
        delivered = await self._write(state.person, question.text)
        match = self.matches[question.text]
        self.tally.questions += 1
        self.tally.outcomes[match.action] += 1
        reply = next((d for d in delivered if d.chat_id == chat and d.buttons), None)
        buttons = reply.buttons if reply else ()
        shape = _shape(buttons)
        if shape != match.action:
            self.tally.reply_mismatch[f"{match.action} answered as {shape}"] += 1
        if match.action == "escalate":
            self.expect(chat, "a buyer who asked for a person heard nothing", question.text)
            route = "asked for a person: fetched at once"
            if not question.wants_human:
                route = "in-scope question escalated by the matcher"
            self._asked_for_human(state, route, retype=False)
            return
        if reply is None:
            self.tally.violation("a question got no reply with buttons", f"{question.text!r}")
            return
        share = self.out_of_scope_to_human
        if question.expected == "none" and share < 1 and self.rng.random() >= share:
            self.tally.out_of_scope_left += 1
            self.tally.settled_by_bot += 1
            if state.pending:
                self.later(people.NEXT_QUESTION, self._ask, state)
            return
        human = next(data for data in buttons if data.startswith("human:"))
        expected = question.expected
        if match.action == "answer":
            if question.wants_human:
                route = _UNWANTED[expected]
            elif match.entry_id != expected:
                route = "wrong answer: Talk to a human"
            else:
                self._answered(state, reply)
                return
        elif match.action == "suggest" and f"faq:{expected}" in buttons:
            self.later(people.READ_ANSWER, self._buyer_picks, state, reply, f"faq:{expected}")
            return
        elif match.action == "suggest":
            route = "suggestions missed: None of these"
            if question.wants_human:
                route = _UNWANTED[expected]
        else:
            route = "not understood: Talk to a human"
            if question.wants_human:
                route = _UNWANTED[expected]
        self.later(people.READ_ANSWER, self._buyer_wants_human, state, reply, human, route)

    def _answered(self, state: BuyerState, reply: Delivered) -> None:
        """A right answer: most buyers are done (some say so), a few want a person anyway."""
        roll = self.rng.random()
        if roll < people.HUMAN_ANYWAY:
            human = next(data for data in reply.buttons if data.startswith("human:"))
            route = "answered right, wanted a person anyway"
            self.later(people.READ_ANSWER, self._buyer_wants_human, state, reply, human, route)
            return
        self.tally.settled_by_bot += 1
        if roll < people.HUMAN_ANYWAY + people.SOLVED_PRESSED:
            solved = next(data for data in reply.buttons if data.startswith("faqok:"))
            self.later(people.READ_ANSWER, self._buyer_says_solved, state, reply, solved)
        elif state.pending:
            self.later(people.NEXT_QUESTION, self._ask, state)

    async def _buyer_picks(self, state: BuyerState, reply: Delivered, data: str) -> None:
        """A "did you mean" button with the buyer's real question: its answer is sent."""
        delivered = await self._press(state.person, reply, data)
        answer = next(
            (d for d in delivered if d.chat_id == state.buyer.user_id and d.buttons), None
        )
        if answer is None:
            self.tally.violation("a suggestion pressed gave no answer", data)
            return
        self._answered(state, answer)

    async def _buyer_says_solved(self, state: BuyerState, reply: Delivered, data: str) -> None:
        await self._press(state.person, reply, data)
        if state.pending:
            self.later(people.NEXT_QUESTION, self._ask, state)

    async def _buyer_wants_human(
        self, state: BuyerState, reply: Delivered, data: str, route: str
    ) -> None:
        await self._press(state.person, reply, data)
        self.expect(state.buyer.user_id, "Talk to a human gave the buyer nothing", data)
        self._asked_for_human(state, route, retype=True)

    def _asked_for_human(self, state: BuyerState, route: str, *, retype: bool) -> None:
        """The question is now a person's: the buyer may write it out again, or nudge."""
        if state.asked_human_at is not None:
            self.tally.oddity("a buyer asked for a person twice", route)
            return
        state.asked_human_at = self._now
        state.route = route
        self.tally.routes[route] += 1
        self.tally.handed_to_agents += len(state.pending)
        self._queue_news.append(state)
        if retype:
            self.later(people.RETYPE_QUESTION, self._buyer_writes, state, None)
        if self.rng.random() < people.NUDGE_WHILE_QUEUED:
            texts = people.NUDGE_TEXTS[state.buyer.language]
            self.later(people.NUDGE_AFTER, self._buyer_nudges, state, people.pick(self.rng, texts))

    async def _buyer_writes(self, state: BuyerState, text: str | None) -> None:
        """The question again, typed for the person (the button carried no words)."""
        asked = state.buyer.questions[len(state.buyer.questions) - len(state.pending) - 1]
        await self._buyer_message(state, text or asked.text)

    async def _buyer_nudges(self, state: BuyerState, text: str) -> None:
        if state.waiting:
            await self._buyer_message(state, text)

    async def _buyer_message(self, state: BuyerState, text: str) -> None:
        """Within an open ticket: kept for the agent, or relayed to them at once."""
        delivered = await self._write(state.person, text)
        chats = {d.chat_id for d in delivered}
        conversation = state.conversation
        if conversation is not None and conversation.agent_id not in chats:
            self.tally.violation(
                "a buyer's message did not reach their agent",
                f"{self._clock_text()}: ticket #{conversation.ticket_id}",
            )
        elif conversation is None and chats != {state.buyer.user_id}:
            self.tally.violation("a queued buyer's message went astray", text)

    async def _buyer_follows_up(self, conversation: Conversation) -> None:
        state = conversation.buyer
        if state.pending:
            text = state.pending.pop(0).text
        else:
            text = people.pick(self.rng, people.BUYER_FOLLOW_UP_TEXTS[state.buyer.language])
        await self._buyer_message(state, text)
        self.later(people.AGENT_REPLIES, self._agent_replies, conversation)

    async def _buyer_rates(self, state: BuyerState, prompt: Delivered, stars: int) -> None:
        data = next(d for d in prompt.buttons if d.endswith(f":{stars}"))
        delivered = await self._press(state.person, prompt, data)
        if any(d.chat_id == state.buyer.user_id for d in delivered):
            self.tally.ratings_given += 1
        else:
            self.tally.violation("a rating was refused", data)


_UNWANTED = {
    "none": "out of scope: Talk to a human",
    "human": "asked for a person: Talk to a human",
}


def _shape(buttons: tuple[str, ...]) -> str:
    """The matcher's outcome as the buyer sees it, from the buttons under the reply."""
    verbs = {data.split(":", 1)[0] for data in buttons}
    if "faqok" in verbs:
        return "answer"
    if "faq" in verbs:
        return "suggest"
    if "human" in verbs:
        return "fallback"
    return "escalate"
