"""Tamper fuzz: random mutations of a 1,000-record log are all caught, with the right code."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config_audit.ledger.checkpoint import Checkpoint, log_origin
from config_audit.ledger.log import record_line_hash, seal
from config_audit.ledger.merkle import leaf_hash, root_from_leaf_hashes
from config_audit.ledger.records import GENESIS_HASH, build_record_body, canonical_bytes, split_line
from config_audit.ledger.signing import Ed25519Signer, TrustedKey, TrustedKeys
from config_audit.ledger.verify.lines import LineCheck
from config_audit.ledger.verify.log import check_log_bytes

N = 1000
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def body(i: int) -> dict:
    return build_record_body(
        source="ci",
        path=f"recognizers/r{i % 7}.yaml",
        commit=f"{i:040x}",
        changes=[
            {
                "kind": "pattern.score_lowered",
                "impact": "weakens",
                "recognizer": f"Rec{i} [en]",
                "summary": f"score 0.{i % 9 + 1} -> 0.1",
                "entities": ["EMAIL_ADDRESS"],
                "before": "0.8",
                "after": "0.1",
                "level": "declared",
            }
        ],
        validation={"valid": True, "presidio_version": "2.2.366", "findings": []},
        policy={"verdict": "pass", "violations": []},
        author={"author_name": f"dev{i % 3}", "author_email": "d@example.com", "assurance": "claimed"},
        now=T0 + timedelta(minutes=i),
    )


def build_lines(signer: Ed25519Signer, n: int) -> list[bytes]:
    lines, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        _, line, prev = seal(body(i), signer, seq=i, prev_hash=prev)
        lines.append(line)
    return lines


@pytest.fixture(scope="module")
def world():
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    rogue = Ed25519Signer(Ed25519PrivateKey.generate())
    trusted = TrustedKeys([TrustedKey(signer.key_id, signer.public_key, "auditor")])
    lines = build_lines(signer, N)
    cache: dict[bytes, LineCheck] = {}
    return signer, rogue, trusted, lines, cache


def verify(lines, trusted, cache, *, torn=False, checkpoint=None):
    data = b"\n".join(lines) + (b"" if torn else b"\n")
    return check_log_bytes(data, trusted, cache=cache, checkpoint=checkpoint)


def resign(record: dict, signer: Ed25519Signer) -> bytes:
    rec = {k: v for k, v in record.items() if k not in ("signature", "key_id")}
    rec["key_id"] = signer.key_id
    import base64

    from config_audit.ledger.records import signing_payload

    rec["signature"] = base64.b64encode(signer.sign(signing_payload(rec))).decode()
    return canonical_bytes(rec)


def flip_oracle(original: bytes, mutated: bytes, index: int, n: int) -> str:
    """The code a byte flip must produce, decided independently of the verifier."""
    if b"\n" in mutated:
        return "unparseable"
    try:
        new = json.loads(mutated)
    except ValueError:
        return "unparseable"
    if not isinstance(new, dict):
        return "unparseable"
    old = json.loads(original)
    if not isinstance(new.get("signature"), str) or not new.get("signature"):
        return "signature-missing"
    strip = lambda d: {k: v for k, v in d.items() if k != "signature"}  # noqa: E731
    if strip(new) == strip(old):
        return "signature-invalid" if index < n - 1 else "edited"
    if new.get("key_id") != old["key_id"]:
        return "unknown-key"
    return "edited"


def mutate(kind: str, rng: random.Random, world) -> tuple[list[bytes], str, set[int], dict]:
    """Returns (mutated lines, expected code, seqs the finding must cover, verify kwargs)."""
    signer, rogue, _, lines, _ = world
    out = list(lines)
    n = len(lines)
    if kind == "flip":
        i = rng.randrange(n)
        raw = bytearray(out[i])
        raw[rng.randrange(len(raw))] ^= rng.randrange(1, 256)
        out[i] = bytes(raw)
        expected = flip_oracle(lines[i], out[i], i, n)
        if b"\n" in out[i]:
            out[i : i + 1] = out[i].split(b"\n")
        return out, expected, {i + 1}, {}
    if kind == "sigflip":
        i = rng.randrange(n)
        rec = json.loads(out[i])
        sig = bytearray(rec["signature"].encode())
        pos = rng.randrange(len(sig) - 2)  # keep the base64 padding
        sig[pos] = ord("A") if sig[pos] != ord("A") else ord("B")
        rec["signature"] = sig.decode()
        out[i] = canonical_bytes(rec)
        return out, ("signature-invalid" if i < n - 1 else "edited"), {i + 1}, {}
    if kind == "delete":
        i, k = rng.randrange(n - 4), rng.randint(1, 3)
        del out[i : i + k]
        return out, "deleted", set(range(i + 1, i + k + 1)), {}
    if kind == "insert":
        i = rng.randrange(n - 2)  # after line i+1 (seq i+1), never after the last record
        _, line, _ = seal(body(5000 + i), signer, seq=i + 2, prev_hash=record_line_hash(lines[i]))
        out.insert(i + 1, line)
        return out, "inserted", {i + 2}, {}
    if kind == "swap":
        a, b = sorted(rng.sample(range(n), 2))
        out[a], out[b] = out[b], out[a]
        return out, "reordered", {a + 1, b + 1}, {}
    if kind == "duplicate":
        i, j = rng.randrange(n), rng.randrange(n + 1)
        out.insert(j, lines[i])
        return out, "duplicated", {i + 1}, {}
    if kind == "strip":
        i = rng.randrange(n)
        rec = json.loads(out[i])
        del rec["signature"]
        out[i] = canonical_bytes(rec)
        return out, "signature-missing", {i + 1}, {}
    if kind == "resign":
        i = rng.randrange(n)
        rec, _ = split_line(out[i])
        if rng.random() < 0.5:
            rec["path"] = "recognizers/innocent.yaml"
        out[i] = resign(rec, rogue)
        return out, "unknown-key", {i + 1}, {}
    if kind == "truncate":
        hashes = [hashlib.sha256(split_line(x)[1]).digest() for x in lines]
        cp = Checkpoint(
            origin=log_origin(hashes[0].hex()),
            size=n,
            root=root_from_leaf_hashes([leaf_hash(h) for h in hashes]),
        )
        k = rng.randint(1, 5)
        out = out[: n - k]
        torn = rng.random() < 0.3
        if torn:
            out.append(lines[n - k][: rng.randrange(1, len(lines[n - k]) - 1)])
        return out, "truncated", {n}, {"checkpoint": cp, "torn": torn}
    raise AssertionError(kind)


KINDS = ["flip", "sigflip", "delete", "insert", "swap", "duplicate", "strip", "resign", "truncate"]


def test_clean_log_has_no_findings(world):
    _, _, trusted, lines, cache = world
    assert verify(lines, trusted, cache).findings == ()


def test_hundred_clean_small_logs_have_no_findings():
    rng = random.Random(7)
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    trusted = TrustedKeys([TrustedKey(signer.key_id, signer.public_key, "a")])
    all_lines = build_lines(signer, 60)
    for _ in range(100):
        n = rng.randint(0, 60)
        report = check_log_bytes(b"".join(x + b"\n" for x in all_lines[:n]), trusted)
        assert report.findings == (), report.to_dict()


def test_random_mutations_are_detected_with_the_right_code(world):
    _, _, trusted, _, cache = world
    rng = random.Random(20240501)
    misses = []
    verified: dict[str, int] = {}
    for round_ in range(60):
        for kind in KINDS:
            mutated, expected, seqs, kwargs = mutate(kind, rng, world)
            verified[expected] = verified.get(expected, 0) + 1
            report = verify(mutated, trusted, cache, **kwargs)
            hits = [
                f
                for f in report.findings
                if f.code.value == expected
                and f.first_seq is not None
                and any(f.first_seq <= s <= (f.last_seq or f.first_seq) for s in seqs)
            ]
            if not hits:
                misses.append(
                    (round_, kind, expected, seqs, [f.to_dict() for f in report.findings])
                )
    assert not misses, misses[:3]
    assert sum(verified.values()) >= 500  # mutations really verified, not a constant
    assert len(verified) >= 8, verified  # and spread over the finding codes
