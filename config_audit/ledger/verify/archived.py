"""Verification of a log with sealed segments: on disk, in object storage, or pruned.

The chain is read from the segments (the local copy where kept, else the verified copy from the
store) then the live log. When the oldest segment available starts after seq 1, verification
starts from its signed manifest's `prefix` (count, last hash, Merkle frontier of everything
before), and the signed prune records in the chain must account for every record before it.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config_audit.ledger.archive import read_manifest, segment_paths, verify_segment
from config_audit.ledger.checkpoint import Checkpoint
from config_audit.ledger.records import split_line, split_log
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.findings import Code, LogFinding
from config_audit.ledger.verify.log import ChainBase, VerifyReport, check_log_bytes

PRUNE_SOURCE = "prune"


def chain_base(manifest: Mapping[str, Any]) -> ChainBase | None:
    """Where the chain starts when the segment of `manifest` is the oldest one available."""
    first = int(manifest.get("first_seq") or 1)
    prefix = manifest.get("prefix") or {}
    if first <= 1 or prefix.get("count") != first - 1:
        return None  # from the genesis: anything missing before is a deletion
    return ChainBase(
        count=first - 1,
        last_hash=str(manifest["first_prev_hash"]),
        first_hash=str(prefix["first_record_hash"]),
        frontier=tuple(bytes.fromhex(h) for h in prefix["frontier"]),
    )


def prune_records(data: bytes, trusted: TrustedKeys) -> list[dict[str, Any]]:
    """The validly signed prune records in the log bytes, as who pruned what under which rule."""
    out = []
    for line in split_log(data)[0]:
        if b'"prune"' not in line:
            continue
        try:
            record, _ = split_line(line)
            if record.get("source") != PRUNE_SOURCE:
                continue
            trusted.verify(record)
        except Exception:  # a forged or damaged one is the chain analysis' finding
            continue
        pruned = (record.get("extra") or {}).get("pruned") or {}
        author = record.get("author") or {}
        out.append(
            {
                "seq": record.get("seq"),
                "time": record.get("time"),
                "first_seq": pruned.get("first_seq"),
                "last_seq": pruned.get("last_seq"),
                "retention": pruned.get("retention"),
                "remote": pruned.get("remote"),
                "local_only": pruned.get("local_only"),
                "by": f"{author.get('os_user')}@{author.get('host')}",
                "key_id": record.get("key_id"),
            }
        )
    return out


def _uncovered(count: int, records: list[dict[str, Any]]) -> list[tuple[int, int]]:
    covered = sorted((int(r["first_seq"]), int(r["last_seq"])) for r in records if r["first_seq"])
    gaps, nxt = [], 1
    for first, last in covered:
        if first > nxt:
            gaps.append((nxt, min(first - 1, count)))
        nxt = max(nxt, last + 1)
    if nxt <= count:
        gaps.append((nxt, count))
    return [g for g in gaps if g[0] <= g[1]]


def verify_archived_log(
    log: Path,
    directory: Path,
    trusted: TrustedKeys,
    *,
    checkpoint: Checkpoint | None,
    remote_segments: Mapping[str, bytes] | None = None,
    remote_manifests: Mapping[str, bytes] | None = None,
) -> VerifyReport:
    """Verify segments (raising for a damaged local one, like `verify_segment`) then the chain."""
    local = segment_paths(directory)
    for segment in local:
        verify_segment(segment, trusted)
    data_by_name: dict[str, bytes] = dict(remote_segments or {})
    data_by_name.update({p.name: p.read_bytes() for p in local})
    names = sorted(data_by_name)
    base = None
    if names:
        oldest = directory / names[0]
        if oldest.is_file():
            base = chain_base(read_manifest(oldest))
        elif remote_manifests and names[0] in remote_manifests:
            base = chain_base(json.loads(remote_manifests[names[0]]))
    data = b"".join(gzip.decompress(data_by_name[n]) for n in names) + log.read_bytes()
    report = check_log_bytes(data, trusted, checkpoint=checkpoint, path=str(log), base=base)
    if base is None:
        return report
    records = prune_records(data, trusted)
    extra = [
        LogFinding(
            Code.PRUNED_UNRECORDED,
            first,
            last,
            (),
            f"no signed prune record covers seq {first}..{last}",
        )
        for first, last in _uncovered(base.count, records)
    ]
    return dataclasses.replace(
        report,
        findings=report.findings + tuple(extra),
        pruned=tuple(r for r in records if r["first_seq"] and r["first_seq"] <= base.count),
    )
