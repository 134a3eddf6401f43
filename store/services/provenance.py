"""The transparency log's use cases: signing checkpoints, tracing a key, its receipt, the audit,
and giving keys imported before trace codes their provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.domain.merkle import inclusion_proof
from store.domain.outbox import CheckpointSigned
from store.domain.provenance import (
    CompactRange,
    KeyTrace,
    LogAudit,
    StoredCheckpoint,
    format_receipt,
    new_provenance,
    parse_trace_code,
)
from store.domain.signed_note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    format_checkpoint,
    open_note,
    parse_checkpoint,
    sign_note,
)
from store.services.ports import KeyCipher, NewUnitOfWork, UnitOfWork

READ_CHUNK = 50_000
"""Leaves read per query when the tree is hashed: a million-entry log in twenty queries."""
BACKFILL_CHUNK = 200


class LogInconsistent(Exception):
    """The log no longer extends its last signed checkpoint: it will not sign again until an
    auditor has looked (`python -m bot trace audit` says where)."""


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    note: str
    fresh: bool
    """Signed by this call; False when no entry came since the last checkpoint."""


@dataclass(frozen=True)
class AuditReport:
    size: int
    checkpoints: int
    """Checkpoints whose root was recomputed and compared."""
    pending: int
    """Entries written but not yet given an index."""
    unlogged: int
    """Events of keys from before trace codes, waiting for `backfill_provenance`."""
    anomalies: tuple[str, ...]


async def sign_checkpoint(
    new_uow: NewUnitOfWork, signer: Signer, origin: str, now: datetime
) -> str:
    """Number the entries written since, and sign the tree's head as a checkpoint; the note.

    Refuses (LogInconsistent) if the tree is not an extension of the last checkpoint signed."""
    return (await publishable_checkpoint(new_uow, signer, origin, now)).note


async def publishable_checkpoint(
    new_uow: NewUnitOfWork,
    signer: Signer,
    origin: str,
    now: datetime,
    *,
    channel: int | None = None,
) -> SignedCheckpoint:
    """`sign_checkpoint`, saying whether the checkpoint is new; a new one is also queued for
    `channel` (through the outbox, in the transaction that stores it).

    Three short transactions, so the sequencer's lock is never held while the tree is hashed:
    number the new entries; hash the tree (numbered entries never change); store the
    checkpoint unless another signer stored one meanwhile."""
    async with new_uow() as uow:
        await uow.transparency_log.lock(now)
        size = await uow.transparency_log.sequence(now)
        last = await uow.transparency_log.latest_checkpoint()
        await uow.commit()
    if last is not None and last.size == size:
        return SignedCheckpoint(last.size, last.note, fresh=False)
    if last is not None:
        _check_stored(last, signer.verifier, origin)
        if last.size > size:
            raise LogInconsistent(f"the log holds {size} entries, but {last.size} were signed")
    async with new_uow().reading() as uow:
        root, prefix = await _tree_head(uow, size, last.size if last else None)
    if last is not None and prefix != last.root_hash:
        raise LogInconsistent(
            f"the log's first {last.size} entries no longer hash to the root signed for them"
        )
    note = sign_note(format_checkpoint(Checkpoint(origin, size, bytes.fromhex(root))), signer)
    async with new_uow() as uow:
        await uow.transparency_log.lock(now)
        latest = await uow.transparency_log.latest_checkpoint()
        if latest is not None and latest.size >= size:  # another signer was quicker
            return SignedCheckpoint(latest.size, latest.note, fresh=False)
        await uow.transparency_log.add_checkpoint(size, root, note, now)
        if channel is not None:
            await uow.outbox.add(CheckpointSigned(note), channel, f"checkpoint:{size}", now)
        await uow.commit()
    return SignedCheckpoint(size, note, fresh=True)


def _check_stored(stored: StoredCheckpoint, verifier: Verifier, origin: str) -> None:
    try:
        checkpoint = parse_checkpoint(open_note(stored.note, [verifier]))
    except NoteError as error:
        raise LogInconsistent(f"the last checkpoint's signature fails: {error}") from None
    if (checkpoint.origin, checkpoint.size, checkpoint.root_hash.hex()) != (
        origin,
        stored.size,
        stored.root_hash,
    ):
        raise LogInconsistent("the last checkpoint's row differs from its signed note")


async def _tree_head(uow: UnitOfWork, size: int, also_at: int | None) -> tuple[str, str | None]:
    """The head of the tree of `size` leaves, and of its prefix of `also_at` leaves, streaming."""
    compact = CompactRange()
    prefix = compact.root().hex() if also_at == 0 else None
    for start in range(0, size, READ_CHUNK):
        leaves = await uow.transparency_log.leaf_hashes(start, min(start + READ_CHUNK, size))
        if len(leaves) != min(READ_CHUNK, size - start):
            raise LogInconsistent(f"leaves are missing between {start} and {start + READ_CHUNK}")
        for leaf in leaves:
            compact.append(leaf)
            if compact.size == also_at:
                prefix = compact.root().hex()
    return compact.root().hex(), prefix


async def trace_key(new_uow: NewUnitOfWork, *, code: str, viewer_id: int | None) -> KeyTrace | None:
    """What the log shows of the key with this trace code (typed any way), or None."""
    trace_code = parse_trace_code(code)
    if trace_code is None:
        return None
    async with new_uow().reading() as uow:
        return await uow.transparency_log.trace(trace_code, viewer_id)


async def receipt_for(
    new_uow: NewUnitOfWork, *, code: str, signer: Signer, origin: str, now: datetime
) -> str | None:
    """The receipt (c2sp.org/tlog-proof) of the key's latest entry, or None for an unknown
    code; a fresh checkpoint is signed first if the latest one does not cover the entry."""
    trace_code = parse_trace_code(code)
    if trace_code is None:
        return None
    async with new_uow().reading() as uow:
        head = await uow.transparency_log.head_entry(trace_code)
        if head is None:
            return None
        event_id, entry, salt = head
        index = await uow.transparency_log.index_of(event_id)
        checkpoint = await uow.transparency_log.latest_checkpoint()
    if index is None or checkpoint is None or checkpoint.size <= index:
        await sign_checkpoint(new_uow, signer, origin, now)
    async with new_uow().reading() as uow:
        index = await uow.transparency_log.index_of(event_id)
        checkpoint = await uow.transparency_log.latest_checkpoint()
        assert index is not None and checkpoint is not None and index < checkpoint.size
        leaves: list[bytes] = []
        for start in range(0, checkpoint.size, READ_CHUNK):
            end = min(start + READ_CHUNK, checkpoint.size)
            leaves += await uow.transparency_log.leaf_hashes(start, end)
    return format_receipt(entry, salt, index, inclusion_proof(index, leaves), checkpoint.note)


async def audit_log(new_uow: NewUnitOfWork, verifier: Verifier) -> AuditReport:
    """Recompute the tree from the database and check it against every stored checkpoint and
    itself (see LogAudit); the anomalies, each naming its index."""
    async with new_uow().reading() as uow:
        log = uow.transparency_log
        audit = LogAudit(await log.checkpoints(), verifier)
        size = await log.size()
        for start in range(0, size, READ_CHUNK):
            for row in await log.audit_rows(start, start + READ_CHUNK):
                audit.add(row)
        pending = await log.pending_rows()
        for row in pending:
            audit.add_pending(row)
        unlogged = await log.unlogged_count()
    anomalies = audit.finish()
    return AuditReport(audit.size, audit.checked, len(pending), unlogged, tuple(anomalies))


async def backfill_provenance(new_uow: NewUnitOfWork, cipher: KeyCipher, now: datetime) -> int:
    """Give keys imported before trace codes a code, salt and commitment (decrypting each),
    and log their events so far in order, each at its own time; how many keys."""
    done = 0
    while True:
        async with new_uow() as uow:
            keys = await uow.transparency_log.keys_without_provenance(BACKFILL_CHUNK)
            for key_id, ciphertext in keys:
                provenance = new_provenance(cipher.decrypt(ciphertext))
                await uow.transparency_log.give_provenance(key_id, provenance)
            await uow.commit()
        done += len(keys)
        if len(keys) < BACKFILL_CHUNK:
            return done
