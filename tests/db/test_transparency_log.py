"""The transparency log on SQLite and PostgreSQL: every key event is an entry, checkpoints are
signed only over a consistent tree, `trace audit` names a tampered row, and `trace verify`
checks a receipt offline and refuses a forged one."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from bot.cli import main
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import card_key_events, card_keys, tlog_checkpoints
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import OutOfStock
from store.domain.model import Order
from store.domain.order import HoldRules
from store.domain.provenance import entry_leaf, key_commitment, parse_entry
from store.domain.signed_note import Signer
from store.services.order import expire_reservations, reserve_keys
from store.services.provenance import (
    LogInconsistent,
    backfill_provenance,
    receipt_for,
    sign_checkpoint,
    trace_key,
)
from store.services.reveal import reveal_keys
from tests.conftest import FakeClock
from tests.factories import paid_order, stocked_shop

ORIGIN = "kamibot.test/log"
SIGNER = Signer(ORIGIN, bytes(range(32)))


def environ_for(engine: AsyncEngine, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CARD_KEY_SECRET": "test passphrase that is long enough for kamibot!",
        "TRACE_SIGNING_KEY": str(SIGNER),
        "TRACE_ORIGIN": ORIGIN,
        "TRACE_CHECKPOINT_FILE": str(tmp_path / "checkpoints.txt"),
        "LOG_LEVEL": "WARNING",
    }


async def cli(environ: dict[str, str], *argv: str) -> tuple[int, str]:
    """`python -m bot …` in a thread of its own: it runs its own event loop."""
    out = io.StringIO()
    code = await asyncio.to_thread(main, list(argv), environ, out)
    return code, out.getvalue()


async def sold_and_revealed(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> Order:
    """Five keys imported, one of them bought, paid and revealed: 5 + 3 events."""
    order = await paid_order(uow, cipher, clock, stock=5)
    await reveal_keys(
        uow(), user_id=order.user_id, order_id=order.id, cipher=cipher, now=clock.now()
    )
    return order


async def test_every_key_event_is_an_entry_linked_to_the_keys_previous_one(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, engine: AsyncEngine
) -> None:
    order = await sold_and_revealed(uow, cipher, clock)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(card_key_events.c.entry, card_key_events.c.leaf_hash)
                .join(card_keys, card_keys.c.id == card_key_events.c.card_key_id)
                .where(card_keys.c.order_id == order.id)
                .order_by(card_key_events.c.id)
            )
        ).all()
        head = (
            await connection.execute(
                select(card_keys.c.log_head).where(card_keys.c.order_id == order.id)
            )
        ).scalar_one()
    entries = [parse_entry(r.entry) for r in rows]
    assert [e["event"] for e in entries] == ["imported", "reserved", "sold", "revealed"]
    assert entries[0]["prev"] is None and entries[0]["order"] is None
    assert [e["prev"] for e in entries[1:]] == [r.leaf_hash for r in rows[:-1]]
    assert all(r.leaf_hash == entry_leaf(r.entry) for r in rows) and head == rows[-1].leaf_hash
    assert len({e["order"] for e in entries[1:]}) == 1  # one order, one commitment, no id
    assert all(str(order.user_id) not in r.entry and "STEAM-50-0" not in r.entry for r in rows)


async def test_a_checkpoint_numbers_every_entry_contiguously_and_the_audit_passes(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    await sold_and_revealed(uow, cipher, clock)
    environ = environ_for(engine, tmp_path)
    code, note = await cli(environ, "trace", "checkpoint")
    assert code == 0 and note.startswith(f"{ORIGIN}\n8\n")
    assert (tmp_path / "checkpoints.txt").read_text() == note + "\n"
    async with engine.connect() as connection:
        seqs = (
            await connection.execute(select(card_key_events.c.seq).order_by(card_key_events.c.id))
        ).scalars()
        assert list(seqs) == list(range(8))
    assert await cli(environ, "trace", "checkpoint") == (0, "no new entries\n" + note)
    code, report = await cli(environ, "trace", "audit")
    assert code == 0, report
    assert "entries: 8, checkpoints checked: 1" in report and "OK" in report


EVENTS = card_key_events.c
TAMPERING: dict[str, tuple[list[Executable], str]] = {
    "event edited": (
        [update(card_key_events).where(EVENTS.seq == 6).values(event="bad")],
        "index 6",
    ),
    "entry edited": (
        [
            update(card_key_events)
            .where(EVENTS.seq == 6)
            .values(entry=func.replace(EVENTS.entry, "sold", "bad"))
        ],
        "index 6",
    ),
    "row deleted": ([card_key_events.delete().where(EVENTS.seq == 5)], "index 5: missing"),
    "rows reordered": (  # through spare indices: the unique index would refuse a direct swap
        [
            update(card_key_events).where(EVENTS.seq == 5).values(seq=-1),
            update(card_key_events).where(EVENTS.seq == 6).values(seq=5),
            update(card_key_events).where(EVENTS.seq == -1).values(seq=6),
        ],
        "index 5",
    ),
}


@pytest.mark.parametrize("tampering", [*TAMPERING, "time edited"])
async def test_trace_audit_names_the_index_of_a_row_tampered_with(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    engine: AsyncEngine,
    tmp_path: Path,
    tampering: str,
) -> None:
    await sold_and_revealed(uow, cipher, clock)
    environ = environ_for(engine, tmp_path)
    assert (await cli(environ, "trace", "checkpoint"))[0] == 0
    moved = update(card_key_events).where(EVENTS.seq == 3).values(at=clock.advance(seconds=1))
    statements, named = TAMPERING.get(tampering, ([moved], "index 3"))
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(statement)
    code, report = await cli(environ, "trace", "audit")
    assert code == 1, report
    assert f"ANOMALY {named}" in report
    if tampering not in ("time edited", "event edited"):  # a column only: the tree holds
        assert "checkpoint 8:" in report  # the signed root no longer holds either


async def test_an_entry_inserted_at_the_end_breaks_its_keys_chain_and_is_named(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    order = await sold_and_revealed(uow, cipher, clock)
    environ = environ_for(engine, tmp_path)
    assert (await cli(environ, "trace", "checkpoint"))[0] == 0
    async with engine.connect() as connection:
        key = (
            await connection.execute(select(card_keys).where(card_keys.c.order_id == order.id))
        ).one()
    forged = json.dumps(
        {
            "v": 1,
            "trace": key.trace_code,
            "event": "sold",
            "sku": key.sku,
            "batch": key.batch_id,
            "time": "2026-11-25T12:00:00.000000Z",
            "prev": None,
            "key": key.key_commitment,
            "order": None,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    async with engine.begin() as connection:
        await connection.execute(
            card_key_events.insert().values(
                card_key_id=key.id,
                event="sold",
                at=clock.now(),
                entry=forged,
                leaf_hash=entry_leaf(forged),
                seq=8,
            )
        )
    code, report = await cli(environ, "trace", "audit")
    assert code == 1 and "ANOMALY index 8" in report and "link to the key's previous" in report


async def test_the_log_never_signs_a_checkpoint_inconsistent_with_the_last(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, engine: AsyncEngine
) -> None:
    await sold_and_revealed(uow, cipher, clock)
    first = await sign_checkpoint(uow, SIGNER, ORIGIN, clock.now())
    forged = entry_leaf('{"forged":true}')
    async with engine.begin() as connection:
        await connection.execute(
            update(card_key_events).where(EVENTS.seq == 2).values(leaf_hash=forged)
        )
    await stocked_shop(uow, cipher, clock, sku="GIFT-10", stock=2)  # two entries more to sign
    with pytest.raises(LogInconsistent, match="no longer hash"):
        await sign_checkpoint(uow, SIGNER, ORIGIN, clock.now())
    async with engine.connect() as connection:
        notes = (await connection.execute(select(tlog_checkpoints.c.note))).scalars().all()
    assert notes == [first]


async def test_a_receipt_verifies_offline_with_and_without_the_key_and_forgeries_are_refused(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    order = await sold_and_revealed(uow, cipher, clock)
    trace_code = (await trace_codes(engine, order.id))[0]
    receipt = await receipt_for(
        uow, code=trace_code.lower(), signer=SIGNER, origin=ORIGIN, now=clock.now()
    )
    assert receipt is not None and receipt.startswith("c2sp.org/tlog-proof@v1\nextra ")
    offline = {"CARD_KEY_SECRET": "x" * 40, "LOG_LEVEL": "WARNING"}  # no database, no signing key
    path = tmp_path / "key.tlog-proof"
    path.write_text(receipt)
    vkey = str(SIGNER.verifier)
    code, said = await cli(offline, "trace", "verify", str(path), "--vkey", vkey)
    assert code == 0 and "OK: revealed of" in said and "not checked" in said
    code, said = await cli(
        offline, "trace", "verify", str(path), "--vkey", vkey, "--key", "STEAM-50-000000"
    )
    assert code == 0 and "the card key matches" in said

    async def refused(forged: str, *extra: str, vkey: str = vkey) -> tuple[int, str]:
        path.write_text(forged)
        return await cli(offline, "trace", "verify", str(path), "--vkey", vkey, *extra)

    extra = receipt.split("\n")[1].removeprefix("extra ")
    opened = json.loads(base64.b64decode(extra))
    opened["entry"] = opened["entry"].replace("revealed", "refunded")
    changed = base64.b64encode(json.dumps(opened).encode()).decode()
    code, said = await refused(receipt.replace(extra, changed))
    assert code == 1 and "REFUSED: the entry is not in the signed tree" in said
    code, said = await refused(receipt, "--key", "STEAM-50-000001")
    assert code == 1 and "REFUSED: the entry is of another key" in said
    other = str(Signer(ORIGIN, bytes(32)).verifier)
    code, said = await refused(receipt, vkey=other)
    assert code == 1 and "REFUSED: the checkpoint's signature does not hold" in said
    lines = receipt.split("\n")
    signature = lines[-2]
    flipped = signature[:-6] + ("A" if signature[-6] != "A" else "B") + signature[-5:]
    code, said = await refused(receipt.replace(signature, flipped))
    assert code == 1 and "REFUSED" in said


async def trace_codes(engine: AsyncEngine, order_id: int) -> list[str]:
    async with engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    select(card_keys.c.trace_code).where(card_keys.c.order_id == order_id)
                )
            ).scalars()
        )


async def test_a_trace_shows_the_keys_history_and_the_order_only_to_its_owner(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, engine: AsyncEngine
) -> None:
    order = await sold_and_revealed(uow, cipher, clock)
    code = (await trace_codes(engine, order.id))[0]
    typed = code.replace("-", " ").lower().replace("0", "o")
    owner = await trace_key(uow, code=typed, viewer_id=order.user_id)
    assert owner is not None and owner.trace_code == code and owner.sku == "STEAM-50"
    assert [e.event for e in owner.events] == ["imported", "reserved", "sold", "revealed"]
    assert owner.sold_times == 1 and owner.own_order_reference == order.reference
    assert owner.supplier_public_name and not owner.signed and not owner.has_proof
    stranger = await trace_key(uow, code=code, viewer_id=order.user_id + 1)
    assert stranger is not None and stranger.own_order_reference is None
    assert await trace_key(uow, code="ZZZZ-ZZZZ-ZZZZ", viewer_id=None) is None
    assert await trace_key(uow, code="not a code", viewer_id=None) is None


async def test_keys_from_before_trace_codes_are_given_them_with_their_history_in_order(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    order = await sold_and_revealed(uow, cipher, clock)
    async with engine.begin() as connection:  # what migration 0013 leaves of earlier stock
        await connection.execute(
            update(card_keys).values(
                trace_code=None, trace_salt=None, key_commitment=None, log_head=None
            )
        )
        await connection.execute(
            update(card_key_events).values(entry=None, leaf_hash=None, seq=None)
        )
    assert await backfill_provenance(uow, cipher, clock.now()) == 5
    assert await backfill_provenance(uow, cipher, clock.now()) == 0
    async with engine.connect() as connection:
        key = (
            await connection.execute(select(card_keys).where(card_keys.c.order_id == order.id))
        ).one()
        rows = (
            await connection.execute(
                select(card_key_events.c.entry, card_key_events.c.at)
                .where(card_key_events.c.card_key_id == key.id)
                .order_by(card_key_events.c.id)
            )
        ).all()
        unlogged = (
            await connection.execute(select(func.count()).where(card_key_events.c.entry.is_(None)))
        ).scalar_one()
    assert unlogged == 0 and key.key_commitment == key_commitment(key.trace_salt, "STEAM-50-000000")
    assert [parse_entry(r.entry)["event"] for r in rows] == [
        "imported",
        "reserved",
        "sold",
        "revealed",
    ]
    code, report = await cli(environ_for(engine, tmp_path), "trace", "audit")
    assert code == 0, report


async def test_racing_buyers_leave_one_unforked_chain_per_key_that_the_audit_passes(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=10)
    rules = HoldRules(minutes=15, max_open=3)

    async def buy(user_id: int) -> None:
        with contextlib.suppress(OutOfStock):
            await reserve_keys(
                uow(),
                user_id=user_id,
                first_name="",
                sku="STEAM-50",
                quantity=1,
                now=clock.now(),
                rules=rules,
            )

    await asyncio.gather(*(buy(user_id) for user_id in range(1, 21)))
    await sign_checkpoint(uow, SIGNER, ORIGIN, clock.now())  # half-way: a checkpoint to extend
    clock.advance(minutes=16)
    await expire_reservations(uow(), now=clock.now())  # every hold lapses: released, in parallel
    await asyncio.gather(*(buy(user_id) for user_id in range(21, 41)))
    code, report = await cli(environ_for(engine, tmp_path), "trace", "checkpoint")
    assert code == 0 and report.startswith(
        f"{ORIGIN}\n40\n"
    )  # 10 x imported, reserved, released, reserved
    code, report = await cli(environ_for(engine, tmp_path), "trace", "audit")
    assert code == 0, report
    assert "entries: 40, checkpoints checked: 2" in report


def test_the_verifier_key_is_printed_and_a_missing_signing_key_is_one_line(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    keyed = {**environ, "TRACE_SIGNING_KEY": str(SIGNER), "TRACE_ORIGIN": ORIGIN}
    assert main(["trace", "pubkey"], keyed, out) == 0
    assert out.getvalue() == f"{SIGNER.verifier}\n"
    seed = base64.b64encode(SIGNER.seed).decode()
    out = io.StringIO()
    assert main(["trace", "pubkey"], {**keyed, "TRACE_SIGNING_KEY": seed}, out) == 0
    assert out.getvalue() == f"{SIGNER.verifier}\n"
    assert main(["trace", "checkpoint"], environ, io.StringIO()) == 1
    assert capsys.readouterr().err == "error: Setting TRACE_SIGNING_KEY is not set\n"
    assert main(["trace", "pubkey"], {**keyed, "TRACE_ORIGIN": "other.example/log"}) == 1
    assert "TRACE_ORIGIN is other.example/log" in capsys.readouterr().err
