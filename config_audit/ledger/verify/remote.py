"""Verification of the copies in object storage: each sealed segment present, intact, locked.

Every segment the log knows of (on disk, in the upload state, or by a manifest in the store) must
be in the store with its checkpoint and signed manifest, must match that manifest, must match the
local manifest where one is kept, and, when a lock is configured or was recorded at upload, must
be under an unexpired Object Lock of that mode. Segments that pass are handed back so the chain
can be verified from them where the local copy was pruned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config_audit.errors import VerificationError
from config_audit.ledger.archive import (
    MANIFEST_SUFFIX,
    SEGMENT_SUFFIX,
    archive_dir,
    segment_paths,
    verify_segment_bytes,
)
from config_audit.ledger.checkpoint import verify_checkpoint
from config_audit.ledger.remote import S3Store
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.upload import read_state, sidecar_names
from config_audit.ledger.verify.findings import Code, LogFinding
from config_audit.times import parse_time


@dataclass(frozen=True)
class RemoteCheck:
    url: str
    findings: tuple[LogFinding, ...]
    segments: dict[str, bytes] = field(default_factory=dict)  # name -> verified segment bytes
    manifests: dict[str, bytes] = field(default_factory=dict)  # segment name -> its manifest
    checked: int = 0


def _range(manifest: dict[str, Any] | None) -> tuple[int | None, int | None]:
    if not manifest:
        return None, None
    return manifest.get("first_seq"), manifest.get("last_seq")


def _local_manifest(directory: Path, name: str) -> tuple[bytes | None, dict[str, Any] | None]:
    path = directory / (name[: -len(SEGMENT_SUFFIX)] + MANIFEST_SUFFIX)
    try:
        raw = path.read_bytes()
        return raw, json.loads(raw)
    except (OSError, ValueError):
        return None, None


def check_remote(
    log: Path,
    store: S3Store,
    trusted: TrustedKeys,
    *,
    lock_mode: str | None,
    now: datetime | None = None,
) -> RemoteCheck:
    """Findings about the store's copies of `log`'s segments (never raises for their content)."""
    now = now or datetime.now(UTC)
    directory = archive_dir(log)
    url = store.target.url
    recorded = {k: v for k, v in read_state(log)["segments"].items() if v.get("url") == url}
    present = store.names()
    known = {p.name for p in segment_paths(directory)} | set(recorded)
    known |= {
        n[: -len(MANIFEST_SUFFIX)] + SEGMENT_SUFFIX for n in present if n.endswith(MANIFEST_SUFFIX)
    }
    findings: list[LogFinding] = []
    good: dict[str, bytes] = {}
    good_manifests: dict[str, bytes] = {}
    for name in sorted(known):
        finding, data, manifest_raw = _check_segment(
            store, directory, name, recorded.get(name), trusted, lock_mode, now
        )
        if finding is not None:
            findings.append(finding)
        elif data is not None and manifest_raw is not None:
            good[name] = data
            good_manifests[name] = manifest_raw
    return RemoteCheck(url, tuple(findings), good, good_manifests, len(known))


def _check_segment(
    store: S3Store,
    directory: Path,
    name: str,
    recorded: dict[str, Any] | None,
    trusted: TrustedKeys,
    lock_mode: str | None,
    now: datetime,
) -> tuple[LogFinding | None, bytes | None, bytes | None]:
    """(finding, segment bytes, manifest bytes) for one segment's copy in the store."""
    url = store.target.url
    local_raw, local = _local_manifest(directory, name)
    first, last = _range(local)
    seg_name, cp_name, man_name = sidecar_names(name)
    data, manifest_raw, cp_raw = store.get(seg_name), store.get(man_name), store.get(cp_name)
    missing = [
        n for n, b in ((seg_name, data), (cp_name, cp_raw), (man_name, manifest_raw)) if b is None
    ]
    if missing or data is None or manifest_raw is None or cp_raw is None:
        was = " (recorded as uploaded)" if recorded else ""
        detail = f"{url}{', '.join(missing)} absent{was}"
        return LogFinding(Code.REMOTE_MISSING, first, last, (), detail), None, None
    try:
        manifest = verify_segment_bytes(url + seg_name, data, manifest_raw, trusted)
        first, last = _range(manifest)
        checkpoint = verify_checkpoint(cp_raw.decode("utf-8"), trusted)
        if checkpoint.size != last:
            raise VerificationError(f"{url}{cp_name}: covers {checkpoint.size} records, not {last}")
    except (VerificationError, UnicodeDecodeError) as exc:
        return LogFinding(Code.REMOTE_ALTERED, first, last, (), str(exc)), None, None
    if local_raw is not None and local_raw != manifest_raw:
        detail = f"{url}{man_name} differs from the local manifest"
        return LogFinding(Code.REMOTE_ALTERED, first, last, (), detail), None, None
    wanted = lock_mode or (recorded or {}).get("lock_mode")
    if wanted:
        problem = _lock_problem(store, (seg_name, cp_name, man_name), wanted, recorded, now)
        if problem:
            return LogFinding(Code.REMOTE_UNLOCKED, first, last, (), problem), None, None
    return None, data, manifest_raw


def _lock_problem(
    store: S3Store,
    names: tuple[str, ...],
    mode: str,
    recorded: dict[str, Any] | None,
    now: datetime,
) -> str | None:
    promised = recorded.get("retain_until") if recorded else None
    for name in names:
        head = store.head(name)
        if head is None or head.lock is None:
            return f"{store.target.url}{name}: no Object Lock retention"
        if head.lock.mode != mode:
            return f"{store.target.url}{name}: lock mode {head.lock.mode}, expected {mode}"
        until = head.lock.retain_until
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if promised and until < parse_time(str(promised)):
            return (
                f"{store.target.url}{name}: lock shortened to {until.isoformat()} (was {promised})"
            )
        if not promised and until <= now:
            return f"{store.target.url}{name}: lock expired {until.isoformat()}"
    return None
