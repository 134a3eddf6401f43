"""Retiring a passphrase: card keys and sealed support text, moved under the newest passphrase.

In short transactions of `CHUNK` rows in id order, so the shop keeps running meanwhile (it must
already hold the new passphrase first); a row the shop changed since it was read keeps what the
shop wrote. A second run finds everything current and writes nothing, so a run that stopped
half-way is simply run again. (The SQL is here, not in a repository, because it walks five
tables alike by their columns.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, Table, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import card_keys, cases, inbox, questions, ticket_messages, tickets
from store.adapters.unit_of_work import SqlUnitOfWork
from store.services.sealing import SEALED, seal_text

CHUNK = 500


@dataclass(frozen=True)
class Rotated:
    """What one table (or sealed column) looked like to a rotation."""

    name: str
    rewritten: int = 0
    """Moved under the newest passphrase (for sealed text, including `was_plain`)."""
    was_plain: int = 0
    """Rows written before support text was sealed, now sealed."""
    current: int = 0
    """Already under the newest passphrase: left as they were."""
    unreadable: int = 0
    """Under none of the passphrases given: left as they were (keep the passphrase that reads
    them)."""

    def line(self) -> str:
        plain = f" ({self.was_plain} from plain text)" if self.was_plain else ""
        return (
            f"{self.name}: {self.rewritten} rewritten{plain}, {self.current} already current, "
            f"{self.unreadable} unreadable"
        )


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed text and the key to walk it by."""

    name: str
    key: Column[int]
    value: Column[str]

    @property
    def room(self) -> int | None:
        """How long a token may be: the column's length (None: Text, any length)."""
        length = getattr(self.value.type, "length", None)
        return int(length) if length is not None else None

    @property
    def table(self) -> Table:
        table = self.value.table
        assert isinstance(table, Table)
        return table


SEALED_COLUMNS = (
    SealedColumn("ticket_messages.body", ticket_messages.c.id, ticket_messages.c.body),
    SealedColumn("tickets.subject", tickets.c.id, tickets.c.subject),
    SealedColumn("questions.text", questions.c.id, questions.c.text),
    SealedColumn("cases.decision_note", cases.c.id, cases.c.decision_note),
    SealedColumn("inbox.payload", inbox.c.update_id, inbox.c.payload),
)

NewUnitOfWork = Callable[[], SqlUnitOfWork]
Report = Callable[[Rotated], None]


async def rotate_passphrases(
    new_uow: NewUnitOfWork,
    *,
    cipher: CardKeyCipher,
    newest: CardKeyCipher,
    report: Report | None = None,
    chunk: int = CHUNK,
) -> list[Rotated]:
    """Every card key and every sealed column, under the newest passphrase; one summary each.

    `cipher` holds every passphrase, newest first; `newest` only the first, to tell what is
    already under it. Once this has run with no row unreadable, the older passphrases may go.
    """
    done = [await rotate_card_keys(new_uow, cipher=cipher, newest=newest, chunk=chunk)]
    if report:
        report(done[-1])
    for column in SEALED_COLUMNS:
        done.append(await reseal_column(new_uow, column, cipher=cipher, newest=newest, chunk=chunk))
        if report:
            report(done[-1])
    return done


async def rotate_card_keys(
    new_uow: NewUnitOfWork, *, cipher: CardKeyCipher, newest: CardKeyCipher, chunk: int = CHUNK
) -> Rotated:
    """Each key re-encrypted and re-fingerprinted under the newest passphrase.

    The fingerprint moves too, so that a re-import is still refused once only the newest
    passphrase is left (a new key is checked against fingerprints under the passphrases given).
    """
    rewritten = current = unreadable = 0
    after = -1
    while True:
        async with new_uow() as uow:
            rows = (
                await uow.connection.execute(
                    select(card_keys.c.id, card_keys.c.ciphertext, card_keys.c.fingerprint)
                    .where(card_keys.c.id > after)
                    .order_by(card_keys.c.id)
                    .limit(chunk)
                )
            ).all()
            if not rows:
                break
            for key_id, token, fingerprint in rows:
                try:
                    plain = cipher.decrypt(token)
                except InvalidToken:
                    unreadable += 1
                    continue
                moved = cipher.fingerprint(plain)
                if moved == fingerprint and _opens(newest, token):
                    current += 1
                    continue
                result = await uow.connection.execute(
                    update(card_keys)
                    .where(and_(card_keys.c.id == key_id, card_keys.c.ciphertext == token))
                    .values(ciphertext=cipher.rotate(token), fingerprint=moved)
                )
                rewritten += result.rowcount
            await uow.commit()
        after = rows[-1][0]
    return Rotated("card_keys", rewritten, 0, current, unreadable)


async def reseal_column(
    new_uow: NewUnitOfWork,
    column: SealedColumn,
    *,
    cipher: CardKeyCipher,
    newest: CardKeyCipher,
    chunk: int = CHUNK,
) -> Rotated:
    """Each non-empty value sealed under the newest passphrase, plain text from before too.

    A value that looks sealed but opens under none of the passphrases is left alone and
    counted: sealing it again would bury it for good.
    """
    rewritten = was_plain = current = unreadable = 0
    after = -1
    while True:
        async with new_uow() as uow:
            rows = await _chunk(uow.connection, column, after, chunk)
            if not rows:
                break
            for key, stored in rows:
                if stored.startswith(SEALED) and _opens(newest, stored):
                    current += 1
                    continue
                if stored.startswith(SEALED):
                    try:
                        resealed = cipher.rotate(stored)
                    except InvalidToken:
                        unreadable += 1
                        continue
                    plain = False
                else:
                    resealed, plain = seal_text(cipher, stored, column.room), True
                result = await uow.connection.execute(
                    update(column.table)
                    .where(and_(column.key == key, column.value == stored))
                    .values({column.value.name: resealed})
                )
                rewritten += result.rowcount
                was_plain += result.rowcount if plain else 0
            await uow.commit()
        after = rows[-1][0]
    return Rotated(column.name, rewritten, was_plain, current, unreadable)


async def _chunk(
    connection: AsyncConnection, column: SealedColumn, after: int, limit: int
) -> list[tuple[int, str]]:
    rows = await connection.execute(
        select(column.key, column.value)
        .where(and_(column.key > after, column.value.is_not(None), column.value != ""))
        .order_by(column.key)
        .limit(limit)
    )
    return [(int(key), str(value)) for key, value in rows]


def _opens(cipher: CardKeyCipher, token: str) -> bool:
    try:
        cipher.open(token)
    except InvalidToken:
        return False
    return True
