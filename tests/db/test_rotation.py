"""`python -m bot keys rotate`: card keys and sealed support text move to the newest passphrase."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.cli import main
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.repositories.sealed_text import SEALED_COLUMNS
from store.adapters.tables import card_keys, inbox
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import ImportRefused
from store.domain.model import CaseReason, CaseStatus, TicketPriority, TicketStatus
from store.domain.order import HoldRules
from store.services import rotation
from store.services.order import reserve_keys
from store.services.question import record_question
from store.services.queue import ask_for_human
from store.services.rotation import Rotated, rotate_passphrases
from store.services.stock import ALREADY_IN_STOCK, ImportSummary
from store.services.ticket import buyer_wrote
from tests.conftest import FakeClock
from tests.factories import stocked_shop

A = "passphrase A: the one being retired (32+ chars)"
B = "passphrase B: the new one (also 32+ characters)"
OLD, BOTH, NEW = CardKeyCipher([A]), CardKeyCipher([B, A]), CardKeyCipher([B])

SEALED_TEXT = {
    "a subject with KEY-AAAA-1111",
    "my mail is li@example.org",
    "a question about KEY-AAAA-1111",
    "redeemed by li@example.org",
    '{"update_id": 7, "text": "KEY-AAAA-1111"}',
}
PLAIN_TEXT = {"an old subject", "old words", "an old question", "an old note"}


async def support_history(uow: UnitOfWorkFactory, clock: FakeClock) -> None:
    """Support text sealed under A, and the plain rows an older version wrote, in every column
    that holds what people type."""
    await ask_for_human(
        uow(),
        user_id=1,
        first_name="",
        text="a subject with KEY-AAAA-1111",
        now=clock.now(),
        cipher=OLD,
    )
    await buyer_wrote(
        uow(), user_id=1, text="my mail is li@example.org", now=clock.now(), cipher=OLD
    )
    await record_question(
        uow(),
        user_id=1,
        language="en",
        action="fallback",
        entry_id=None,
        score=0,
        now=clock.now(),
        text="a question about KEY-AAAA-1111",
        cipher=OLD,
    )
    order = (
        await reserve_keys(
            uow(),
            user_id=1,
            first_name="",
            sku="STEAM-50",
            quantity=2,
            now=clock.now(),
            rules=HoldRules(),
        )
    ).order
    async with uow() as tx:
        [first, second] = (
            await tx.connection.execute(
                select(card_keys.c.id).where(card_keys.c.order_id == order.id)
            )
        ).scalars()
        for key_id, note in (
            (first, OLD.seal("redeemed by li@example.org")),
            (second, "an old note"),
        ):
            case_id = await tx.cases.add(
                user_id=1,
                order_id=order.id,
                card_key_id=key_id,
                reason=CaseReason.ALREADY_REDEEMED,
                created_at=clock.now(),
            )
            await tx.cases.decide(case_id, CaseStatus.DECLINED, clock.now(), decision_note=note)
        await tx.users.ensure(2, "", clock.now())
        old_ticket = await tx.tickets.add(
            user_id=2,
            status=TicketStatus.CLOSED,
            priority=TicketPriority.MERCHANT,
            kind="question",
            subject="an old subject",
            created_at=clock.now(),
        )
        await tx.tickets.add_message(
            ticket_id=old_ticket,
            sender="buyer",
            author_id=2,
            body="old words",
            relayed=True,
            created_at=clock.now(),
        )
        await tx.questions.add(2, "en", "fallback", None, 0, clock.now(), "an old question")
        await tx.connection.execute(
            insert(inbox),
            [
                {
                    "update_id": update_id,
                    "kind": "message",
                    "payload": payload,
                    "status": status,
                    "attempts": 0,
                    "received_at": clock.now(),
                }
                for update_id, payload, status in (
                    (7, OLD.seal('{"update_id": 7, "text": "KEY-AAAA-1111"}'), "pending"),
                    (8, "", "done"),  # handled: its payload was dropped
                )
            ],
        )
        await tx.commit()


async def sealed_values(uow: UnitOfWorkFactory) -> list[str]:
    """Every non-empty value of every sealed column, as stored."""
    found: list[str] = []
    async with uow() as tx:
        for column in SEALED_COLUMNS.values():
            values = (await tx.connection.execute(select(column.value))).scalars()
            found += [value for value in values if value]
    return found


def by_name(rotated: list[Rotated]) -> dict[str, tuple[int, int, int, int]]:
    return {r.name: (r.rewritten, r.was_plain, r.current, r.unreadable) for r in rotated}


async def test_after_a_rotation_only_the_new_passphrase_reads_every_key_and_every_support_text(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, OLD, clock, stock=5)
    await support_history(uow, clock)
    lines: list[str] = []

    rotated = await rotate_passphrases(
        uow, cipher=BOTH, newest=NEW, report=lambda r: lines.append(r.line()), chunk=2
    )

    assert by_name(rotated) == {  # two rows a chunk: most tables took more than one
        "card_keys": (5, 0, 0, 0),
        "ticket_messages.body": (3, 1, 0, 0),
        "tickets.subject": (2, 1, 0, 0),
        "questions.text": (2, 1, 0, 0),
        "cases.decision_note": (2, 1, 0, 0),
        "inbox.payload": (1, 0, 0, 0),
    }
    assert lines[0] == "card_keys: 5 rewritten, 0 already current, 0 unreadable"
    assert (
        lines[2]
        == "tickets.subject: 2 rewritten (1 from plain text), 0 already current, 0 unreadable"
    )
    async with uow() as tx:
        tokens = (await tx.connection.execute(select(card_keys.c.ciphertext))).scalars().all()
        [emptied] = (
            await tx.connection.execute(select(inbox.c.payload).where(inbox.c.update_id == 8))
        ).scalars()
    assert sorted(NEW.decrypt(token) for token in tokens) == sorted(stocked)
    opened = {NEW.open(value) for value in await sealed_values(uow)}
    assert opened >= SEALED_TEXT | PLAIN_TEXT and emptied == ""
    with pytest.raises(ImportRefused) as refused:  # the same keys again, under B alone
        await stocked_shop(uow, NEW, clock, stock=5)
    summary = refused.value.summary
    assert isinstance(summary, ImportSummary)
    assert [r.reason for r in summary.refused] == [ALREADY_IN_STOCK] * len(stocked)


async def test_a_second_rotation_finds_everything_current_and_writes_nothing(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await stocked_shop(uow, OLD, clock, stock=3)
    await support_history(uow, clock)
    await rotate_passphrases(uow, cipher=BOTH, newest=NEW)
    before = await sealed_values(uow)

    again = await rotate_passphrases(uow, cipher=BOTH, newest=NEW)

    assert all(r.rewritten == 0 and r.unreadable == 0 for r in again)
    assert by_name(again)["card_keys"] == (0, 0, 3, 0)
    assert await sealed_values(uow) == before


async def test_text_under_a_passphrase_not_given_is_left_as_it_is_and_reported(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await stocked_shop(uow, OLD, clock, stock=2)
    lost = CardKeyCipher(["a passphrase nobody configured any more, 32+"])
    await ask_for_human(
        uow(), user_id=1, first_name="", text="sealed long ago", now=clock.now(), cipher=lost
    )

    rotated = by_name(await rotate_passphrases(uow, cipher=CardKeyCipher([B]), newest=NEW))

    assert rotated["card_keys"] == (0, 0, 0, 2)  # A was left out: its keys cannot be read
    assert rotated["tickets.subject"] == (0, 0, 0, 1)
    assert rotated["ticket_messages.body"] == (0, 0, 0, 1)
    assert {lost.open(value) for value in await sealed_values(uow)} == {"sealed long ago"}


def test_the_command_rotates_and_prints_a_line_a_table(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rotate.sqlite3'}"
    clock = FakeClock()

    async def shop_under_a() -> list[str]:
        engine = create_engine(url)
        await upgrade(engine)
        stocked = await stocked_shop(UnitOfWorkFactory(engine), OLD, clock, stock=2)
        await record_question(
            UnitOfWorkFactory(engine)(),
            user_id=1,
            language="en",
            action="fallback",
            entry_id=None,
            score=0,
            now=clock.now(),
            text="KEY-AAAA-1111?",
            cipher=OLD,
        )
        await engine.dispose()
        return stocked

    async def read_with_b_alone() -> tuple[list[str], list[str]]:
        engine = create_engine(url)
        uow = UnitOfWorkFactory(engine)
        async with uow() as tx:
            tokens = (await tx.connection.execute(select(card_keys.c.ciphertext))).scalars()
            keys = sorted(NEW.decrypt(token) for token in tokens)
        texts = [NEW.open(value) for value in await sealed_values(uow)]
        await engine.dispose()
        return keys, texts

    stocked = asyncio.run(shop_under_a())
    environ = {"DATABASE_URL": url, "CARD_KEY_SECRET": f"{B},{A}", "LOG_LEVEL": "WARNING"}
    out = io.StringIO()

    assert main(["keys", "rotate"], environ, out) == 0

    assert out.getvalue().splitlines() == [
        "card_keys: 2 rewritten, 0 already current, 0 unreadable",
        "ticket_messages.body: 0 rewritten, 0 already current, 0 unreadable",
        "tickets.subject: 0 rewritten, 0 already current, 0 unreadable",
        "questions.text: 1 rewritten, 0 already current, 0 unreadable",
        "cases.decision_note: 0 rewritten, 0 already current, 0 unreadable",
        "inbox.payload: 0 rewritten, 0 already current, 0 unreadable",
    ]
    assert asyncio.run(read_with_b_alone()) == (sorted(stocked), ["KEY-AAAA-1111?"])


def test_the_command_fails_while_anything_is_left_that_the_passphrases_given_cannot_read(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rotate.sqlite3'}"

    async def shop_under_a() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await stocked_shop(UnitOfWorkFactory(engine), OLD, FakeClock(), stock=1)
        await engine.dispose()

    asyncio.run(shop_under_a())
    out = io.StringIO()
    environ = {"DATABASE_URL": url, "CARD_KEY_SECRET": B, "LOG_LEVEL": "WARNING"}

    assert main(["keys", "rotate"], environ, out) == 1

    assert "card_keys: 0 rewritten, 0 already current, 1 unreadable" in out.getvalue()
    assert "keep the passphrase that reads them" in out.getvalue()


def test_the_rotation_walks_every_sealed_column_and_knows_how_long_a_token_may_be() -> None:
    assert set(rotation.SEALED_TEXT) == set(SEALED_COLUMNS)
    for name, room in rotation.SEALED_TEXT.items():
        assert getattr(SEALED_COLUMNS[name].value.type, "length", None) == room, name
