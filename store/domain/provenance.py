"""A card key's provenance: its trace code, the salted commitments that stand in for the key and
its orders, the transparency-log entry of each event, and the receipt (c2sp.org/tlog-proof)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store.domain.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    InvalidProof,
    leaf_hash,
    node_hash,
    verify_inclusion,
)
from store.domain.signed_note import (
    MalformedNote,
    NoteError,
    Signer,
    Verifier,
    open_note,
    parse_checkpoint,
)

ENTRY_VERSION = 1
TRACE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives."""
TRACE_LENGTH = 12
"""Characters in a trace code: 60 random bits, too many to guess one that exists."""
SALT_BYTES = 16
RECEIPT_HEADER = "c2sp.org/tlog-proof@v1"
LOG_NAME = "tlog"
"""The `checkpoints` row the sequencer locks while it numbers entries."""

_KEY_PREFIX = b"kamibot key v1\n"
_ORDER_PREFIX = b"kamibot order v1\n"
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_INDEX = re.compile(r"0|[1-9][0-9]*")


class ReceiptRefused(ValueError):
    """A receipt that does not prove what it says: the message says which check failed."""


@dataclass(frozen=True)
class KeyProvenance:
    """What a key gets at import, beside its ciphertext: its code, salt and commitment."""

    trace_code: str
    trace_salt: str
    key_commitment: str


@dataclass(frozen=True)
class StagedKey:
    """One key as it is written into a staging batch."""

    ciphertext: str
    fingerprint: str
    provenance: KeyProvenance


@dataclass(frozen=True)
class LoggedKey:
    """What a key's next log entry is made from: read back with the status change itself."""

    id: int
    trace_code: str | None
    trace_salt: str | None
    key_commitment: str | None
    log_head: str | None
    sku: str
    batch_id: int


@dataclass(frozen=True)
class TraceEvent:
    event: str
    at: datetime


@dataclass(frozen=True)
class KeyTrace:
    """What `/trace CODE` shows: never a buyer, only the viewer's own order."""

    trace_code: str
    sku: str
    name_zh: str
    name_zh_hant: str
    name_en: str
    supplier_public_name: str
    batch_id: int
    batch_imported_at: datetime
    has_proof: bool
    signed: bool
    events: list[TraceEvent]
    sold_times: int
    own_order_reference: str | None


def new_trace_code() -> str:
    """A fresh code from the operating system's random source, as shown: XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(TRACE_ALPHABET) for _ in range(TRACE_LENGTH))
    return format_trace_code(raw)


def format_trace_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def parse_trace_code(text: str) -> str | None:
    """The code someone typed, in its stored form, or None if it cannot be one.

    Any case, any dashes or spaces, full-width characters, and Crockford's confusables
    (O for 0, I and L for 1) are accepted."""
    raw = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper().translate(_CONFUSABLE)
    if len(raw) != TRACE_LENGTH or any(ch not in TRACE_ALPHABET for ch in raw):
        return None
    return format_trace_code(raw)


def normalise_key_text(card_key: str) -> str:
    """The form a key is committed in; the same as the cipher's (NFKC, outer blanks removed)."""
    return unicodedata.normalize("NFKC", card_key).strip()


def key_commitment(salt_hex: str, card_key: str) -> str:
    """hex SHA-256("kamibot key v1\\n" || salt || key): binds the entry to this key, hides it."""
    data = _KEY_PREFIX + bytes.fromhex(salt_hex) + normalise_key_text(card_key).encode()
    return hashlib.sha256(data).hexdigest()


def order_commitment(salt_hex: str, order: int | str) -> str:
    """hex SHA-256("kamibot order v1\\n" || key salt || order id): links a key's events of one
    order to each other without naming the order."""
    return hashlib.sha256(_ORDER_PREFIX + bytes.fromhex(salt_hex) + str(order).encode()).hexdigest()


def new_provenance(card_key: str) -> KeyProvenance:
    salt = secrets.token_hex(SALT_BYTES)
    return KeyProvenance(new_trace_code(), salt, key_commitment(salt, card_key))


def entry_time(at: datetime) -> str:
    """UTC, to the microsecond, as the entry writes it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_entry_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def canonical_json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def log_entry(key: LoggedKey, event: str, order_id: int | None, at: datetime) -> str:
    """The key event as the log holds it: canonical JSON, with no secret and no buyer in it."""
    assert key.trace_code and key.trace_salt and key.key_commitment, "a key without provenance"
    return canonical_json(
        {
            "v": ENTRY_VERSION,
            "trace": key.trace_code,
            "event": event,
            "sku": key.sku,
            "batch": key.batch_id,
            "time": entry_time(at),
            "prev": key.log_head,
            "key": key.key_commitment,
            "order": order_commitment(key.trace_salt, order_id) if order_id is not None else None,
        }
    )


def entry_leaf(entry: str) -> str:
    """The entry's leaf hash, hex: SHA-256(0x00 || entry)."""
    return leaf_hash(entry.encode()).hex()


