"""Pruning: local sealed segments past retention leave the disk, and the chain stays verifiable.

A segment goes only when all its records are older than the local retention, when it is not the
newest segment (the oldest kept segment's signed manifest carries the count, Merkle frontier and
last hash of everything before it: `verify` starts there), and when its copy in object storage is
confirmed now (present, same SHA-256, under the configured lock), or the user said `--local-only`
and no remote is configured. The pruning is recorded first, as a signed record naming the range,
the retention and who; only then are the files removed, so a crash leaves files that a record
says are gone (harmless), never files gone without a record.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from config_audit.errors import UsageError
from config_audit.ledger.archive import (
    archive_dir,
    ledger_lock,
    read_manifest,
    read_segment,
    segment_paths,
)
from config_audit.ledger.log import Ledger
from config_audit.ledger.records import build_record_body
from config_audit.ledger.remote import RemoteError, S3Store
from config_audit.ledger.signing import Signer
from config_audit.ledger.upload import RemoteSettings, read_state, sidecar_names
from config_audit.model import Assurance, OperatorEvidence
from config_audit.times import format_time, parse_time

logger = logging.getLogger(__name__)
PRUNE_SOURCE = "prune"


@dataclass(frozen=True)
class PruneResult:
    first_seq: int
    last_seq: int
    segments: tuple[str, ...]
    record: dict[str, Any]


def local_days(retention: dict[str, Any]) -> int:
    """Days a sealed segment stays on local disk: retention.local_days, else keep_days."""
    days = retention.get("local_days", retention.get("keep_days"))
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise UsageError(
            "prune needs retention.local_days (or keep_days): whole days to keep local segments"
        )
    return days


def _newest_time(segment: Path) -> datetime:
    newest = None
    for entry in read_segment(segment):
        newest = parse_time(str(entry.record.get("time")))
    if newest is None:
        raise UsageError(f"{segment}: empty segment")
    return newest


def _confirm_remote(segment: Path, store: S3Store, lock_mode: str | None) -> None:
    """Raise `RemoteError` unless the store holds all three objects, intact, locked as asked."""
    for name in sidecar_names(segment.name):
        local = (segment.parent / name).read_bytes()
        head = store.head(name)
        digest = hashlib.sha256(local).hexdigest()
        if head is not None and head.sha256 is None:  # a store that keeps no checksums
            body = store.get(name, head.version_id)
            head_digest = hashlib.sha256(body).hexdigest() if body is not None else None
        else:
            head_digest = head.sha256 if head else None
        if head is None or head_digest != digest:
            raise RemoteError(
                f"{store.target.url}{name}: not confirmed in object storage; nothing pruned",
                advice="run `config-audit archive --to ...` first, then prune",
            )
        if lock_mode and (head.lock is None or head.lock.mode != lock_mode):
            raise RemoteError(
                f"{store.target.url}{name}: not under a {lock_mode} lock; nothing pruned",
                advice="fix the bucket's Object Lock, re-upload, then prune",
            )


def prune_candidates(log: Path, *, older_than: datetime) -> list[Path]:
    """The oldest segments whose every record is older than `older_than`, never the newest."""
    segments = segment_paths(archive_dir(log))
    out: list[Path] = []
    for segment in segments[:-1]:
        if _newest_time(segment) >= older_than:
            break
        out.append(segment)
    if out:
        kept = segments[len(out)]
        prefix = read_manifest(kept).get("prefix") or {}
        if prefix.get("count") != read_manifest(kept)["first_seq"] - 1:
            raise UsageError(
                f"{kept.name}: its manifest does not carry the records before it, so verify "
                "could not start there",
                advice="segments sealed before prune existed cannot anchor pruning; "
                "archive again so a newer segment anchors it",
            )
    return out


def prune(
    log: Path,
    signer: Signer,
    *,
    retention: dict[str, Any],
    now: datetime,
    remote: RemoteSettings | None,
    local_only: bool = False,
    store: S3Store | None = None,
) -> PruneResult | None:
    """Remove local segments past retention (see the module doc); None when none qualify."""
    days = local_days(retention)
    if local_only and remote is not None and remote.url:
        raise UsageError(
            "--local-only with a remote configured",
            advice="drop --local-only: segments are pruned once confirmed in retention.remote",
        )
    if not local_only and (remote is None or not remote.url):
        raise UsageError(
            "no remote to confirm the segments in",
            advice="set retention.remote.url (or --to), or pass --local-only to prune without",
        )
    older_than = now - timedelta(days=days)
    candidates = prune_candidates(log, older_than=older_than)
    if not candidates:
        return None
    url = None
    if not local_only and remote is not None:
        store = store or remote.store()
        url = store.target.url
        uploaded = read_state(log)["segments"]
        for segment in candidates:
            if uploaded.get(segment.name, {}).get("url") != url:
                raise RemoteError(
                    f"{segment.name}: not recorded as uploaded to {url}; nothing pruned",
                    advice="run `config-audit archive --to ...` first, then prune",
                )
            _confirm_remote(segment, store, remote.lock_mode)
    manifests = [read_manifest(s) for s in candidates]
    first, last = manifests[0]["first_seq"], manifests[-1]["last_seq"]
    pruned = {
        "first_seq": first,
        "last_seq": last,
        "segments": [{"name": m["segment"], "sha256": m["sha256"]} for m in manifests],
        "retention": {"local_days": days, "older_than": format_time(older_than)},
        "remote": url,
        "lock_mode": remote.lock_mode if remote else None,
        "local_only": local_only,
    }
    author = OperatorEvidence(
        Assurance.OS_USER, os_user=getpass.getuser(), host=socket.gethostname()
    ).to_dict()
    body = build_record_body(
        source=PRUNE_SOURCE, path=None, author=author, extra={"pruned": pruned}, now=now
    )
    record = Ledger(log).append(body, signer)  # recorded before anything is removed
    with ledger_lock(log):
        for segment in candidates:
            for name in sidecar_names(segment.name):
                (segment.parent / name).unlink(missing_ok=True)
    logger.info("pruned seq %d..%d (%d segments) from %s", first, last, len(candidates), log)
    return PruneResult(first, last, tuple(s.name for s in candidates), record)
