"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, and the transparency log checkpoints
(c2sp.org/tlog-checkpoint) they carry: text that anyone holding the log's verifier key can check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from store.domain.merkle import HASH_SIZE

ED25519 = 0x01
"""The signature type byte for Ed25519 in key IDs and key strings."""

MAX_SIGNATURES = 100
"""Signature lines past this make a note malformed (the spec asks verifiers to take at least 16)."""

_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A signed note, key string or checkpoint that is refused."""


class MalformedNote(NoteError):
    """Text that is not a signed note, a key string or a checkpoint at all."""


class UnverifiedNote(NoteError):
    """No signature on the note is by a key the reader trusts."""


class BadSignature(NoteError):
    """A signature by a trusted key that does not verify: the whole note is refused."""


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4]: the ID the spec recommends for Ed25519."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A trusted public key, by the name and key ID its signature lines carry."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not _is_valid_name(self.name):
            raise MalformedNote(f"{self.name!r} cannot name a key")
        if len(self.public_key) != _KEY_SIZE:
            raise MalformedNote("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """The verifier of a key string `name+hex(key ID)+base64(0x01 || public key)`."""
        name, _, rest = text.partition("+")
        hex_id, _, encoded = rest.partition("+")
        key = _decode_typed_key(encoded)
        verifier = cls(name, key)
        if not _KEY_ID.fullmatch(hex_id) or bytes.fromhex(hex_id) != verifier.key_id:
            raise MalformedNote("the key ID does not belong to this name and key")
        return verifier

    def __str__(self) -> str:
        return _key_string(self.name, self.key_id, self.public_key)

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under its name; `str()` is the secret key string."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _is_valid_name(self.name):
            raise MalformedNote(f"{self.name!r} cannot name a key")
        if len(self.seed) != _KEY_SIZE:
            raise MalformedNote("an Ed25519 private key is a 32-byte seed")

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A fresh key from the operating system's random source."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def parse(cls, text: str) -> Signer:
        """The signer of `PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed)`."""
        if not text.startswith(_PRIVATE_PREFIX):
            raise MalformedNote("a signer key string starts with PRIVATE+KEY+")
        name, _, rest = text.removeprefix(_PRIVATE_PREFIX).partition("+")
        hex_id, _, encoded = rest.partition("+")
        signer = cls(name, _decode_typed_key(encoded))
        if not _KEY_ID.fullmatch(hex_id) or bytes.fromhex(hex_id) != signer.verifier.key_id:
            raise MalformedNote("the key ID does not belong to this name and key")
        return signer

    def __str__(self) -> str:
        return _PRIVATE_PREFIX + _key_string(self.name, self.verifier.key_id, self.seed)

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, text: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(text)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who claims to have signed, under which key ID, and the signature."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    """A note split into its text and signature lines; nothing about it is verified yet."""

    text: str
    signatures: tuple[NoteSignature, ...]


def sign_note(text: str, *signers: Signer) -> str:
    """The note: `text`, a blank line, then one `— name base64(key ID || signature)` line each."""
    _check_text(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    body = text.encode()
    lines = []
    for signer in signers:
        signed = signer.verifier.key_id + signer.sign(body)
        lines.append(f"{_SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signed).decode()}\n")
    return text + "\n" + "".join(lines)


def parse_note(note: str | bytes) -> Note:
    """The text and signature lines of a note, or MalformedNote; no signature is checked."""
    if isinstance(note, bytes):
        try:
            note = note.decode()
        except UnicodeDecodeError:
            raise MalformedNote("a note is UTF-8") from None
    _check_characters(note)
    # The text ends at the last blank line: the text may hold blank lines, signatures never.
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("a note's signatures follow a blank line")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("a note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"a note has at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> str:
    """The text of a note signed by at least one of `verifiers`.

    Signatures by other keys are ignored, as the spec says, so a note may carry a witness's
    cosignature beside the log's. A trusted key's failing signature refuses the whole note.
    """
    trusted: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        known = trusted.setdefault((verifier.name, verifier.key_id), verifier)
        if known != verifier:
            raise ValueError(f"two trusted keys are both {verifier.name}+{verifier.key_id.hex()}")
    parsed = parse_note(note)
    body = parsed.text.encode()
    verified = False
    for line in parsed.signatures:
        key = trusted.get((line.name, line.key_id))
        if key is None:
            continue
        if not key.verifies(body, line.signature):
            raise BadSignature(f"the signature of {line.name}+{line.key_id.hex()} is forged")
        verified = True
    if not verified:
        raise UnverifiedNote("no trusted key signed this note")
    return parsed.text


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as a note's text: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or not _is_single_line(self.origin):
            raise MalformedNote("a checkpoint's origin is one non-empty line")
        if self.size < 0:
            raise MalformedNote("a tree size is never negative")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedNote("a checkpoint's root hash is a 32-byte SHA-256 hash")
        if not all(line and _is_single_line(line) for line in self.extensions):
            raise MalformedNote("each extension is one non-empty line")


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint as note text, ready for `sign_note`."""
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root_hash).decode(),
        *checkpoint.extensions,
    ]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note's text holds (say, what `open_note` returned), or MalformedNote."""
    if not text.endswith("\n"):
        raise MalformedNote("a checkpoint ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedNote("a checkpoint has an origin, a tree size and a root hash")
    origin, size, root, *extensions = lines
    if not _TREE_SIZE.fullmatch(size):
        raise MalformedNote(f"{size!r} is not a tree size")
    return Checkpoint(origin, int(size), _decode_base64(root), tuple(extensions))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise MalformedNote("a signature line starts with an em dash and a space")
    name, space, encoded = line.removeprefix(_SIGNATURE_PREFIX).partition(" ")
    if not space or not _is_valid_name(name):
        raise MalformedNote("a signature line names its key")
    signed = _decode_base64(encoded)
    if len(signed) < 5:
        raise MalformedNote("a signature is a key ID and at least one byte")
    return NoteSignature(name, signed[:4], signed[4:])


def _check_text(text: str) -> None:
    _check_characters(text)
    if not text.endswith("\n"):
        raise MalformedNote("a note's text ends with a newline")


def _check_characters(text: str) -> None:
    """UTF-8, without ASCII control characters other than newline (a lone surrogate in a str
    has no UTF-8 form)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise MalformedNote("a note is UTF-8") from None
    if any(ch < " " and ch != "\n" for ch in text):
        raise MalformedNote("a note holds no control characters but newline")


def _is_single_line(text: str) -> bool:
    return not any(ch < " " for ch in text)


def _is_valid_name(name: str) -> bool:
    """Non-empty, without Unicode spaces, plus signs or control characters."""
    return (
        bool(name) and _is_single_line(name) and not any(ch.isspace() or ch == "+" for ch in name)
    )


def _key_string(name: str, id_: bytes, key: bytes) -> str:
    typed = base64.b64encode(bytes([ED25519]) + key).decode()
    return f"{name}+{id_.hex()}+{typed}"


def _decode_typed_key(encoded: str) -> bytes:
    typed = _decode_base64(encoded)
    if len(typed) != 1 + _KEY_SIZE or typed[0] != ED25519:
        raise MalformedNote("the key is not an Ed25519 key")
    return typed[1:]


def _decode_base64(encoded: str) -> bytes:
    """Standard padded base64, in its one canonical spelling: no two strings mean one value."""
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedNote(f"{encoded!r} is not base64") from None
    if base64.b64encode(decoded).decode() != encoded:
        raise MalformedNote(f"{encoded!r} is not base64 as written canonically")
    return decoded
