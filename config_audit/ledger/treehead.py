"""Signed tree heads of a record log: computed from the log, kept beside it, published.

A checkpoint beside the log lets `verify` catch a truncated or rewritten log without extra
flags; a copy published where the writer cannot rewrite it (a git notes ref that travels with
pushes, a SIEM) keeps that true against someone holding the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from config_audit.errors import UsageError, VerificationError
from config_audit.ledger import treecache
from config_audit.ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    checkpoint_path,
    log_origin,
    parse_checkpoint,
    sign_checkpoint,
    write_atomically,
)
from config_audit.ledger.log import Ledger
from config_audit.ledger.merkle import (
    frontier_append,
    frontier_root,
    leaf_hash,
    root_from_leaf_hashes,
)
from config_audit.ledger.records import split_log

logger = logging.getLogger(__name__)


class CheckpointConflict(VerificationError):
    """The log no longer extends the checkpoint beside it: truncated or rewritten."""


def _segments(log: Path) -> list[Path]:
    if not log.with_name(log.name + ".archive").is_dir():  # cheap: the archive code is not
        return []
    from config_audit.ledger.archive import archive_dir, segment_paths

    return segment_paths(archive_dir(log))


def _read(log: Path) -> tuple[bytes, list[Path]]:
    """The live log's bytes (a torn tail quarantined first) and the archive segments."""
    Ledger(log).recover()
    try:
        return log.read_bytes(), _segments(log)
    except FileNotFoundError:
        raise UsageError(f"{log}: no record log", advice="check --log") from None


def record_hashes(log: Path) -> list[bytes]:
    """The record hash of every line, archived segments first, then the live log: the
    sequence `verify` checks a checkpoint against."""
    live, segments = _read(log)
    return _hashes(live, segments)


def _hashes(live: bytes, segments: list[Path]) -> list[bytes]:
    import gzip

    archived = b"".join(gzip.decompress(s.read_bytes()) for s in segments)
    return [treecache.signed_hash(line) for line in split_log(archived + live)[0]]


@dataclass(frozen=True)
class Pruned:
    """Records pruned before the oldest kept segment, as its signed manifest describes them."""

    count: int = 0
    frontier: tuple[bytes, ...] = ()
    first_hash: bytes | None = None


def _pruned(segments: list[Path]) -> Pruned:
    if not segments:
        return Pruned()
    from config_audit.ledger.archive import read_manifest

    manifest = read_manifest(segments[0])
    prefix = manifest.get("prefix") or {}
    if int(manifest.get("first_seq") or 1) <= 1 or not prefix.get("count"):
        return Pruned()
    return Pruned(
        int(prefix["count"]),
        tuple(bytes.fromhex(h) for h in prefix["frontier"]),
        bytes.fromhex(prefix["first_record_hash"]),
    )


def make_checkpoint(log: Path) -> Checkpoint:
    """The tree head over every complete record of `log`, archived (and pruned) ones included."""
    live, segments = _read(log)
    hashes = _hashes(live, segments)
    if not hashes:
        raise UsageError(f"{log}: the log is empty; nothing to checkpoint")
    return _tree_head(hashes, _pruned(segments))


def _tree_head(hashes: list[bytes], pruned: Pruned = Pruned()) -> Checkpoint:
    if not pruned.count:
        return Checkpoint(
            origin=log_origin(hashes[0].hex()),
            size=len(hashes),
            root=root_from_leaf_hashes([leaf_hash(h) for h in hashes]),
        )
    frontier, size = list(pruned.frontier), pruned.count
    for h in hashes:
        frontier_append(frontier, size, leaf_hash(h))
        size += 1
    return Checkpoint(log_origin((pruned.first_hash or b"").hex()), size, frontier_root(frontier))


def refresh_checkpoint(log: Path, signer: NoteSigner, *, force: bool = False) -> str:
    """Sign the log's current tree head and write it to `<log>.checkpoint`; return its text.

    The checkpoint already there must be a prefix of the log: otherwise records were removed
    or rewritten since, and overwriting it would bless that. CheckpointConflict is raised and
    the old checkpoint stays as evidence (`force` re-anchors, after a human looked). Only the
    records appended since the last refresh are read when `<log>.treehead` vouches for them."""
    state = None if force else _grown(log)
    if state is None:
        live, segments = _read(log)
        hashes = _hashes(live, segments)
        if not hashes:
            raise UsageError(f"{log}: the log is empty; nothing to checkpoint")
        pruned = _pruned(segments)
        if not force:
            _check_extends(log, hashes, pruned)
        names = tuple(s.name for s in segments)
        origin = log_origin((pruned.first_hash or hashes[0]).hex())
        state = treecache.full(
            hashes, origin, live, names, base=(pruned.count, list(pruned.frontier))
        )
    text = sign_checkpoint(state.checkpoint, signer)
    write_atomically(checkpoint_path(log), text)
    if state.offset:
        try:
            treecache.save(log, state)
        except OSError as exc:  # only a cache: the next refresh reads the whole log
            logger.warning("tree-head cache not saved beside %s: %s", log, exc)
    return text


def _grown(log: Path) -> treecache.TreeState | None:
    """The cached tree grown by the new records, if it matches the signed checkpoint."""
    state = treecache.load(log)
    if state is None:
        return None
    try:
        previous, _ = parse_checkpoint(checkpoint_path(log).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, VerificationError):
        return None
    if not state.matches(previous):
        return None
    Ledger(log).recover()
    return treecache.extend(log, state, tuple(s.name for s in _segments(log)))


def _check_extends(log: Path, hashes: list[bytes], pruned: Pruned) -> None:
    path = checkpoint_path(log)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as exc:
        raise _conflict(log, f"the checkpoint {path} is unreadable ({exc})") from None
    try:
        previous, _ = parse_checkpoint(text)
    except VerificationError as exc:
        raise _conflict(log, f"the checkpoint {path} is malformed ({exc})") from None
    total = pruned.count + len(hashes)
    if previous.size > total:
        raise _conflict(
            log, f"the checkpoint covers {previous.size} records, the log holds {total}"
        )
    if previous.size <= pruned.count:
        return  # it predates the pruning; the pruned segments' own checkpoints covered it
    if _tree_head(hashes[: previous.size - pruned.count], pruned) != previous:
        raise _conflict(log, f"its first {previous.size} records differ from the checkpoint's")


def _conflict(log: Path, why: str) -> CheckpointConflict:
    return CheckpointConflict(
        f"{log}: not re-signing the checkpoint: {why}; the log was truncated or rewritten "
        "since, and the old checkpoint is kept as evidence",
        advice=f"run `config-audit verify --log {log}`; once understood, "
        "`config-audit checkpoint --force` signs the log as it is now",
    )
