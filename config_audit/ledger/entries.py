"""The one reader of a live record log: each complete line as an `Entry` (record, bytes, hash).

Export, shipping, reports and the archive read the log through here, so a torn last line, a
line that does not parse and the record hash mean the same thing everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config_audit.ledger.log import complete_lines, unreadable
from config_audit.ledger.records import split_line


@dataclass(frozen=True)
class Entry:
    """One record as it stands in the log: parsed, the exact line, and its record hash."""

    record: dict[str, Any]
    line: bytes  # without the newline; exported verbatim by the jsonl format
    hash: str

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        """Parse one log line; the hash covers the exact bytes (equals `records.record_hash`)."""
        record, covered = split_line(line)
        return cls(record, line, hashlib.sha256(covered).hexdigest())


def read_entries(path: Path) -> Iterator[Entry]:
    """Every complete record of a live log in file order; a torn last line is skipped."""
    for number, line in complete_lines(path):
        try:
            yield Entry.from_line(line)
        except ValueError:
            raise unreadable(path, number) from None
