"""Retention: seal old records into signed, compressed segments; read archives + live log as one.

`archive_before` moves a prefix of the live log (records older than the cutoff and outside the
retention window) into `<log>.archive/segment-<first>-<last>.jsonl.gz` with a signed manifest
and a signed checkpoint of the archived prefix, then atomically replaces the live log with the
remaining lines, under the ledger's lock. The hash chain is untouched: the first live record
still names the last archived record as its prev_hash, and `read_sequence` yields the whole chain.
"""

from __future__ import annotations

import base64
import fcntl
import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config_audit.durable import write_atomic
from config_audit.errors import UsageError, VerificationError
from config_audit.ledger.checkpoint import Checkpoint, NoteSigner, log_origin, sign_checkpoint
from config_audit.ledger.entries import Entry, read_entries
from config_audit.ledger.log import Ledger
from config_audit.ledger.merkle import frontier_append, frontier_root, leaf_hash, tree_root
from config_audit.ledger.records import GENESIS_HASH, canonical_bytes
from config_audit.ledger.signing import TrustedKeys
from config_audit.times import format_time, parse_time

SEGMENT_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
CHECKPOINT_SUFFIX = ".checkpoint"
MANIFEST_SCHEMA = "config-audit/archive-manifest/v1"
MANIFEST_DOMAIN = MANIFEST_SCHEMA.encode() + b"\n"


class ArchiveError(VerificationError):
    code = "archive"


def archive_dir(log: Path) -> Path:
    """Where a log's sealed segments live: `<log>.archive/` beside it."""
    return log.with_name(log.name + ".archive")


def segment_paths(directory: Path) -> list[Path]:
    """Sealed segments in sequence order (names carry the zero-padded first seq)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("segment-*" + SEGMENT_SUFFIX))


def _sidecar(segment: Path, suffix: str) -> Path:
    return segment.with_name(segment.name[: -len(SEGMENT_SUFFIX)] + suffix)


def read_segment(path: Path) -> Iterator[Entry]:
    with gzip.open(path, "rb") as fh:
        for raw in fh:
            yield Entry.from_line(raw.rstrip(b"\n"))


def read_sequence(log: Path, archives: Path | None = None) -> Iterator[Entry]:
    """Archived segments, then the live log: the whole chain as one sequence of entries.

    A live record already sealed (a crash between sealing and replacing the live log) is
    yielded once, from its segment.
    """
    segments = segment_paths(archives or archive_dir(log))
    last = 0
    for segment in segments:
        for entry in read_segment(segment):
            last = int(entry.record.get("seq") or 0)
            yield entry
    if segments and not log.exists():
        return
    for entry in read_entries(log):
        if int(entry.record.get("seq") or 0) > last:
            yield entry


def chain_start(log: Path, archives: Path | None = None) -> tuple[int, str]:
    """(seq, hash) the first record kept chains to: the genesis, or, after `prune`, the last
    pruned record as the oldest kept segment's manifest names it."""
    segments = segment_paths(archives or archive_dir(log))
    if segments:
        manifest = read_manifest(segments[0])
        first = int(manifest.get("first_seq") or 1)
        if first > 1 and (manifest.get("prefix") or {}).get("count") == first - 1:
            return first - 1, str(manifest["first_prev_hash"])
    return 0, GENESIS_HASH


def check_chain(
    entries: Iterator[Entry],
    trusted: TrustedKeys | None = None,
    *,
    start: tuple[int, str] = (0, GENESIS_HASH),
) -> int:
    """Raise unless seqs run on from `start` (the genesis: 1, 2, ...) and each prev_hash names
    the record before; count them. With `trusted`, every signature is verified too.
    """
    prev, expected = start[1], start[0] + 1
    for entry in entries:
        seq = entry.record.get("seq")
        if seq != expected or entry.record.get("prev_hash") != prev:
            raise ArchiveError(
                f"chain broken at record {seq} (expected seq {expected} after {prev[:12]}...)",
                advice="a record was removed, inserted or edited; run `config-audit verify`",
            )
        if trusted is not None:
            trusted.verify(entry.record)
        prev, expected = entry.hash, expected + 1
    return expected - 1 - start[0]


def manifest_payload(manifest: dict[str, Any]) -> bytes:
    return MANIFEST_DOMAIN + canonical_bytes(
        {k: v for k, v in manifest.items() if k != "signature"}
    )


def verify_segment(segment: Path, trusted: TrustedKeys) -> dict[str, Any]:
    """Raise `ArchiveError` (or another VerificationError) unless the segment matches its
    signed manifest; return the manifest. A missing or damaged manifest is a finding, not a
    crash."""
    try:
        manifest = _sidecar(segment, MANIFEST_SUFFIX).read_bytes()
        data = segment.read_bytes()
    except OSError as exc:
        raise ArchiveError(
            f"{segment}: cannot be verified ({type(exc).__name__}: {exc})",
            advice="restore the segment and its .manifest.json from a backup; never edit them",
        ) from None
    return verify_segment_bytes(str(segment), data, manifest, trusted)


def verify_segment_bytes(
    where: str, data: bytes, manifest_bytes: bytes, trusted: TrustedKeys
) -> dict[str, Any]:
    """`verify_segment` for a segment and manifest held in memory (a download, say)."""
    try:
        return _verify_segment(where, data, manifest_bytes, trusted)
    except VerificationError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError) as exc:
        raise ArchiveError(
            f"{where}: cannot be verified ({type(exc).__name__}: {exc})",
            advice="restore the segment and its .manifest.json from a backup; never edit them",
        ) from None


