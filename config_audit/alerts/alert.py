"""The alert value: what happened and where to look, never what the file holds.

Its own module so channels (which deliver alerts) and the dispatcher (which makes them) both
depend on it without depending on each other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from config_audit.times import now_text

KINDS = frozenset(
    {
        "out-of-band-edit",
        "weakening-change",
        "invalid-file",
        "symlink-escape",
        "watcher-gap",
        "protected-weakening",
        "recognizer-removed",
        "policy-violation",
        "burst",
        "verify-failure",
        "access-review",  # a review item that needs someone now (key expiring, user removed)
        "throttled",
        "versions-coalesced",  # the watcher counted versions it could not audit one by one
    }
)
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Alert:
    kind: str
    severity: str
    summary: str
    path: str | None = None
    record_seq: int | None = None
    record_hash: str | None = None
    time: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown alert severity {self.severity!r}")
        if not self.time:
            now = now_text()
            object.__setattr__(self, "time", now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")

    @property
    def dedup_key(self) -> tuple[str, str | None, str]:
        # Record seq and time differ between repeats of the same condition: not part of the key.
        return (self.kind, self.path, self.summary)
