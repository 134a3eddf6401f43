"""The transparency log's Merkle tree: RFC 9162 (CT v2) hashing, tree heads and their proofs.

Everything takes leaf hashes, not entries, so a log can store the 32-byte leaf hash of each
card-key entry and never keep the entry itself next to the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
"""Bytes in a SHA-256 hash: every leaf hash, node hash, root and proof element."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The head of the tree with no leaves: MTH({}) = SHA-256() (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class InvalidProof(ValueError):
    """An inclusion or consistency proof that does not prove what it was offered for."""


def leaf_hash(entry: bytes) -> bytes:
    """MTH({entry}) = SHA-256(0x00 || entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the prefixes keep a node from passing as a leaf."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def tree_head(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root hash of the tree over these leaves, in order."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _subtree_root(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 §2.1.3.1: the hashes that lead leaf `index` to the head.

    The leaf's sibling comes first. O(n): every subtree off the path is hashed afresh.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, collecting the subtree beside the leaf's at each split;
    # the list is built root-first and read leaf-first.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(_subtree_root(leaf_hashes, start + k, end))
            end = start + k
        else:
            path.append(_subtree_root(leaf_hashes, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 §2.1.4.1: that the first `old_size` leaves are a prefix.

    Empty when there is nothing to prove (the old tree is empty or is the whole tree).
    """
    size = len(leaf_hashes)
    if not 0 <= old_size <= size:
        raise ValueError(f"a tree of {size} has no prefix of {old_size}")
    if old_size in (0, size):
        return []
    return _subproof(leaf_hashes, old_size, 0, size, whole=True)


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise InvalidProof unless `proof` leads `leaf` at `index` to `root` (RFC 9162 §2.1.3.2)."""
    _check_hashes(leaf=leaf, root=root, proof=proof)
    if tree_size < 0 or index < 0:
        raise InvalidProof(f"leaf {index} of a tree of {tree_size} cannot exist")
    # Step 1: compare the index against the size.
    if index >= tree_size:
        raise InvalidProof(f"leaf {index} is not in a tree of {tree_size}")
    expected = _inclusion_length(index, tree_size)
    if len(proof) != expected:
        raise InvalidProof(
            f"leaf {index} of a tree of {tree_size} needs {expected} hashes, not {len(proof)}"
        )
    # Steps 2-5, as the RFC words them.
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise InvalidProof("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("the proof stops short of the root")
    if r != root:
        raise InvalidProof("the proof leads the leaf to another root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise InvalidProof unless the tree of `old_size` with `old_root` is a prefix of the tree
    of `new_size` with `new_root` (RFC 9162 §2.1.4.2).

    Both roots are rebuilt from the proof and both must match: checking only the new one would
    accept a proof taken from a forked log against any old root.
    """
    _check_hashes(old_root=old_root, new_root=new_root, proof=proof)
    if old_size < 0 or new_size < old_size:
        raise InvalidProof(f"a tree of {new_size} cannot extend a tree of {old_size}")
    if old_size == new_size:
        if proof:
            raise InvalidProof("a tree is consistent with itself without a proof")
        if old_root != new_root:
            raise InvalidProof("two heads of the same size differ")
        return
    if old_size == 0:
        if proof:
            raise InvalidProof("every tree extends the empty tree without a proof")
        if old_root != EMPTY_ROOT:
            raise InvalidProof("the empty tree's head is SHA-256 of nothing")
        return
    expected = _consistency_length(old_size, new_size)
    if len(proof) != expected:
        raise InvalidProof(
            f"a tree of {old_size} to {new_size} needs {expected} hashes, not {len(proof)}"
        )
    # Steps 1-7, as the RFC words them; 0 < old_size < new_size from here on.
    if not proof:
        raise InvalidProof("the proof is empty")
    path = list(proof)
    if _is_power_of_two(old_size):
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("the proof stops short of the root")
    if fr != old_root:
        raise InvalidProof("the proof does not rebuild the old root")
    if sr != new_root:
        raise InvalidProof("the proof does not rebuild the new root")


def _subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a non-empty slice, without copying it."""
    if end - start == 1:
        return leaf_hashes[start]
    k = _split(end - start)
    return node_hash(
        _subtree_root(leaf_hashes, start, start + k), _subtree_root(leaf_hashes, start + k, end)
    )


def _subproof(
    leaf_hashes: Sequence[bytes], m: int, start: int, end: int, *, whole: bool
) -> list[bytes]:
    """SUBPROOF(m, D[start:end], whole) of RFC 9162 §2.1.4.1, deepest node first."""
    n = end - start
    if m == n:
        return [] if whole else [_subtree_root(leaf_hashes, start, end)]
    k = _split(n)
    if m <= k:
        proof = _subproof(leaf_hashes, m, start, start + k, whole=whole)
        proof.append(_subtree_root(leaf_hashes, start + k, end))
    else:
        proof = _subproof(leaf_hashes, m - k, start + k, end, whole=False)
        proof.append(_subtree_root(leaf_hashes, start, start + k))
    return proof


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where the RFC splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _inclusion_length(index: int, tree_size: int) -> int:
    """Hashes in the path of leaf `index` of a tree of `tree_size`: one per level below the
    point where its path leaves the tree's right border, plus one per left subtree on that
    border."""
    inner = (index ^ (tree_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _consistency_length(old_size: int, new_size: int) -> int:
    """Hashes in a proof from `old_size` to `new_size` (0 < old_size < new_size): the inclusion
    path of the old tree's last leaf, less the levels inside the old tree's rightmost complete
    subtree, plus that subtree's root unless the old tree is that subtree."""
    shift = (old_size & -old_size).bit_length() - 1
    length = _inclusion_length(old_size - 1, new_size) - shift
    return length if _is_power_of_two(old_size) else length + 1


def _check_hashes(proof: Sequence[bytes], **hashes: bytes) -> None:
    for name, value in hashes.items():
        if len(value) != HASH_SIZE:
            raise InvalidProof(f"{name} is {len(value)} bytes, not {HASH_SIZE}")
    for i, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise InvalidProof(f"proof[{i}] is {len(value)} bytes, not {HASH_SIZE}")