def parse_entry(entry: str) -> dict[str, Any]:
    """The entry's fields, or ValueError if it is not an entry of this log."""
    try:
        value = json.loads(entry)
    except json.JSONDecodeError:
        raise ValueError("an entry is JSON") from None
    if not isinstance(value, dict) or value.get("v") != ENTRY_VERSION:
        raise ValueError(f"an entry is a JSON object of version {ENTRY_VERSION}")
    if canonical_json(value) != entry:
        raise ValueError("an entry is written canonically")
    return value


@dataclass(frozen=True)
class Receipt:
    """A parsed receipt; nothing about it is verified yet."""

    entry: str
    salt: str
    index: int
    proof: tuple[bytes, ...]
    checkpoint: str


def format_receipt(entry: str, salt: str, index: int, proof: list[bytes], note: str) -> str:
    """The c2sp.org/tlog-proof text; `extra` carries the entry and the key's salt, which the
    verifier needs to rebuild the leaf hash and check the commitment."""
    extra = base64.b64encode(canonical_json({"entry": entry, "salt": salt}).encode()).decode()
    lines = [RECEIPT_HEADER, f"extra {extra}", f"index {index}"]
    lines += [base64.b64encode(h).decode() for h in proof]
    return "\n".join(lines) + "\n\n" + note


def parse_receipt(text: str) -> Receipt:
    """The receipt's parts, or ReceiptRefused naming what is malformed."""
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ReceiptRefused("a receipt has its proof, a blank line and a checkpoint")
    lines = head.split("\n")
    if lines[0] != RECEIPT_HEADER:
        raise ReceiptRefused(f"a receipt starts with {RECEIPT_HEADER}")
    if len(lines) < 3 or not lines[1].startswith("extra "):
        raise ReceiptRefused("this log's receipts carry the entry as extra data")
    try:
        extra = json.loads(base64.b64decode(lines[1].removeprefix("extra "), validate=True))
        entry, salt = extra["entry"], extra["salt"]
        bytes.fromhex(salt)
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ReceiptRefused("the extra data is not this log's entry and salt") from None
    if not isinstance(entry, str) or not isinstance(salt, str):
        raise ReceiptRefused("the extra data is not this log's entry and salt")
    index = lines[2].removeprefix("index ")
    if not lines[2].startswith("index ") or not _INDEX.fullmatch(index):
        raise ReceiptRefused("a receipt names its entry's index")
    proof = []
    for line in lines[3:]:
        try:
            proof.append(base64.b64decode(line, validate=True))
        except binascii.Error:
            raise ReceiptRefused(f"{line!r} is not a base64 hash") from None
    return Receipt(entry, salt, int(index), tuple(proof), note)


@dataclass(frozen=True)
class VerifiedReceipt:
    entry: dict[str, Any]
    index: int
    tree_size: int
    key_checked: bool


def verify_receipt(text: str, verifier: Verifier, card_key: str | None = None) -> VerifiedReceipt:
    """Check a receipt offline: the log's signature on the checkpoint, the entry's inclusion in
    it, and with `card_key` that the entry commits to this very key. ReceiptRefused if not."""
    receipt = parse_receipt(text)
    try:
        checkpoint = parse_checkpoint(open_note(receipt.checkpoint, [verifier]))
    except NoteError as error:
        raise ReceiptRefused(f"the checkpoint's signature does not hold: {error}") from None
    if checkpoint.origin != verifier.name:
        raise ReceiptRefused(f"the checkpoint is of {checkpoint.origin}, not {verifier.name}")
    try:
        fields = parse_entry(receipt.entry)
    except ValueError as error:
        raise ReceiptRefused(str(error)) from None
    if any(len(h) != HASH_SIZE for h in receipt.proof):
        raise ReceiptRefused("each proof line is a 32-byte hash")
    try:
        verify_inclusion(
            leaf_hash(receipt.entry.encode()),
            receipt.index,
            checkpoint.size,
            receipt.proof,
            checkpoint.root_hash,
        )
    except InvalidProof as error:
        raise ReceiptRefused(f"the entry is not in the signed tree: {error}") from None
    if card_key is not None and key_commitment(receipt.salt, card_key) != fields.get("key"):
        raise ReceiptRefused("the entry is of another key than this one")
    return VerifiedReceipt(fields, receipt.index, checkpoint.size, card_key is not None)


def parse_signer_setting(text: str, origin: str) -> Signer:
    """The log's signer from TRACE_SIGNING_KEY: a C2SP private key string, or a base64 seed
    (then named `origin`). MalformedNote if it is neither."""
    text = text.strip()
    if text.startswith("PRIVATE+KEY+"):
        return Signer.parse(text)
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise MalformedNote("TRACE_SIGNING_KEY is a PRIVATE+KEY+ string or a base64 seed") from None
    return Signer(origin, seed)


class CompactRange:
    """The roots of the perfect subtrees a tree of `size` leaves breaks into, largest first:
    enough to append a leaf, or to give the tree head, without the leaves themselves (so a
    million-entry tree is hashed in one streaming pass)."""

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        merged, n = leaf, self.size
        while n & 1:
            merged = node_hash(self._hashes.pop(), merged)
            n >>= 1
        self._hashes.append(merged)
        self.size += 1

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        root = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            root = node_hash(left, root)
        return root


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root_hash: str
    note: str
    signed_at: datetime


