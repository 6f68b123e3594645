"""RFC 6962 Merkle trees: known-answer vectors (certificate-transparency) and consistency proofs."""

from __future__ import annotations

import pytest

from config_audit.ledger.merkle import (
    ConsistencyError,
    consistency_proof,
    leaf_hash,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
)

LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CONSISTENCY = {
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
    (2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
}  # fmt: skip
HASHES = [leaf_hash(x) for x in LEAVES]


@pytest.mark.parametrize("n", range(9))
def test_roots_match_rfc6962_vectors(n: int) -> None:
    assert tree_root(LEAVES[:n]).hex() == ROOTS[n]


@pytest.mark.parametrize(("m", "n"), sorted(CONSISTENCY))
def test_consistency_proofs_match_vectors(m: int, n: int) -> None:
    proof = consistency_proof(m, HASHES[:n])
    assert [p.hex() for p in proof] == CONSISTENCY[(m, n)]
    verify_consistency(m, n, bytes.fromhex(ROOTS[m]), bytes.fromhex(ROOTS[n]), proof)


def test_every_pair_up_to_40_verifies_and_tampering_fails() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(40)]
    roots = [root_from_leaf_hashes(hashes[:n]) for n in range(41)]
    for n in range(1, 41):
        for m in range(1, n + 1):
            proof = consistency_proof(m, hashes[:n])
            verify_consistency(m, n, roots[m], roots[n], proof)
            if m < n:
                with pytest.raises(ConsistencyError):
                    verify_consistency(m, n, roots[m], roots[n - 1], proof)
                if proof:
                    bad = [*proof[:-1], bytes(32)]
                    with pytest.raises(ConsistencyError):
                        verify_consistency(m, n, roots[m], roots[n], bad)


def test_rewritten_prefix_is_inconsistent() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(10)]
    forged = [*hashes[:3], leaf_hash(b"forged"), *hashes[4:]]
    with pytest.raises(ConsistencyError):
        verify_consistency(
            6, 10, root_from_leaf_hashes(hashes[:6]), root_from_leaf_hashes(forged),
            consistency_proof(6, forged),
        )  # fmt: skip
