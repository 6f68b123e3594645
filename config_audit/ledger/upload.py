"""Copies of sealed segments where the writer cannot rewrite them: object storage under a lock.

`upload_segments` sends each sealed segment, then its checkpoint, then its signed manifest (last:
a manifest in the store means the segment before it is complete), each with its SHA-256 checked
by the store and read back. Only then is the segment recorded as uploaded in
`<log>.archive/remote.json`, atomically: a run killed mid-upload leaves nothing recorded for the
segment it was sending, and the next run finds what already arrived intact and sends the rest.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config_audit.durable import write_atomic
from config_audit.errors import UsageError
from config_audit.ledger.archive import (
    CHECKPOINT_SUFFIX,
    MANIFEST_SUFFIX,
    SEGMENT_SUFFIX,
    archive_dir,
    segment_paths,
)
from config_audit.ledger.remote import (
    LOCK_MODES,
    SSE_MODES,
    Lock,
    RemoteError,
    RemoteTarget,
    S3Store,
    StoredObject,
)
from config_audit.times import format_time

logger = logging.getLogger(__name__)

STATE_NAME = "remote.json"
STATE_SCHEMA = "config-audit/remote-state/v1"
REMOTE_KEYS = frozenset(
    {"url", "endpoint_url", "region", "lock_mode", "lock_days", "sse", "kms_key_id"}
)
RETENTION_KEYS = frozenset({"keep_days", "local_days", "remote"})
SIDECARS = (SEGMENT_SUFFIX, CHECKPOINT_SUFFIX, MANIFEST_SUFFIX)  # upload order: manifest last


@dataclass(frozen=True)
class RemoteSettings:
    """`retention.remote` in `.config-audit.yaml` (never credentials: the AWS chain has those)."""

    url: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    lock_mode: str | None = None  # COMPLIANCE | GOVERNANCE | None
    lock_days: int | None = None
    sse: str | None = None
    kms_key_id: str | None = None

    @classmethod
    def parse(cls, retention: Mapping[str, Any], *, url: str | None = None) -> RemoteSettings:
        unknown_retention = sorted(set(retention) - RETENTION_KEYS)
        if unknown_retention:
            raise UsageError(
                f"retention: unknown key(s) {unknown_retention}",
                advice=f"valid keys: {sorted(RETENTION_KEYS)}",
            )
        raw = retention.get("remote") or {}
        if not isinstance(raw, dict):
            raise UsageError("retention.remote must be a mapping")
        unknown = sorted(set(raw) - REMOTE_KEYS)
        if unknown:
            raise UsageError(
                f"retention.remote: unknown key(s) {unknown}",
                advice=f"valid keys: {sorted(REMOTE_KEYS)}; credentials come from the AWS "
                "environment or shared config, never from this file",
            )
        mode = raw.get("lock_mode")
        mode = None if mode in (None, "none") else str(mode).upper()
        if mode is not None and mode not in LOCK_MODES:
            raise UsageError("retention.remote.lock_mode must be compliance, governance or none")
        days = raw.get("lock_days")
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
            raise UsageError("retention.remote.lock_days must be a whole number of days >= 1")
        if mode is not None and days is None:
            raise UsageError("retention.remote.lock_mode needs lock_days (how long to lock)")
        sse = raw.get("sse")
        if sse is not None and sse not in SSE_MODES:
            raise UsageError(f"retention.remote.sse must be one of {list(SSE_MODES)}")
        strs = {k: raw.get(k) for k in ("url", "endpoint_url", "region", "kms_key_id")}
        for key, value in strs.items():
            if value is not None and not isinstance(value, str):
                raise UsageError(f"retention.remote.{key} must be a string")
        return cls(
            url=url or strs["url"],
            endpoint_url=strs["endpoint_url"],
            region=strs["region"],
            lock_mode=mode,
            lock_days=days,
            sse=sse,
            kms_key_id=strs["kms_key_id"],
        )

    def target(self) -> RemoteTarget:
        if not self.url:
            raise UsageError(
                "no remote given", advice="pass --to s3://bucket/prefix or set retention.remote.url"
            )
        return RemoteTarget.parse(self.url)

    def store(self) -> S3Store:
        return S3Store(self.target(), endpoint_url=self.endpoint_url, region=self.region)

    def lock_for(self, now: datetime) -> Lock | None:
        if self.lock_mode is None or self.lock_days is None:
            return None
        return Lock(self.lock_mode, (now + timedelta(days=self.lock_days)).replace(microsecond=0))


def state_path(log: Path) -> Path:
    return archive_dir(log) / STATE_NAME


def read_state(log: Path) -> dict[str, Any]:
    """The local record of what was uploaded where; empty when nothing was."""
    path = state_path(log)
    if not path.is_file():
        return {"schema": STATE_SCHEMA, "segments": {}}
    try:
        state: dict[str, Any] = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable upload state: {exc}") from None
    if state.get("schema") != STATE_SCHEMA or not isinstance(state.get("segments"), dict):
        raise UsageError(f"{path}: not an upload state file")
    return state


def _write_state(log: Path, state: dict[str, Any]) -> None:
    write_atomic(state_path(log), json.dumps(state, indent=2, sort_keys=True).encode() + b"\n")


def sidecar_names(segment_name: str) -> list[str]:
    stem = segment_name[: -len(SEGMENT_SUFFIX)]
    return [stem + suffix for suffix in SIDECARS]


@dataclass(frozen=True)
class UploadResult:
    uploaded: tuple[str, ...]  # segments sent (or completed) by this run
    already: tuple[str, ...]  # segments recorded before and still intact remotely


Progress = Callable[[str], None]  # called after each object is stored and checked


def _lock_ok(found: Lock | None, wanted: Lock | None) -> bool:
    if wanted is None:
        return True
    return found is not None and found.mode == wanted.mode


def _ensure(
    store: S3Store,
    name: str,
    data: bytes,
    lock: Lock | None,
    remote: RemoteSettings,
) -> StoredObject:
    """Make the store hold exactly `data` under `name` (with the lock); return its version."""
    digest = hashlib.sha256(data).hexdigest()
    current = store.head(name)
    if current is not None and current.size == len(data) and _lock_ok(current.lock, lock):
        if current.sha256 is None:  # a store that keeps no checksums: compare the bytes
            body = store.get(name, current.version_id)
            current_digest = hashlib.sha256(body).hexdigest() if body is not None else None
        else:
            current_digest = current.sha256
        if current_digest == digest:
            return current  # arrived intact in an earlier, interrupted run
    put = store.put(name, data, lock=lock, sse=remote.sse, kms_key_id=remote.kms_key_id)
    back = store.head(name, put.version_id)
    stored = store.get(name, put.version_id)
    if back is None or stored is None or hashlib.sha256(stored).hexdigest() != digest:
        raise RemoteError(
            f"{store.target.url}{name}: read back does not match what was sent",
            advice="the store corrupted or replaced the upload; retry, then investigate",
        )
    if not _lock_ok(back.lock, lock):
        raise RemoteError(
            f"{store.target.url}{name}: uploaded but the store reports no {lock and lock.mode} lock",
            advice="the bucket must be created with Object Lock enabled",
        )
    return back


def upload_segments(
    log: Path,
    remote: RemoteSettings,
    *,
    store: S3Store | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> UploadResult:
    """Upload every sealed segment not yet recorded as uploaded to `remote`; see the module doc.
    Two runs at once (a timer and a hand-run) take turns: the second finds the work done."""
    store = store or remote.store()
    with _upload_lock(log):
        return _upload_all(log, remote, store, now, progress)


@contextmanager
def _upload_lock(log: Path) -> Iterator[None]:
    directory = archive_dir(log)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / (STATE_NAME + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _upload_all(
    log: Path,
    remote: RemoteSettings,
    store: S3Store,
    now: datetime | None,
    progress: Progress | None,
) -> UploadResult:
    state = read_state(log)
    segments: dict[str, Any] = state["segments"]
    uploaded, already = [], []
    for segment in segment_paths(archive_dir(log)):
        entry = segments.get(segment.name)
        if entry is not None and entry.get("url") == store.target.url:
            already.append(segment.name)
            continue
        moment = now or datetime.now(UTC)
        lock = remote.lock_for(moment)
        objects: dict[str, Any] = {}
        for name in sidecar_names(segment.name):
            stored = _ensure(store, name, (segment.parent / name).read_bytes(), lock, remote)
            objects[name] = {
                "key": stored.key,
                "version_id": stored.version_id,
                "sha256": stored.sha256,
                "size": stored.size,
            }
            if progress is not None:
                progress(name)
        segments[segment.name] = {
            "url": store.target.url,
            "uploaded": format_time(moment),
            "lock_mode": lock.mode if lock else None,
            "retain_until": format_time(lock.retain_until) if lock else None,
            "sse": remote.sse,
            "objects": objects,
        }
        # Recorded only now, with all three objects stored and read back.
        _write_state(log, state)
        uploaded.append(segment.name)
        logger.info("uploaded %s to %s", segment.name, store.target.url)
    return UploadResult(tuple(uploaded), tuple(already))