@dataclass(frozen=True)
class AuditRow:
    """One sequenced event as the database holds it, with its key's columns beside it."""

    seq: int
    event_id: int
    card_key_id: int
    event: str
    at: datetime
    entry: str
    leaf_hash: str | None
    trace_code: str | None
    key_commitment: str | None
    log_head: str | None


class LogAudit:
    """Checks a log row by row, in leaf order, against itself and its signed checkpoints.

    Each anomaly names the leaf index it was found at: an edited row no longer hashes to its
    leaf or matches its columns, a deleted one leaves a gap, one reordered or inserted breaks its
    key's chain of `prev` links, and any of them changes the tree head a checkpoint signed.
    """

    def __init__(self, checkpoints: list[StoredCheckpoint], verifier: Verifier) -> None:
        self.anomalies: list[str] = []
        self._range = CompactRange()
        self._heads: dict[int, tuple[str, str | None]] = {}
        self._due: dict[int, StoredCheckpoint] = {}
        for stored in checkpoints:
            if self._signed_as_stored(stored, verifier):
                self._due[stored.size] = stored
        self.checked = 0
        if 0 in self._due:
            self._check_root(self._due.pop(0))

    @property
    def size(self) -> int:
        return self._range.size

    def _signed_as_stored(self, stored: StoredCheckpoint, verifier: Verifier) -> bool:
        try:
            checkpoint = parse_checkpoint(open_note(stored.note, [verifier]))
        except NoteError as error:
            self.anomalies.append(f"checkpoint {stored.size}: its signature fails ({error})")
            return False
        if (checkpoint.size, checkpoint.root_hash.hex()) != (stored.size, stored.root_hash):
            self.anomalies.append(f"checkpoint {stored.size}: the row differs from its note")
            return False
        if checkpoint.origin != verifier.name:
            self.anomalies.append(f"checkpoint {stored.size}: signed for {checkpoint.origin}")
            return False
        return True

    def add(self, row: AuditRow) -> None:
        index = self._range.size
        if row.seq != index:
            if row.seq > index:
                missing = f"{index}" if row.seq == index + 1 else f"{index}-{row.seq - 1}"
                self.anomalies.append(f"index {missing}: missing (a row was deleted)")
            else:
                self.anomalies.append(f"index {row.seq}: out of order")
            while self._range.size < row.seq:  # keep later indices where they belong
                self._range.append(b"\x00" * HASH_SIZE)
                self._reached()
            index = row.seq
        leaf = leaf_hash(row.entry.encode())
        self._check_row(index, row, leaf)
        self._range.append(leaf)
        self._reached()

    def add_pending(self, row: AuditRow) -> None:
        """An entry written but not yet given an index: checked, but not in the tree."""
        self._check_row(None, row, leaf_hash(row.entry.encode()))

    def _check_row(self, index: int | None, row: AuditRow, leaf: bytes) -> None:
        where = f"index {index}" if index is not None else "an entry not yet sequenced"
        where += f" (event {row.event_id})"
        if row.leaf_hash != leaf.hex():
            self.anomalies.append(f"{where}: the entry does not hash to its stored leaf hash")
        try:
            fields = parse_entry(row.entry)
        except ValueError as error:
            self.anomalies.append(f"{where}: {error}")
            return
        if fields.get("event") != row.event:
            self.anomalies.append(f"{where}: the row says {row.event}, its entry {fields['event']}")
        if fields.get("time") != entry_time(row.at):
            self.anomalies.append(f"{where}: the row's time differs from its entry's")
        if (fields.get("trace"), fields.get("key")) != (row.trace_code, row.key_commitment):
            self.anomalies.append(f"{where}: the entry is of another key than the row's")
        previous = self._heads.get(row.card_key_id)
        if fields.get("prev") != (previous[0] if previous else None):
            self.anomalies.append(
                f"{where}: its link to the key's previous entry is broken "
                "(an entry of this key was edited, removed, moved or inserted)"
            )
        self._heads[row.card_key_id] = (leaf.hex(), row.log_head)

    def _reached(self) -> None:
        stored = self._due.pop(self._range.size, None)
        if stored is not None:
            self._check_root(stored)

    def _check_root(self, stored: StoredCheckpoint) -> None:
        self.checked += 1
        if self._range.root().hex() != stored.root_hash:
            self.anomalies.append(
                f"checkpoint {stored.size}: the log's first {stored.size} entries no longer "
                "hash to its signed root (an entry before it was changed, moved or removed)"
            )

    def finish(self) -> list[str]:
        for size in sorted(self._due):
            self.anomalies.append(
                f"checkpoint {size}: signed, but the log holds only {self._range.size} entries "
                f"(index {self._range.size} onwards was deleted)"
            )
        self._due.clear()
        for key_id, (last, head) in sorted(self._heads.items()):
            if head != last:
                self.anomalies.append(
                    f"key {key_id}: its log head is not its latest entry "
                    "(that entry was edited or removed)"
                )
        return self.anomalies
