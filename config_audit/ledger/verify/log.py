"""Offline verification of a record log: signatures, key windows, the hash chain, checkpoints.

Each problem becomes a finding with a distinct code and the exact seq range it affects. The
chain is the witness: a record's content is vouched for when a later record's prev_hash names
its hash, so a bad signature over vouched content is a corrupted signature, while a bad signature
over unvouched content is an edit. Records whose content is not authentic never steer the seq
analysis; they only fill the positions they occupy.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config_audit.ledger.checkpoint import Checkpoint, log_origin
from config_audit.ledger.merkle import (
    ConsistencyError,
    consistency_proof,
    frontier_append,
    frontier_root,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
)
from config_audit.ledger.records import split_log
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.chain import analyze
from config_audit.ledger.verify.findings import Code, LogFinding
from config_audit.ledger.verify.lines import LineCheck, check_lines


@dataclass(frozen=True)
class ChainBase:
    """Where verification starts when earlier records were pruned, from the oldest kept
    segment's signed manifest: how many records came before it, the hash of the last and of
    the first (the log's origin), and the Merkle frontier of them (so checkpoints still apply)."""

    count: int
    last_hash: str
    first_hash: str
    frontier: tuple[bytes, ...]


@dataclass(frozen=True)
class VerifyReport:
    path: str
    lines: int
    findings: tuple[LogFinding, ...]
    checkpoint_size: int | None = None
    first_seq: int = 1
    pruned: tuple[dict[str, Any], ...] = ()  # the signed prune records behind first_seq

    @property
    def ok(self) -> bool:
        return not self.findings

    def codes(self) -> set[str]:
        return {f.code.value for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "lines": self.lines,
            "checkpoint_size": self.checkpoint_size,
            "first_seq": self.first_seq,
            "pruned": list(self.pruned),
            "findings": [f.to_dict() for f in self.findings],
        }


def check_log_bytes(
    data: bytes,
    trusted: TrustedKeys,
    *,
    checkpoint: Checkpoint | None = None,
    path: str = "<log>",
    cache: MutableMapping[bytes, LineCheck] | None = None,
    workers: int | None = None,
    base: ChainBase | None = None,
) -> VerifyReport:
    """Pure verification of a whole log held in memory; never raises for log content.
    With `base`, the log starts after records pruned under retention."""
    lines, torn = split_log(data)
    checks = check_lines(lines, trusted, cache=cache, workers=workers)
    if base is None:
        findings = analyze(checks, trusted, torn_tail=torn)
    else:
        findings = analyze(
            checks, trusted, torn_tail=torn, start_seq=base.count, start_hash=base.last_hash
        )
    complete = checks[:-1] if torn else checks
    if checkpoint is not None:
        findings.extend(check_against_checkpoint(complete, checkpoint, base))
    findings.sort(key=lambda f: (f.first_seq or 0, f.lines[:1], f.code.value))
    return VerifyReport(
        path=path,
        lines=len(lines),
        findings=tuple(findings),
        checkpoint_size=checkpoint.size if checkpoint else None,
        first_seq=base.count + 1 if base else 1,
    )


def check_against_checkpoint(
    checks: Sequence[LineCheck], cp: Checkpoint, base: ChainBase | None = None
) -> list[LogFinding]:
    """Truncation or fork: does the log still extend the checkpointed tree?"""
    if base is not None:
        return _against_checkpoint_after_pruning(checks, cp, base)
    n = len(checks)
    if cut := _truncated(n, cp):
        return cut
    hashes = [leaf_hash(bytes.fromhex(c.record_hash)) for c in checks]
    origin = log_origin(checks[0].record_hash) if checks else cp.origin
    fork = LogFinding(
        Code.FORK,
        1,
        cp.size,
        (),
        f"the first {cp.size} records do not hash to the checkpoint's root"
        + ("" if origin == cp.origin else f" (origin {cp.origin!r}, log is {origin!r})"),
    )
    if origin != cp.origin or root_from_leaf_hashes(hashes[: cp.size]) != cp.root:
        return [fork]
    try:
        verify_consistency(
            cp.size,
            n,
            cp.root,
            root_from_leaf_hashes(hashes),
            consistency_proof(cp.size, hashes),
        )
    except ConsistencyError:
        return [fork]
    return []


def check_log(
    path: Path,
    trusted: TrustedKeys,
    *,
    checkpoint: Checkpoint | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Read `path` and verify it (see `check_log_bytes`)."""
    return check_log_bytes(
        path.read_bytes(), trusted, checkpoint=checkpoint, path=str(path), workers=workers
    )


def _truncated(n: int, cp: Checkpoint) -> list[LogFinding]:
    """A log of `n` records that the checkpoint says had more: its tail was cut."""
    if cp.size <= n:
        return []
    return [
        LogFinding(
            Code.TRUNCATED,
            n + 1,
            cp.size,
            (),
            f"checkpoint covers {cp.size} records, the log has {n}",
        )
    ]


def _against_checkpoint_after_pruning(
    checks: Sequence[LineCheck], cp: Checkpoint, base: ChainBase
) -> list[LogFinding]:
    """The pruned records are represented by their Merkle frontier: the tree of the first
    `cp.size` records is rebuilt from it plus the kept records' hashes."""
    if cut := _truncated(base.count + len(checks), cp):
        return cut
    if cp.size < base.count:
        return []  # it predates the pruned range; the pruned segments' checkpoints covered it
    frontier = list(base.frontier)
    size = base.count
    for c in checks[: cp.size - base.count]:
        frontier_append(frontier, size, leaf_hash(bytes.fromhex(c.record_hash)))
        size += 1
    if log_origin(base.first_hash) != cp.origin or frontier_root(frontier) != cp.root:
        detail = f"the first {cp.size} records do not hash to the checkpoint's root"
        return [LogFinding(Code.FORK, 1, cp.size, (), detail)]
    return []
