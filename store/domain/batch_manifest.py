"""A batch's manifest: what fixes its content, and what a supplier signs for it.

The manifest is SHA-256 over the sorted SHA-256 digests of the batch's keys, one hex digest per
line. A supplier computes it from their own file without any secret of the shop
(`python -m bot supplier manifest FILE`) and signs `signed_message(manifest)` with Ed25519.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_CONTEXT = b"kamibot batch manifest v1\n"


@dataclass(frozen=True)
class BatchProvenance:
    """What an import records about where its keys came from."""

    cost_minor: int | None = None
    """The supplier's cost per key, in minor units."""
    proof_sha256: str | None = None
    """SHA-256 of the authorisation document (授权书), when one came with the batch."""
    manifest_sha256: str | None = None
    signed: bool = False
    """Whether the supplier's Ed25519 signature over the manifest was verified."""


NO_PROVENANCE = BatchProvenance()
"""A batch that recorded nothing of where it came from (imported before batches did)."""


def manifest(keys: Iterable[str]) -> bytes:
    """The manifest of these keys: the same for the same keys in any order."""
    digests = sorted(hashlib.sha256(key.encode("utf-8")).hexdigest() for key in keys)
    return hashlib.sha256("".join(f"{d}\n" for d in digests).encode("ascii")).digest()


def signed_message(manifest_digest: bytes) -> bytes:
    """The bytes a supplier signs: a fixed context, then the manifest in hex, then a newline."""
    return SIGNATURE_CONTEXT + manifest_digest.hex().encode("ascii") + b"\n"


def signature_holds(public_key: bytes, manifest_digest: bytes, signature: bytes) -> bool:
    """Whether `signature` is the supplier's Ed25519 signature of this manifest."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, signed_message(manifest_digest)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
