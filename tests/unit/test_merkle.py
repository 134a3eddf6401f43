"""The transparency log's Merkle tree against RFC 6962/9162 reference vectors and forged proofs.

The eight leaves, the roots of their first n and the proofs below are those of the Certificate
Transparency reference tests, as kept in github.com/transparency-dev/merkle (proof/verify_test.go).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.domain.merkle import (
    EMPTY_ROOT,
    InvalidProof,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_head,
    verify_consistency,
    verify_inclusion,
)

ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
LEAVES = [leaf_hash(entry) for entry in ENTRIES]

ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
"""ROOTS[n] is the head of the tree of the first n leaves."""


def _hashes(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# (leaf index, tree size, proof); the reference numbers leaves from 1, these from 0.
REFERENCE_INCLUSION = [
    (
        0,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _hashes(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _hashes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _hashes(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

# (old size, new size, proof)
REFERENCE_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _hashes(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

SMALL_TREES = [(index, size) for size in range(1, 9) for index in range(size)]
SMALL_PREFIXES = [(old, new) for new in range(1, 9) for old in range(1, new)]


def _flipped(proof: list[bytes], at: int) -> list[bytes]:
    changed = list(proof)
    changed[at] = bytes([changed[at][0] ^ 0x08]) + changed[at][1:]
    return changed


def test_the_empty_tree_has_the_hash_of_nothing_as_its_head() -> None:
    assert tree_head([]) == EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]


def test_a_leaf_and_a_node_are_hashed_with_different_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest() == ROOTS[1]
    node = hashlib.sha256(b"\x01" + LEAVES[0] + LEAVES[1]).digest()
    assert node_hash(LEAVES[0], LEAVES[1]) == node == ROOTS[2]


@pytest.mark.parametrize("size", range(9))
def test_the_reference_leaves_give_the_reference_root_at_every_size(size: int) -> None:
    assert tree_head(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), REFERENCE_INCLUSION)
def test_the_reference_inclusion_proofs_are_generated_and_verify(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert inclusion_proof(index, LEAVES[:size]) == proof
    verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), REFERENCE_CONSISTENCY)
def test_the_reference_consistency_proofs_are_generated_and_verify(
    old: int, new: int, proof: list[bytes]
) -> None:
    assert consistency_proof(old, LEAVES[:new]) == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("index", "size"), SMALL_TREES)
def test_every_inclusion_proof_up_to_eight_leaves_verifies(index: int, size: int) -> None:
    verify_inclusion(LEAVES[index], index, size, inclusion_proof(index, LEAVES[:size]), ROOTS[size])


@pytest.mark.parametrize(("old", "new"), [(old, new) for new in range(9) for old in range(new + 1)])
def test_every_consistency_proof_up_to_eight_leaves_verifies(old: int, new: int) -> None:
    verify_consistency(old, new, ROOTS[old], ROOTS[new], consistency_proof(old, LEAVES[:new]))


InclusionClaim = tuple[bytes, int, int, list[bytes], bytes]
"""The arguments of `verify_inclusion`: leaf, index, tree size, proof, root."""

ConsistencyClaim = tuple[int, int, bytes, bytes, list[bytes]]
"""The arguments of `verify_consistency`: old size, new size, old root, new root, proof."""


def _inclusion_tamperings(index: int, size: int) -> dict[str, InclusionClaim]:
    leaf, root, proof = LEAVES[index], ROOTS[size], inclusion_proof(index, LEAVES[:size])
    cases: dict[str, InclusionClaim] = {
        "index - 1": (leaf, index - 1, size, proof, root),
        "index + 1": (leaf, index + 1, size, proof, root),
        "index ^ 2": (leaf, index ^ 2, size, proof, root),
        "size * 2": (leaf, index, size * 2, proof, root),
        "size // 2": (leaf, index, size // 2, proof, root),
        "another leaf": (SOME_HASH, index, size, proof, root),
        "the empty root": (leaf, index, size, proof, EMPTY_ROOT),
        "another root": (leaf, index, size, proof, SOME_HASH),
        "a short root": (leaf, index, size, proof, root[:31]),
        "trailing garbage": (leaf, index, size, [*proof, b""], root),
        "trailing root": (leaf, index, size, [*proof, root], root),
        "preceding root": (leaf, index, size, [root, *proof], root),
    }
    if size < len(LEAVES):
        # A proof does not spell out the size: one for a size whose path has the same shape
        # rebuilds the same root, which is why a checkpoint signs the size with the root.
        # Against the real head of the bigger tree it fails.
        cases["size + 1"] = (leaf, index, size + 1, proof, ROOTS[size + 1])
    for at in range(len(proof)):
        cases[f"flipped proof[{at}]"] = (leaf, index, size, _flipped(proof, at), root)
    if proof:
        cases["dropped last"] = (leaf, index, size, proof[:-1], root)
        cases["dropped first"] = (leaf, index, size, proof[1:], root)
    if len(proof) > 1:
        cases["inserted"] = (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)
    return cases


@pytest.mark.parametrize(("index", "size"), SMALL_TREES)
def test_a_tampered_inclusion_proof_is_refused(index: int, size: int) -> None:
    accepted = []
    for name, claim in _inclusion_tamperings(index, size).items():
        try:
            verify_inclusion(*claim)
        except InvalidProof:
            continue
        accepted.append(name)
    assert accepted == []


def _consistency_tamperings(old: int, new: int) -> dict[str, ConsistencyClaim]:
    r1, r2, proof = ROOTS[old], ROOTS[new], consistency_proof(old, LEAVES[:new])
    cases: dict[str, ConsistencyClaim] = {
        "old - 1": (old - 1, new, r1, r2, proof),
        "old + 1": (old + 1, new, r1, r2, proof),
        "old ^ 2": (old ^ 2, new, r1, r2, proof),
        "new * 2": (old, new * 2, r1, r2, proof),
        "new // 2": (old, new // 2, r1, r2, proof),
        "another old root": (old, new, SOME_HASH, r2, proof),
        "another new root": (old, new, r1, SOME_HASH, proof),
        "swapped roots": (old, new, r2, r1, proof),
        "no proof": (old, new, r1, r2, []),
        "trailing garbage": (old, new, r1, r2, [*proof, b""]),
        "trailing old root": (old, new, r1, r2, [*proof, r1]),
        "trailing new root": (old, new, r1, r2, [*proof, r2]),
        "preceding old root": (old, new, r1, r2, [r1, *proof]),
        "preceding new root": (old, new, r1, r2, [r2, *proof]),
        "repeated first": (old, new, r1, r2, [proof[0], *proof]),
        "dropped last": (old, new, r1, r2, proof[:-1]),
        "dropped first": (old, new, r1, r2, proof[1:]),
    }
    if new < len(LEAVES):
        cases["new + 1"] = (old, new + 1, r1, ROOTS[new + 1], proof)
    for at in range(len(proof)):
        cases[f"flipped proof[{at}]"] = (old, new, r1, r2, _flipped(proof, at))
    return cases


@pytest.mark.parametrize(("old", "new"), SMALL_PREFIXES)
def test_a_tampered_consistency_proof_is_refused(old: int, new: int) -> None:
    accepted = []
    for name, claim in _consistency_tamperings(old, new).items():
        try:
            verify_consistency(*claim)
        except InvalidProof:
            continue
        accepted.append(name)
    assert accepted == []


@pytest.mark.parametrize(("old", "new"), SMALL_PREFIXES)
def test_a_consistency_proof_from_a_forked_log_is_refused_for_an_old_head_it_does_not_extend(
    old: int, new: int
) -> None:
    # The log showed a reader the head of a different tree of `old` leaves, then proves that
    # its real tree grew from its real prefix. The proof is genuine for the new head, so a
    # verifier that rebuilt only the new root would accept it (the old pymerkle bug).
    forked = [leaf_hash(b"forked %d" % i) for i in range(old)]
    proof = consistency_proof(old, LEAVES[:new])
    with pytest.raises(InvalidProof):
        verify_consistency(old, new, tree_head(forked), ROOTS[new], proof)


def test_sizes_that_need_no_proof_take_only_an_empty_one() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [])
    verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    refused: list[ConsistencyClaim] = [
        (0, 5, EMPTY_ROOT, ROOTS[5], [EMPTY_ROOT]),
        (5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]]),
        (0, 5, ROOTS[1], ROOTS[5], []),
        (5, 5, ROOTS[5], ROOTS[6], []),
        (6, 5, ROOTS[6], ROOTS[5], []),
        (-1, 5, EMPTY_ROOT, ROOTS[5], []),
    ]
    for claim in refused:
        with pytest.raises(InvalidProof):
            verify_consistency(*claim)
    with pytest.raises(InvalidProof):
        verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(InvalidProof):
        verify_inclusion(LEAVES[0], 1, 1, [], LEAVES[0])


def test_proofs_are_not_made_for_leaves_or_prefixes_outside_the_tree() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(8, LEAVES)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(-1, LEAVES)
    with pytest.raises(ValueError, match="no prefix"):
        consistency_proof(9, LEAVES)


@st.composite
def _trees(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    entries = draw(st.lists(st.binary(max_size=8), min_size=1, max_size=64))
    index = draw(st.integers(0, len(entries) - 1))
    old = draw(st.integers(1, len(entries)))
    return [leaf_hash(entry) for entry in entries], index, old


@given(_trees())
def test_proofs_of_random_trees_verify_and_refuse_another_leaf_or_prefix(
    tree: tuple[list[bytes], int, int],
) -> None:
    leaves, index, old = tree
    size, root = len(leaves), tree_head(leaves)
    proof = inclusion_proof(index, leaves)
    verify_inclusion(leaves[index], index, size, proof, root)
    if leaves[(index + 1) % size] != leaves[index]:
        with pytest.raises(InvalidProof):
            verify_inclusion(leaves[(index + 1) % size], index, size, proof, root)

    old_root = tree_head(leaves[:old])
    proof = consistency_proof(old, leaves)
    verify_consistency(old, size, old_root, root, proof)
    if old < size:
        changed = [leaf_hash(b"not in the log"), *leaves[1:old]]
        with pytest.raises(InvalidProof):
            verify_consistency(old, size, tree_head(changed), root, proof)
        with pytest.raises(InvalidProof):
            verify_consistency(old, size, old_root, tree_head(leaves[:-1] + changed[:1]), proof)
