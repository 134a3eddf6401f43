"""Retiring a passphrase: card keys and sealed support text, moved under the newest passphrase.

In short transactions of `CHUNK` rows in id order, so the shop keeps running meanwhile (it must
already hold the new passphrase first); a row the shop changed since it was read keeps what the
shop wrote. A second run finds everything current and writes nothing, so a run that stopped
half-way is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from store.domain.errors import UnreadableToken
from store.services.ports import KeyCipher, NewUnitOfWork
from store.services.sealing import SEALED, SUBJECT_ROOM, seal_text

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


SEALED_TEXT: dict[str, int | None] = {
    "ticket_messages.body": None,
    "tickets.subject": SUBJECT_ROOM,
    "questions.text": None,
    "cases.decision_note": None,
    "inbox.payload": None,
}
"""Everywhere what people type is kept sealed, and how long a token may be there (None: any)."""

Report = Callable[[Rotated], None]


async def rotate_passphrases(
    new_uow: NewUnitOfWork,
    *,
    cipher: KeyCipher,
    newest: KeyCipher,
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
    for column, room in SEALED_TEXT.items():
        done.append(
            await reseal_column(new_uow, column, room, cipher=cipher, newest=newest, chunk=chunk)
        )
        if report:
            report(done[-1])
    return done


async def rotate_card_keys(
    new_uow: NewUnitOfWork, *, cipher: KeyCipher, newest: KeyCipher, chunk: int = CHUNK
) -> Rotated:
    """Each key re-encrypted and re-fingerprinted under the newest passphrase.

    The fingerprint moves too, so that a re-import is still refused once only the newest
    passphrase is left (a new key is checked against fingerprints under the passphrases given).
    """
    rewritten = current = unreadable = 0
    after = -1
    while True:
        async with new_uow() as uow:
            rows = await uow.sealed.card_keys_after(after, chunk)
            if not rows:
                break
            for key_id, token, fingerprint in rows:
                try:
                    plain = cipher.decrypt(token)
                except UnreadableToken:
                    unreadable += 1
                    continue
                moved = cipher.fingerprint(plain)
                if moved == fingerprint and _opens(newest, token):
                    current += 1
                    continue
                rewritten += await uow.sealed.replace_card_key(
                    key_id, token, ciphertext=cipher.rotate(token), fingerprint=moved
                )
            await uow.commit()
        after = rows[-1][0]
    return Rotated("card_keys", rewritten, 0, current, unreadable)


async def reseal_column(
    new_uow: NewUnitOfWork,
    column: str,
    room: int | None = None,
    *,
    cipher: KeyCipher,
    newest: KeyCipher,
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
            rows = await uow.sealed.sealed_after(column, after, chunk)
            if not rows:
                break
            for key, stored in rows:
                if stored.startswith(SEALED) and _opens(newest, stored):
                    current += 1
                    continue
                if stored.startswith(SEALED):
                    try:
                        resealed = cipher.rotate(stored)
                    except UnreadableToken:
                        unreadable += 1
                        continue
                    plain = False
                else:
                    resealed, plain = seal_text(cipher, stored, room), True
                changed = await uow.sealed.replace_sealed(column, key, stored, resealed)
                rewritten += changed
                was_plain += changed and plain
            await uow.commit()
        after = rows[-1][0]
    return Rotated(column, rewritten, was_plain, current, unreadable)


def _opens(cipher: KeyCipher, token: str) -> bool:
    try:
        cipher.open(token)
    except UnreadableToken:
        return False
    return True
