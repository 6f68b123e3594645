"""The tree head of a log kept up to date in O(new records), not O(log).

Hooks, CI and the watcher re-sign the checkpoint after every append; the watcher's heartbeats
alone add 1,440 records a day, so hashing the whole log each time would grow without bound.
`<log>.treehead` keeps the Merkle frontier with the byte offset it covers and the hash of the
line just before that offset. It is only trusted when it matches the signed checkpoint beside
the log and that last line is still in place; any doubt means a full recomputation (which also
decides whether the log still extends its checkpoint). A prefix edited behind the cache's back
is not blessed either: the new checkpoint extends the old history, and `verify` sees the fork.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from config_audit.durable import write_atomic
from config_audit.ledger.checkpoint import Checkpoint
from config_audit.ledger.merkle import frontier_append, frontier_root, leaf_hash
from config_audit.ledger.records import split_line, split_log


@dataclass
class TreeState:
    size: int
    origin: str
    frontier: list[bytes]
    offset: int  # bytes of the live log covered
    last_start: int  # where the last covered live line starts
    last_hash: bytes  # its record hash
    segments: tuple[str, ...]  # archive segment names when computed

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.origin, self.size, frontier_root(self.frontier))

    def matches(self, checkpoint: Checkpoint) -> bool:
        return self.checkpoint == checkpoint


def cache_path(log: Path) -> Path:
    return log.with_name(log.name + ".treehead")


def signed_hash(line: bytes) -> bytes:
    """A line's record hash: sha256 of the bytes its signature covers."""
    try:
        signed = split_line(line)[1]
    except ValueError:
        signed = line  # verify reports it; the checkpoint still pins the bytes
    return hashlib.sha256(signed).digest()


def load(log: Path) -> TreeState | None:
    try:
        raw = json.loads(cache_path(log).read_text("utf-8"))
        return TreeState(
            size=int(raw["size"]),
            origin=str(raw["origin"]),
            frontier=[bytes.fromhex(h) for h in raw["frontier"]],
            offset=int(raw["offset"]),
            last_start=int(raw["last_start"]),
            last_hash=bytes.fromhex(raw["last_hash"]),
            segments=tuple(str(s) for s in raw["segments"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: recompute


def save(log: Path, state: TreeState) -> None:
    data = {
        "size": state.size,
        "origin": state.origin,
        "frontier": [h.hex() for h in state.frontier],
        "offset": state.offset,
        "last_start": state.last_start,
        "last_hash": state.last_hash.hex(),
        "segments": list(state.segments),
    }
    write_atomic(cache_path(log), json.dumps(data, sort_keys=True).encode())


def extend(log: Path, state: TreeState, segments: tuple[str, ...]) -> TreeState | None:
    """`state` grown by the live lines appended after it; None when it cannot be vouched for."""
    if segments != state.segments or state.offset <= state.last_start:
        return None
    try:
        fd = os.open(log, os.O_RDONLY)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size < state.offset:
            return None
        last = os.pread(fd, state.offset - state.last_start, state.last_start)
        if not last.endswith(b"\n") or b"\n" in last[:-1]:
            return None
        if signed_hash(last[:-1]) != state.last_hash:
            return None
        new = os.pread(fd, size - state.offset, state.offset)
    finally:
        os.close(fd)
    lines, torn = split_log(new)
    if torn:
        return None  # the ledger quarantines torn tails before this runs
    grown = TreeState(
        state.size,
        state.origin,
        list(state.frontier),
        state.offset,
        state.last_start,
        state.last_hash,
        segments,
    )
    for line in lines:
        grown.last_hash = signed_hash(line)
        frontier_append(grown.frontier, grown.size, leaf_hash(grown.last_hash))
        grown.size += 1
        grown.last_start = grown.offset
        grown.offset += len(line) + 1
    return grown


def full(
    hashes: list[bytes],
    origin: str,
    live: bytes,
    segments: tuple[str, ...],
    *,
    base: tuple[int, list[bytes]] = (0, []),
) -> TreeState:
    """The state of a whole recomputation (`hashes` end with the live log's lines); `base` is
    the count and frontier of records pruned before them."""
    size, frontier = base[0], list(base[1])
    for h in hashes:
        frontier_append(frontier, size, leaf_hash(h))
        size += 1
    last_start = live.rfind(b"\n", 0, len(live) - 1) + 1 if live else 0
    return TreeState(
        size, origin, frontier, len(live), last_start, hashes[-1] if live else b"", segments
    )
