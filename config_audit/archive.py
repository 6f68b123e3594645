"""Retention: seal old records into signed, compressed segments; read archives + live log as one."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from config_audit.export import read_entries
from config_audit.formats.common import Entry

SEGMENT_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"


def archive_dir(log: Path) -> Path:
    """Where a log's sealed segments live: `<log>.archive/` beside it."""
    return log.with_name(log.name + ".archive")


def segment_paths(directory: Path) -> list[Path]:
    """Sealed segments in sequence order (names carry zero-padded first seq)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("segment-*" + SEGMENT_SUFFIX))


def read_segment(path: Path) -> Iterator[Entry]:
    with gzip.open(path, "rb") as fh:
        for raw in fh:
            yield Entry.from_line(raw.rstrip(b"\n"))


def read_sequence(log: Path, archives: Path | None = None) -> Iterator[Entry]:
    """Archived segments, then the live log: the whole chain as one sequence of entries."""
    for segment in segment_paths(archives or archive_dir(log)):
        yield from read_segment(segment)
    if log.exists() or not segment_paths(archives or archive_dir(log)):
        yield from read_entries(log)


def manifest_of(segment: Path) -> dict[str, object]:
    name = segment.name[: -len(SEGMENT_SUFFIX)] + MANIFEST_SUFFIX
    data: dict[str, object] = json.loads(segment.with_name(name).read_text(encoding="utf-8"))
    return data