def segment_entries(data: bytes) -> list[Entry]:
    return [Entry.from_line(raw) for raw in gzip.decompress(data).splitlines()]


def _verify_segment(
    where: str, data: bytes, manifest_bytes: bytes, trusted: TrustedKeys
) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(manifest_bytes)
    key_id = str(manifest.get("key_id"))
    trusted.verify_signature(key_id, manifest_payload(manifest), str(manifest.get("signature")))
    if manifest.get("created"):  # the key's validity window and revocation apply too
        trusted.get(key_id).check_time(parse_time(str(manifest["created"])))
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ArchiveError(f"{where}: content does not match its manifest's sha256")
    entries = segment_entries(data)
    root = tree_root([bytes.fromhex(e.hash) for e in entries]).hex()
    facts = (
        len(entries),
        entries[0].record["seq"],
        entries[-1].record["seq"],
        entries[0].record["prev_hash"],
        entries[-1].hash,
        root,
    )
    claimed = (
        manifest["count"],
        manifest["first_seq"],
        manifest["last_seq"],
        manifest["first_prev_hash"],
        manifest["last_record_hash"],
        manifest["merkle_root"],
    )
    if facts != claimed:
        raise ArchiveError(f"{where}: records do not match the manifest")
    return manifest


def read_manifest(segment: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(_sidecar(segment, MANIFEST_SUFFIX).read_bytes())
    return manifest


def prior_tree(directory: Path) -> tuple[int, list[bytes], str | None]:
    """(records sealed so far, their Merkle frontier, hash of record 1) over the local
    segments, starting from the oldest kept segment's manifest prefix when older ones were
    pruned."""
    segments = segment_paths(directory)
    count, frontier, origin = 0, [], None
    if segments:
        prefix = read_manifest(segments[0]).get("prefix") or {}
        if prefix.get("count"):
            count = int(prefix["count"])
            frontier = [bytes.fromhex(h) for h in prefix["frontier"]]
            origin = str(prefix["first_record_hash"])
    for segment in segments:
        for entry in read_segment(segment):
            origin = origin or entry.hash
            frontier_append(frontier, count, leaf_hash(bytes.fromhex(entry.hash)))
            count += 1
    return count, frontier, origin


@contextmanager
def ledger_lock(log: Path) -> Iterator[None]:
    # The same flock on the same sidecar as Ledger.append: no append interleaves with sealing.
    lock_path = Ledger(log).lock_path
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def cutoff_for(before: datetime, retention: dict[str, Any], now: datetime) -> datetime:
    """The earlier of `before` and the retention window's start: nothing inside it moves."""
    keep = retention.get("keep_days")
    if keep is None:
        return before
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise UsageError("retention.keep_days must be a whole number of days")
    return min(before, now - timedelta(days=keep))


def archive_before(
    log: Path, cutoff: datetime, signer: NoteSigner, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """Seal the live records older than `cutoff`; return the manifest (None: nothing to seal)."""
    directory = archive_dir(log)
    with ledger_lock(log):
        raw = log.read_bytes()
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" for a clean log; a torn tail stays in the live file
        moved: list[Entry] = []
        for line in lines:
            entry = Entry.from_line(line)
            if parse_time(str(entry.record.get("time"))) >= cutoff:
                break
            moved.append(entry)
        if not moved:
            return None
        first, last = moved[0].record["seq"], moved[-1].record["seq"]
        directory.mkdir(exist_ok=True)
        count, frontier, origin_hash = prior_tree(directory)
        prefix = {
            "count": count,
            "frontier": [h.hex() for h in frontier],
            "first_record_hash": origin_hash,
        }
        segment = directory / f"segment-{first:012d}-{last:012d}{SEGMENT_SUFFIX}"
        data = gzip.compress(b"".join(e.line + b"\n" for e in moved), mtime=0)
        write_atomic(segment, data)
        for e in moved:
            frontier_append(frontier, count, leaf_hash(bytes.fromhex(e.hash)))
            count += 1
        checkpoint = sign_checkpoint(
            Checkpoint(log_origin(origin_hash or moved[0].hash), count, frontier_root(frontier)),
            signer,
        )
        manifest: dict[str, Any] = {
            "schema": MANIFEST_SCHEMA,
            "segment": segment.name,
            "first_seq": first,
            "last_seq": last,
            "count": len(moved),
            "first_prev_hash": moved[0].record["prev_hash"],
            "last_record_hash": moved[-1].hash,
            "sha256": hashlib.sha256(data).hexdigest(),
            "merkle_root": tree_root([bytes.fromhex(e.hash) for e in moved]).hex(),
            # Everything before this segment, so verify can start here once it is pruned.
            "prefix": prefix,
            "created": format_time(now or datetime.now(UTC)),
            "key_id": signer.key_id,
        }
        manifest["signature"] = base64.b64encode(signer.sign(manifest_payload(manifest))).decode()
        write_atomic(_sidecar(segment, CHECKPOINT_SUFFIX), checkpoint.encode())
        write_atomic(_sidecar(segment, MANIFEST_SUFFIX), json.dumps(manifest, indent=2).encode())
        # Only now, with the segment durable, does the live log lose those lines.
        rest = lines[len(moved) :]
        write_atomic(log, b"".join(x + b"\n" for x in rest) + tail)
    return manifest
