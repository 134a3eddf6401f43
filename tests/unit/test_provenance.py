"""Trace codes, commitments, log entries, the streaming tree head, the audit and receipts."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from store.domain.merkle import inclusion_proof, tree_head
from store.domain.provenance import (
    TRACE_ALPHABET,
    AuditRow,
    CompactRange,
    LogAudit,
    LoggedKey,
    ReceiptRefused,
    StoredCheckpoint,
    entry_leaf,
    format_receipt,
    key_commitment,
    log_entry,
    new_provenance,
    new_trace_code,
    order_commitment,
    parse_entry,
    parse_signer_setting,
    parse_trace_code,
    verify_receipt,
)
from store.domain.signed_note import (
    Checkpoint,
    MalformedNote,
    Signer,
    format_checkpoint,
    sign_note,
)

AT = datetime(2026, 12, 7, 15, 0, 1, 250, tzinfo=UTC)
SIGNER = Signer("shop.example/log", bytes(range(32)))


def test_a_trace_code_is_twelve_crockford_characters_in_three_groups() -> None:
    code = new_trace_code()
    assert len(code) == 14 and code.count("-") == 2
    assert all(ch in TRACE_ALPHABET for ch in code.replace("-", ""))
    assert len({new_trace_code() for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "typed",
    [
        "0123-4567-89AB",
        "0123456789ab",
        "o123 4567 89ab",
        "O1Z3-4567-89AB".replace("Z", "2"),
        " ０１２３－４５６７－８９ＡＢ ",
        "0I23-4567-89AB",
        "0l23_4567.89ab",
    ],
)
def test_a_trace_code_is_read_in_any_case_spacing_or_confusable_spelling(typed: str) -> None:
    assert parse_trace_code(typed) == "0123-4567-89AB"


@pytest.mark.parametrize("typed", ["", "0123-4567-89A", "0123-4567-89ABC", "0123-4567-89AU"])
def test_what_cannot_be_a_trace_code_is_none(typed: str) -> None:
    assert parse_trace_code(typed) is None


def test_the_key_commitment_binds_salt_and_normalised_key_and_hides_both() -> None:
    salt = "00" * 16
    expected = hashlib.sha256(b"kamibot key v1\n" + bytes(16) + b"ABC-123").hexdigest()
    assert key_commitment(salt, " ＡＢＣ-123 ") == expected
    assert key_commitment("01" * 16, "ABC-123") != expected
    provenance = new_provenance("ABC-123")
    assert provenance.key_commitment == key_commitment(provenance.trace_salt, "ABC-123")
    assert (
        order_commitment(salt, 7)
        == hashlib.sha256(b"kamibot order v1\n" + bytes(16) + b"7").hexdigest()
    )


def key(head: str | None = None) -> LoggedKey:
    return LoggedKey(3, "0123-4567-89AB", "00" * 16, "c" * 64, head, "STEAM-50", 2)


def test_an_entry_is_canonical_json_with_commitments_but_no_key_and_no_buyer() -> None:
    entry = log_entry(key(), "sold", 41, AT)
    assert entry == (
        '{"batch":2,"event":"sold","key":"'
        + "c" * 64
        + '","order":"'
        + order_commitment("00" * 16, 41)
        + '","prev":null,"sku":"STEAM-50","time":"2026-12-07T15:00:01.000250Z",'
        '"trace":"0123-4567-89AB","v":1}'
    )
    assert parse_entry(entry)["event"] == "sold"
    assert parse_entry(log_entry(key("ab" * 32), "imported", None, AT))["prev"] == "ab" * 32
    with pytest.raises(ValueError, match="canonically"):
        parse_entry(entry.replace(",", ", "))


@pytest.mark.parametrize("size", range(0, 70))
def test_the_compact_range_gives_the_rfc_9162_tree_head_of_every_size(size: int) -> None:
    leaves = [hashlib.sha256(bytes([n])).digest() for n in range(size)]
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    assert compact.root() == tree_head(leaves)


def logged(count: int) -> tuple[list[str], list[bytes]]:
    entries, head = [], None
    for n in range(count):
        entry = log_entry(key(head), "imported" if n == 0 else "revealed", None, AT)
        head = entry_leaf(entry)
        entries.append(entry)
    return entries, [bytes.fromhex(entry_leaf(e)) for e in entries]


def receipt(entries: list[str], leaves: list[bytes], index: int, signer: Signer = SIGNER) -> str:
    note = sign_note(
        format_checkpoint(Checkpoint(signer.name, len(leaves), tree_head(leaves))), signer
    )
    return format_receipt(entries[index], "00" * 16, index, inclusion_proof(index, leaves), note)


def test_a_receipt_proves_its_entry_is_in_the_signed_tree() -> None:
    entries, leaves = logged(7)
    text = receipt(entries, leaves, 4)
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    verified = verify_receipt(text, SIGNER.verifier)
    assert (verified.index, verified.tree_size, verified.key_checked) == (4, 7, False)


def test_a_receipt_checks_the_key_only_against_its_commitment() -> None:
    entries, leaves = logged(3)
    salt = "00" * 16
    entries = [e.replace("c" * 64, key_commitment(salt, "ABC-123")) for e in entries]
    leaves = [bytes.fromhex(entry_leaf(e)) for e in entries]
    assert verify_receipt(receipt(entries, leaves, 1), SIGNER.verifier, "ABC-123").key_checked
    with pytest.raises(ReceiptRefused, match="another key"):
        verify_receipt(receipt(entries, leaves, 1), SIGNER.verifier, "ABC-124")


def test_a_receipt_under_another_key_or_with_another_index_is_refused() -> None:
    entries, leaves = logged(5)
    with pytest.raises(ReceiptRefused, match="signature"):
        verify_receipt(receipt(entries, leaves, 2, Signer(SIGNER.name, bytes(32))), SIGNER.verifier)
    moved = receipt(entries, leaves, 2).replace("index 2", "index 3")
    with pytest.raises(ReceiptRefused, match="not in the signed tree"):
        verify_receipt(moved, SIGNER.verifier)
    with pytest.raises(ReceiptRefused, match="starts with"):
        verify_receipt("hello\n\n" + receipt(entries, leaves, 2), SIGNER.verifier)


def test_the_signing_key_setting_is_a_key_string_or_a_base64_seed() -> None:
    assert parse_signer_setting(str(SIGNER), "ignored") == SIGNER
    seed = base64.b64encode(bytes(range(32))).decode()
    assert parse_signer_setting(seed, SIGNER.name) == SIGNER
    with pytest.raises(MalformedNote):
        parse_signer_setting("not a key", SIGNER.name)


def audit_rows(entries: list[str]) -> list[AuditRow]:
    return [
        AuditRow(
            n,
            n + 1,
            3,
            parse_entry(e)["event"],
            AT,
            e,
            entry_leaf(e),
            "0123-4567-89AB",
            "c" * 64,
            entry_leaf(entries[-1]),
        )
        for n, e in enumerate(entries)
    ]


def stored(leaves: list[bytes]) -> StoredCheckpoint:
    root = tree_head(leaves)
    note = sign_note(format_checkpoint(Checkpoint(SIGNER.name, len(leaves), root)), SIGNER)
    return StoredCheckpoint(len(leaves), root.hex(), note, AT)


def test_an_untouched_log_passes_its_audit() -> None:
    entries, leaves = logged(6)
    audit = LogAudit([stored(leaves[:3]), stored(leaves)], SIGNER.verifier)
    for row in audit_rows(entries):
        audit.add(row)
    assert audit.finish() == [] and audit.checked == 2


def test_the_audit_names_a_removed_entry_and_the_checkpoint_it_breaks() -> None:
    entries, leaves = logged(6)
    audit = LogAudit([stored(leaves)], SIGNER.verifier)
    for row in audit_rows(entries):
        if row.seq != 2:
            audit.add(row)
    anomalies = audit.finish()
    assert anomalies[0] == "index 2: missing (a row was deleted)"
    assert any(a.startswith("index 3 (event 4): its link") for a in anomalies)
    assert any(a.startswith("checkpoint 6:") for a in anomalies)


def test_the_audit_refuses_a_checkpoint_signed_by_another_key() -> None:
    _, leaves = logged(2)
    forged = stored(leaves)
    other = Signer(SIGNER.name, bytes(32))
    note = sign_note(format_checkpoint(Checkpoint(SIGNER.name, 2, tree_head(leaves))), other)
    audit = LogAudit([StoredCheckpoint(2, forged.root_hash, note, AT)], SIGNER.verifier)
    assert audit.finish()[0].startswith("checkpoint 2: its signature fails")
