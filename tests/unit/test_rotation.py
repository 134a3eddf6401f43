"""Retiring a passphrase: every key and every sealed text moves under the newest, on fakes."""

from __future__ import annotations

from dataclasses import replace

from store.domain.errors import UnreadableToken
from store.services.queue import ask_for_human
from store.services.rotation import SEALED_TEXT, Rotated, rotate_passphrases
from tests.conftest import FakeClock
from tests.factories import stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

OLD, BOTH, NEW = FakeCipher(["A"]), FakeCipher(["B", "A"]), FakeCipher(["B"])


def opens(cipher: FakeCipher, token: str) -> bool:
    try:
        cipher.open(token)
    except UnreadableToken:
        return False
    return True


async def shop_under_the_old_passphrase(clock: FakeClock) -> FakeDatabase:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, OLD, clock, stock=3)
    await ask_for_human(
        FakeUnitOfWork(db),
        user_id=1,
        first_name="",
        text="KEY-1 does not work",
        now=clock.now(),
        cipher=OLD,
    )
    return db


def by_name(rotated: list[Rotated]) -> dict[str, tuple[int, int, int, int]]:
    return {r.name: (r.rewritten, r.was_plain, r.current, r.unreadable) for r in rotated}


async def test_after_a_rotation_only_the_new_passphrase_is_needed(clock: FakeClock) -> None:
    db = await shop_under_the_old_passphrase(clock)
    rotated = by_name(await rotate_passphrases(db.unit_of_work, cipher=BOTH, newest=NEW, chunk=2))
    assert rotated["card_keys"] == (3, 0, 0, 0) and rotated["tickets.subject"] == (1, 0, 0, 0)
    assert list(rotated) == ["card_keys", *SEALED_TEXT]
    for key in db.tables.card_keys.values():
        assert opens(NEW, key.ciphertext) and key.fingerprint == NEW.fingerprint(
            NEW.decrypt(key.ciphertext)
        )
    [ticket] = db.tables.tickets.values()
    assert NEW.open(ticket.subject) == "KEY-1 does not work"


async def test_a_second_rotation_finds_everything_current_and_writes_nothing(
    clock: FakeClock,
) -> None:
    db = await shop_under_the_old_passphrase(clock)
    await rotate_passphrases(db.unit_of_work, cipher=BOTH, newest=NEW)
    before = [k.ciphertext for k in db.tables.card_keys.values()]
    again = by_name(await rotate_passphrases(db.unit_of_work, cipher=BOTH, newest=NEW))
    assert again["card_keys"] == (0, 0, 3, 0) and again["tickets.subject"] == (0, 0, 1, 0)
    assert [k.ciphertext for k in db.tables.card_keys.values()] == before


async def test_text_stored_before_sealing_is_sealed_and_a_token_no_passphrase_opens_is_left(
    clock: FakeClock,
) -> None:
    db = await shop_under_the_old_passphrase(clock)
    [row] = db.tables.messages.values()
    row.message = replace(row.message, body="old words")  # as an older version wrote it
    lost = FakeCipher(["gone"]).seal("lost words")
    [ticket_id] = db.tables.tickets
    db.tables.tickets[ticket_id] = replace(db.tables.tickets[ticket_id], subject=lost)
    rotated = by_name(await rotate_passphrases(db.unit_of_work, cipher=BOTH, newest=NEW))
    assert rotated["ticket_messages.body"] == (1, 1, 0, 0)
    assert rotated["tickets.subject"] == (0, 0, 0, 1)
    [stored] = db.tables.messages.values()
    assert NEW.open(stored.message.body) == "old words"
    assert db.tables.tickets[ticket_id].subject == lost
