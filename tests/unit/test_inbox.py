"""The inbox: updates recorded sealed before they are confirmed, and forgotten once handled."""

from __future__ import annotations

from store.services.inbox import (
    KEEP_HANDLED,
    finish_update,
    forget_handled_updates,
    note_attempt,
    record_updates,
    unhandled_updates,
)
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase

CIPHER = FakeCipher()


def update(update_id: int, text: str = "/start") -> dict[str, object]:
    return {"update_id": update_id, "message": {"text": text}}


async def test_an_update_is_recorded_once_and_only_a_new_one_is_returned(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    first = await record_updates(
        db.unit_of_work, updates=[update(1), update(2)], cipher=CIPHER, now=clock.now()
    )
    again = await record_updates(
        db.unit_of_work, updates=[update(2), update(3)], cipher=CIPHER, now=clock.now()
    )
    assert [u.update_id for u in first] == [1, 2] and [u.update_id for u in again] == [3]
    assert db.tables.inbox[1].kind == "message"


async def test_what_users_typed_is_kept_sealed(clock: FakeClock) -> None:
    db = FakeDatabase()
    await record_updates(
        db.unit_of_work, updates=[update(1, "my key KEY-1")], cipher=CIPHER, now=clock.now()
    )
    stored = db.tables.inbox[1].payload
    assert stored == CIPHER.seal('{"update_id":1,"message":{"text":"my key KEY-1"}}')


async def test_updates_not_yet_handled_come_back_opened_oldest_first(clock: FakeClock) -> None:
    db = FakeDatabase()
    await record_updates(
        db.unit_of_work, updates=[update(3), update(1), update(2)], cipher=CIPHER, now=clock.now()
    )
    await finish_update(db.unit_of_work, update_id=2, now=clock.now())
    await note_attempt(db.unit_of_work, update_id=3)
    waiting = await unhandled_updates(db.unit_of_work, cipher=CIPHER)
    assert [(u.update_id, u.update, u.attempts) for u in waiting] == [
        (1, update(1), 0),
        (3, update(3), 1),
    ]
    assert [
        u.update_id for u in await unhandled_updates(db.unit_of_work, cipher=CIPHER, after=1)
    ] == [3]


async def test_a_handled_update_drops_its_payload_at_once(clock: FakeClock) -> None:
    db = FakeDatabase()
    await record_updates(db.unit_of_work, updates=[update(1)], cipher=CIPHER, now=clock.now())
    await finish_update(db.unit_of_work, update_id=1, now=clock.now(), failed=True)
    row = db.tables.inbox[1]
    assert (row.status, row.payload) == ("failed", "")


async def test_handled_updates_are_forgotten_after_a_while_and_pending_ones_never(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await record_updates(
        db.unit_of_work, updates=[update(1), update(2)], cipher=CIPHER, now=clock.now()
    )
    await finish_update(db.unit_of_work, update_id=1, now=clock.now())
    assert await forget_handled_updates(db.unit_of_work, now=clock.now()) == 0
    clock.advance(seconds=KEEP_HANDLED.total_seconds() + 1)
    assert await forget_handled_updates(db.unit_of_work, now=clock.now()) == 1
    assert list(db.tables.inbox) == [2]


async def test_reading_what_is_unhandled_only_reads() -> None:
    db = FakeDatabase()
    await unhandled_updates(db.unit_of_work, cipher=CIPHER)
    assert db.opened == ["read"]
