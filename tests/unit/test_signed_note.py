"""Signed notes and checkpoints against the C2SP specs and Go's reference (golang.org/x/mod
sumdb/note, note_test.go), whose keys, signatures and notes are reproduced byte for byte."""

from __future__ import annotations

import base64
import hashlib

import pytest

from store.domain.merkle import leaf_hash, tree_head
from store.domain.signed_note import (
    BadSignature,
    Checkpoint,
    MalformedNote,
    NoteSignature,
    Signer,
    UnverifiedNote,
    Verifier,
    format_checkpoint,
    key_id,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
)

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_LINE = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_LINE = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# The example of c2sp.org/signed-note; its key is not published, so it cannot be verified.
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "\u2014 quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# The example of c2sp.org/tlog-checkpoint, without its signature.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_the_key_id_is_sha256_of_the_name_a_newline_the_type_and_the_key_cut_to_four_bytes() -> (
    None
):
    public = Verifier.parse(PETER_VERIFIER).public_key
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + public).digest()
    assert key_id("PeterNeumann", public) == digest[:4] == bytes.fromhex("c74f20a3")


def test_the_reference_key_strings_parse_and_print_back_unchanged() -> None:
    signer = Signer.parse(PETER_SIGNER)
    assert str(signer) == PETER_SIGNER
    assert str(signer.verifier) == PETER_VERIFIER
    assert signer.verifier == Verifier.parse(PETER_VERIFIER)
    assert str(Verifier.parse(ENOCH_VERIFIER)) == ENOCH_VERIFIER


def test_a_signers_repr_does_not_show_its_private_key() -> None:
    signer = Signer.parse(PETER_SIGNER)
    assert repr(signer) == "Signer(name='PeterNeumann')"


@pytest.mark.parametrize("key", [PETER_VERIFIER, PETER_SIGNER])
def test_every_truncation_and_every_changed_character_of_a_key_string_is_refused(key: str) -> None:
    parse = Signer.parse if key.startswith("PRIVATE") else Verifier.parse
    accepted = []
    mangled = [key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)]
    mangled += [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    for text in mangled:
        if text == key:
            continue
        try:
            parse(text)
        except MalformedNote:
            continue
        accepted.append(text)
    assert accepted == []


def test_a_key_string_of_another_type_or_length_is_refused() -> None:
    # From Go's tests, their key IDs adjusted to match: a key too long, a type byte not 0x01.
    for text in (
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(MalformedNote):
            Verifier.parse(text)
    long_key = base64.b64encode(bytes([1]) + bytes(33)).decode()
    with pytest.raises(MalformedNote, match="not an Ed25519 key"):
        Verifier.parse(f"PeterNeumann+{key_id('PeterNeumann', bytes(33)).hex()}+{long_key}")


def test_signing_the_reference_text_gives_the_reference_note() -> None:
    assert sign_note(TEXT, Signer.parse(PETER_SIGNER)) == TEXT + "\n" + PETER_LINE


def test_the_reference_note_signed_twice_opens_with_either_key_and_ignores_the_other() -> None:
    note = TEXT + "\n" + PETER_LINE + ENOCH_LINE
    assert open_note(note, [Verifier.parse(PETER_VERIFIER)]) == TEXT
    assert open_note(note, [Verifier.parse(ENOCH_VERIFIER)]) == TEXT
    assert open_note(note.encode(), [Verifier.parse(ENOCH_VERIFIER)]) == TEXT


def test_a_note_round_trips_through_sign_and_open() -> None:
    signer = Signer.generate("kamibot.example/log")
    note = sign_note("one\n\ntwo\n", signer)
    assert open_note(note, [signer.verifier]) == "one\n\ntwo\n"
    assert Signer.parse(str(signer)) == signer


def test_a_note_signed_by_another_key_is_refused() -> None:
    note = sign_note(TEXT, Signer.generate("PeterNeumann"))
    with pytest.raises(UnverifiedNote):
        open_note(note, [Verifier.parse(PETER_VERIFIER)])


def test_a_note_whose_text_is_edited_by_one_character_is_refused() -> None:
    note = (TEXT + "\n" + PETER_LINE).replace("answer", "answEr")
    with pytest.raises(BadSignature):
        open_note(note, [Verifier.parse(PETER_VERIFIER)])


def test_a_trusted_keys_bad_signature_refuses_the_note_even_beside_a_good_one() -> None:
    forged = PETER_LINE[:60] + "ABCD" + PETER_LINE[60:]
    with pytest.raises(BadSignature):
        open_note(TEXT + "\n" + forged, [Verifier.parse(PETER_VERIFIER)])
    enoch_forged = ENOCH_LINE.replace("rwz+eBzm", "rwz+eBzn")
    with pytest.raises(BadSignature):
        open_note(
            TEXT + "\n" + PETER_LINE + enoch_forged,
            [Verifier.parse(PETER_VERIFIER), Verifier.parse(ENOCH_VERIFIER)],
        )


def test_the_spec_example_splits_at_its_last_blank_line_and_is_unverified_without_its_key() -> None:
    note = parse_note(SPEC_NOTE)
    assert note.text == SPEC_NOTE.split("\n\n\u2014")[0] + "\n"
    assert note.text.count("\n") == 4
    [signature] = note.signatures
    assert signature.name == "quasimodo.example/salvatore"
    assert len(signature.key_id) == 4 and len(signature.signature) == 64
    with pytest.raises(UnverifiedNote):
        open_note(SPEC_NOTE, [Verifier.parse(PETER_VERIFIER)])


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_LINE[:-1],
        "\x01" + TEXT + "\n" + PETER_LINE,
        TEXT.replace("\n", "\r\n") + "\n" + PETER_LINE,
        TEXT + "\n" + PETER_LINE.replace("PeterNeumann", "Bad Name"),
        TEXT + "\n" + PETER_LINE.replace("PeterNeumann", "Peter+Neumann"),
        TEXT + "\n" + PETER_LINE.replace("\u2014", "--"),
        TEXT + "\n" + PETER_LINE.replace("=\n", "\n"),
        TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",
        TEXT + "\n" + PETER_LINE + "Unexpected line.\n",
        TEXT + "\n" + PETER_LINE * 101,
    ],
)
def test_a_malformed_note_is_refused(note: str) -> None:
    with pytest.raises(MalformedNote):
        open_note(note, [Verifier.parse(PETER_VERIFIER)])


