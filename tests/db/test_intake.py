"""The durable intake: an update is recorded before it is confirmed, and handled after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from bot.intake import GIVE_UP_AFTER, Intake
from handlers.event import Event, PaymentReceived, TextMessage
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import inbox
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import StoreBusy
from tests.conftest import FakeClock
from tests.factories import paid, text


def _update(update_id: int, body: str = "hello") -> dict[str, Any]:
    return {"update_id": update_id, "message": {"text": body}}


class ScriptedSource:
    """getUpdates as Telegram answers it: the queue minus what `offset` confirmed."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        self.queue = list(updates)
        self.offsets: list[int | None] = []
        self._changed = asyncio.Condition()

    async def polled(self, times: int) -> None:
        """Wait (10 s at most) until getUpdates has been called `times` times."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: len(self.offsets) >= times)

    async def fetch_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        async with self._changed:
            self.offsets.append(offset)
            self._changed.notify_all()
        if offset is not None:
            self.queue = [u for u in self.queue if u["update_id"] >= offset]
        if not self.queue:
            await asyncio.Event().wait()  # a long poll with nothing new: wait to be cancelled
        return list(self.queue)

    def event_from_update(self, update: Mapping[str, Any]) -> Event | None:
        body = update["message"]["text"]
        if body.startswith("paid:"):
            return paid("order:1", 480, charge_id=body)
        return text(body)


class Recorder:
    """The shop's handler: records what it was given; can be told to stall or be busy."""

    def __init__(self, busy_times: int = 0, stall: bool = False) -> None:
        self.seen: list[Event] = []
        self.busy_times = busy_times
        self.stall = stall
        self.entered = asyncio.Event()
        self.apologised: list[Event] = []

    async def handle(self, event: Event) -> None:
        self.entered.set()
        if self.stall:
            await asyncio.Event().wait()  # the process dies in here
        if self.busy_times:
            self.busy_times -= 1
            raise StoreBusy("database is locked")
        self.seen.append(event)

    async def give_up(self, event: Event) -> None:
        self.apologised.append(event)


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


def _intake(
    source: ScriptedSource,
    recorder: Recorder,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
) -> Intake:
    return Intake(
        source,
        new_uow=uow,
        cipher=cipher,
        now=clock.now,
        handle=recorder.handle,
        give_up=recorder.give_up,
        sleep=_no_sleep,
    )


async def _rows(uow: UnitOfWorkFactory) -> list[tuple[int, str, str]]:
    async with uow().reading() as tx:
        rows = await tx.connection.execute(
            inbox.select().with_only_columns(inbox.c.update_id, inbox.c.status, inbox.c.payload)
        )
        return [(r.update_id, r.status, r.payload) for r in rows]


async def _settled(intake: Intake) -> None:
    await intake.settled(timeout=10)
    assert intake.in_flight == 0


async def test_an_update_is_recorded_sealed_before_the_next_poll_confirms_it(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    source = ScriptedSource([_update(7, "my key is ABCD-1234")])
    recorder = Recorder(stall=True)
    intake = _intake(source, recorder, uow, cipher, clock)
    polling = asyncio.create_task(intake.poll())
    await source.polled(2)  # the second poll carries the confirmation
    assert source.offsets[:2] == [None, 8]
    [(update_id, status, payload)] = await _rows(uow)
    assert (update_id, status) == (7, "pending") and "ABCD-1234" not in payload
    polling.cancel()
    await intake.drain(timeout=0)


async def test_an_update_recorded_but_not_handled_when_the_bot_died_is_handled_after_restart(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    source = ScriptedSource([_update(1, "paid:charge-1")])
    dying = Recorder(stall=True)
    first = _intake(source, dying, uow, cipher, clock)
    polling = asyncio.create_task(first.poll())
    await dying.entered.wait()
    polling.cancel()  # the process dies while the payment waits on the database
    await first.drain(timeout=0)
    assert source.queue == []  # Telegram will not send it again: it was confirmed

    restarted = Recorder()
    second = _intake(ScriptedSource([]), restarted, uow, cipher, clock)
    assert await second.resume() == 1
    await _settled(second)
    [event] = restarted.seen
    assert isinstance(event, PaymentReceived) and event.charge_id == "paid:charge-1"
    assert [(u, s) for u, s, _ in await _rows(uow)] == [(1, "done")]
    assert await second.resume() == 0  # handled once, not again


async def test_the_same_update_sent_twice_is_handled_once(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    recorder = Recorder()
    intake = _intake(ScriptedSource([]), recorder, uow, cipher, clock)
    assert await intake.receive([_update(3)]) == 1
    assert await intake.receive([_update(3)]) == 0
    await _settled(intake)
    assert len(recorder.seen) == 1


async def test_a_busy_database_is_retried_rather_than_answered(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    recorder = Recorder(busy_times=2)
    intake = _intake(ScriptedSource([]), recorder, uow, cipher, clock)
    await intake.receive([_update(4, "/start")])
    await _settled(intake)
    assert [e.text for e in recorder.seen if isinstance(e, TextMessage)] == ["/start"]
    assert recorder.apologised == []
    assert [(u, s) for u, s, _ in await _rows(uow)] == [(4, "done")]


async def test_a_payment_is_never_given_up_on_a_busy_database(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    recorder = Recorder(busy_times=GIVE_UP_AFTER * 3)
    intake = _intake(ScriptedSource([]), recorder, uow, cipher, clock)
    await intake.receive([_update(5, "paid:charge-5")])
    await _settled(intake)
    assert len(recorder.seen) == 1 and recorder.apologised == []


async def test_other_updates_are_given_up_with_an_apology_when_the_database_stays_busy(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    recorder = Recorder(busy_times=GIVE_UP_AFTER * 3)
    intake = _intake(ScriptedSource([]), recorder, uow, cipher, clock)
    await intake.receive([_update(6, "/shop")])
    await _settled(intake)
    assert recorder.seen == [] and len(recorder.apologised) == 1
    assert [(u, s) for u, s, _ in await _rows(uow)] == [(6, "failed")]


class BrokenStore:
    """A unit-of-work factory whose database cannot be reached."""

    def __call__(self) -> Any:
        raise StoreBusy("connection refused")


async def test_updates_that_could_not_be_recorded_are_not_confirmed(
    cipher: CardKeyCipher, clock: FakeClock
) -> None:
    source = ScriptedSource([_update(9)])
    recorder = Recorder()
    intake = Intake(
        source,
        new_uow=BrokenStore(),
        cipher=cipher,
        now=clock.now,
        handle=recorder.handle,
        give_up=recorder.give_up,
        sleep=_no_sleep,
    )
    polling = asyncio.create_task(intake.poll())
    await source.polled(3)
    polling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await polling
    assert set(source.offsets) == {None} and source.queue == [_update(9)]
    assert recorder.seen == []
