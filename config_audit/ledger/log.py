"""The append-only record log: JSON Lines, hash-chained, signed, locked, durable, crash-safe.

Each append takes an exclusive `flock` on a sidecar lock file, repairs a torn tail left by a
killed writer (moving it to a quarantine file, never dropping it), chains to the last complete
record, writes one line and fsyncs before returning. Complete lines are never rewritten.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config_audit.durable import fsync_dir
from config_audit.errors import ConfigAuditError
from config_audit.ledger.records import (
    GENESIS_HASH,
    SIGNING_DOMAIN,
    canonical_members,
    join_members,
    split_line,
)
from config_audit.ledger.signing import Signer
from config_audit.times import now_text

logger = logging.getLogger(__name__)

LEDGER_FIELDS = frozenset({"seq", "prev_hash", "key_id", "signature"})
_TAIL_CHUNK = 64 * 1024


class LedgerError(ConfigAuditError):
    """The log cannot be read or appended to."""


def seal(
    body: Mapping[str, Any], signer: Signer, *, seq: int, prev_hash: str
) -> tuple[dict[str, Any], bytes, str]:
    """Pure: add seq, prev_hash, key_id and the signature; return (record, line, record hash)."""
    clash = LEDGER_FIELDS & set(body)
    if clash:
        raise LedgerError(f"record body must not set {sorted(clash)}: the ledger assigns them")
    record = dict(body, seq=seq, prev_hash=prev_hash, key_id=signer.key_id)
    members = canonical_members(record)
    unsigned_bytes = join_members(members)
    signature = signer.sign(SIGNING_DOMAIN + unsigned_bytes)
    record["signature"] = base64.b64encode(signature).decode("ascii")
    members.update(canonical_members({"signature": record["signature"]}))
    return record, join_members(members), hashlib.sha256(unsigned_bytes).hexdigest()


class Ledger:
    """One log file plus its sidecars: `<log>.lock` and `<log>.quarantine`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.quarantine_path = path.with_name(path.name + ".quarantine")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, body: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
        """Seal `body` as the next record and make it durable; return the full record."""
        with self._locked():
            created = not self.path.exists()
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            except OSError as exc:
                raise LedgerError(f"{self.path}: cannot open log: {exc.strerror}") from None
            try:
                if created:
                    fsync_dir(self.path.parent)  # the new directory entry must survive a crash
                size = self._repair_tail(fd)
                seq, prev_hash = self._last_link(fd, size)
                record, line, _ = seal(body, signer, seq=seq, prev_hash=prev_hash)
                self._write_durably(fd, line + b"\n", size)
            finally:
                os.close(fd)
        logger.debug("appended seq %d to %s", record["seq"], self.path)
        return record

    def recover(self) -> None:
        """Quarantine a torn tail now (appends do this themselves); no-op for a clean log."""
        if not self.path.exists():
            return
        with self._locked():
            fd = os.open(self.path, os.O_RDWR)
            try:
                self._repair_tail(fd)
            finally:
                os.close(fd)

    def read_records(self) -> Iterator[dict[str, Any]]:
        """Every complete record in file order; an incomplete last line is skipped (torn)."""
        for number, line in complete_lines(self.path):
            try:
                record, _ = split_line(line)
            except ValueError:
                raise unreadable(self.path, number) from None
            yield record

    def _repair_tail(self, fd: int) -> int:
        """Move bytes after the last newline to the quarantine file; return the clean size."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        start = size
        tail = b""
        while start > 0:
            step = min(_TAIL_CHUNK, start)
            start -= step
            tail = os.pread(fd, step, start) + tail
            if tail.endswith(b"\n"):
                return size
            cut = tail.rfind(b"\n")
            if cut >= 0:
                return self._quarantine(fd, start + cut + 1, tail[cut + 1 :])
        return self._quarantine(fd, 0, tail)

    def _quarantine(self, fd: int, keep: int, torn: bytes) -> int:
        stamp = now_text()
        header = f"# {stamp} torn tail of {self.path.name} at offset {keep}, {len(torn)} bytes\n"
        with self.quarantine_path.open("ab") as q:
            q.write(header.encode("utf-8") + torn + b"\n")
            q.flush()
            os.fsync(q.fileno())
        # Only after the bytes are safe in quarantine is the log cut back.
        os.ftruncate(fd, keep)
        os.fsync(fd)
        logger.warning(
            "%s: moved an incomplete last line (%d bytes, an interrupted append) to %s",
            self.path,
            len(torn),
            self.quarantine_path,
        )
        return keep

    def _last_link(self, fd: int, size: int) -> tuple[int, str]:
        """(seq for the next record, hash of the last record), reading only the file's tail."""
        if size == 0:
            return 1, GENESIS_HASH
        start, tail = size, b""
        while start > 0:
            step = min(_TAIL_CHUNK, start)
            start -= step
            tail = os.pread(fd, step, start) + tail
            if tail.rfind(b"\n", 0, len(tail) - 1) >= 0:
                break
        last = tail[tail.rfind(b"\n", 0, len(tail) - 1) + 1 : -1]
        try:
            record, unsigned_bytes = split_line(last)
            seq = record["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise ValueError("seq")
        except (ValueError, KeyError):
            # Chaining to a record we cannot read would hide whatever happened to it.
            raise LedgerError(
                f"{self.path}: the last record is unreadable; refusing to append",
                advice="run `config-audit verify` and restore the log from a copy",
            ) from None
        return seq + 1, hashlib.sha256(unsigned_bytes).hexdigest()

    def _write_durably(self, fd: int, data: bytes, size: int) -> None:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            # Leave no half-written record behind: cut the file back to what it was.
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                logger.exception("%s: could not truncate after a failed append", self.path)
            advice = (
                "free disk space, then retry"
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
                else "check the log's file system and permissions"
            )
            raise LedgerError(
                f"{self.path}: append failed, nothing was recorded: {exc.strerror}", advice=advice
            ) from None


def record_line_hash(line: bytes) -> str:
    """Hex record hash of one raw log line (no trailing newline)."""
    return hashlib.sha256(split_line(line)[1]).hexdigest()


def complete_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line without newline) for every complete line; a torn last line, an
    append in progress, is skipped: the ledger repairs it under its lock."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise LedgerError(
            f"{path}: no record log", advice="check --log or the 'log' setting"
        ) from None
    with fh:
        for number, raw in enumerate(fh, 1):
            if not raw.endswith(b"\n"):
                logger.warning("%s: ignoring incomplete last line %d", path, number)
                return
            yield number, raw[:-1]


def unreadable(path: Path, number: int) -> LedgerError:
    return LedgerError(
        f"{path}:{number}: unreadable record",
        advice="run `config-audit verify` to see what happened to the log",
    )