def test_a_note_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(MalformedNote, match="UTF-8"):
        parse_note(b"\xff" + (TEXT + "\n" + PETER_LINE).encode())


@pytest.mark.parametrize("text", ["", "no newline", "a\rb\n", "\ud800\n"])
def test_text_that_cannot_be_a_note_is_not_signed(text: str) -> None:
    with pytest.raises(MalformedNote):
        sign_note(text, Signer.parse(PETER_SIGNER))


def test_a_signature_line_keeps_its_key_id_apart_from_its_signature() -> None:
    [line] = parse_note(TEXT + "\n" + PETER_LINE).signatures
    raw = base64.b64decode(PETER_LINE.split()[-1])
    assert line == NoteSignature("PeterNeumann", bytes.fromhex("c74f20a3"), raw[4:])


def test_the_spec_checkpoint_parses_and_formats_back_unchanged() -> None:
    checkpoint = parse_checkpoint(SPEC_CHECKPOINT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert format_checkpoint(checkpoint) == SPEC_CHECKPOINT


def test_a_checkpoint_with_extension_lines_is_formatted_and_parsed_back() -> None:
    checkpoint = Checkpoint("kamibot.example/log", 0, tree_head([]), ("timestamp 1700000000",))
    text = format_checkpoint(checkpoint)
    assert text == (
        "kamibot.example/log\n"
        "0\n"
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        "timestamp 1700000000\n"
    )
    assert parse_checkpoint(text) == checkpoint


def test_a_signed_checkpoint_opens_to_the_tree_head_that_was_signed() -> None:
    signer = Signer.generate("kamibot.example/log")
    leaves = [leaf_hash(b"card key %d" % i) for i in range(5)]
    checkpoint = Checkpoint("kamibot.example/log", 5, tree_head(leaves))
    note = sign_note(format_checkpoint(checkpoint), signer)
    assert parse_checkpoint(open_note(note, [signer.verifier])) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "example.com/log\n5\n",
        "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n 5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n1_000\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n\u0665\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(MalformedNote):
        parse_checkpoint(text)
