"""RFC 6962 / RFC 9162 Merkle tree hashing and consistency proofs over record hashes.

Leaves are the 32-byte record hashes; leaf hash = sha256(0x00 || data), node = sha256(0x01||l||r).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from config_audit.errors import VerificationError

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ConsistencyError(VerificationError):
    code = "consistency"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already leaf-hashed entries, bottom-up.

    Pairing left to right and carrying an odd last node up unchanged gives exactly the RFC 6962
    split-at-largest-power-of-two tree, without recursion.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def frontier_append(frontier: list[bytes], size: int, leaf: bytes) -> None:
    """Add one leaf hash to a tree of `size` leaves kept as its frontier: the roots of its
    perfect subtrees, largest (leftmost) first, one per set bit of `size`."""
    node = leaf
    while size & 1:
        node = node_hash(frontier.pop(), node)
        size >>= 1
    frontier.append(node)


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The RFC 6962 root of a tree given by its frontier (folded from the right)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of raw leaf data."""
    return root_from_leaf_hashes([leaf_hash(d) for d in leaves])


def _subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [root_from_leaf_hashes(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), root_from_leaf_hashes(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root_from_leaf_hashes(hashes[:k])]


def consistency_proof(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) per RFC 6962 section 2.1.2, from the n leaf hashes."""
    if not 0 <= m <= len(hashes):
        raise ValueError(f"old size {m} is outside 0..{len(hashes)}")
    if m == 0:
        return []
    return _subproof(m, hashes, True)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise `ConsistencyError` unless tree `second` extends tree `first` (RFC 9162 2.1.4.2)."""

    def fail(why: str) -> ConsistencyError:
        return ConsistencyError(
            f"tree of size {second} does not extend the checkpointed tree of size {first}: {why}",
            advice="the log was truncated or its history rewritten since the checkpoint",
        )

    if first > second or first < 0:
        raise fail("the old size is larger")
    if first == second:
        if proof or first_root != second_root:
            raise fail("same size, different root")
        return
    if first == 0:
        if proof:
            raise fail("non-empty proof from the empty tree")
        return
    if not proof:
        raise fail("empty proof")
    path = list(proof)
    if first & (first - 1) == 0:  # exact power of two: the old root is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise fail("proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise fail("proof does not match the roots")
