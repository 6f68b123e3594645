"""Complete versions of a watched file, captured when a reader could have loaded them.

The debouncer audits a path's final state; a weak version written, closed (or renamed into
place) and reverted within the debounce window would never be seen (issue 11, attack 15). So the
content is captured when the file is closed after a write (inotify IN_CLOSE_WRITE) or renamed into
place, and the daemon audits every captured version in order before the final state.

Bounded: identical contents are coalesced (by hash, against the previous capture), at most
`per_path` versions and `max_bytes` of content are held per path per flush, and over all paths
at most `rate` versions a second (after a burst of `burst`) are kept: each kept version is one
more audit, and a flood over many files must not outrun the debouncer. Past a cap a version is
counted, not read, and the count is recorded ("n versions coalesced") and alerted, never
dropped silently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from config_audit.watch.state import Observation

PER_PATH = 16  # versions audited one by one per path per flush; the rest are counted
MAX_BYTES = 16 * 1024 * 1024  # content held per path until its flush
RATE, BURST = 10.0, 32  # versions kept a second over all paths, and how many at once


@dataclass
class _Pending:
    versions: list[Observation] = field(default_factory=list)
    size: int = 0
    coalesced: int = 0  # versions not audited one by one because the caps were reached
    moved_to: str | None = None  # renamed to a path no glob covers: it left the watch


@dataclass(frozen=True)
class Taken:
    """What was captured for a path since its last flush."""

    versions: tuple[Observation, ...] = ()  # each read when its event was delivered
    coalesced: int = 0
    moved_to: str | None = None


class VersionBuffer:
    """Thread-safe: the observer thread captures, the debounce worker takes."""

    def __init__(
        self,
        *,
        per_path: int = PER_PATH,
        max_bytes: int = MAX_BYTES,
        rate: float = RATE,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_path = per_path
        self.max_bytes = max_bytes
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens, self._filled_at = float(burst), clock()
        self._pending: dict[Hashable, _Pending] = {}
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._filled_at) * self.rate)
        self._filled_at = now

    def full(self, key: Hashable) -> bool:
        """Whether a new version would only be counted (so the caller need not read it)."""
        with self._lock:
            self._refill()
            pending = self._pending.get(key)
            at_cap = pending is not None and len(pending.versions) >= self.per_path
            return at_cap or self._tokens < 1

    def add(self, key: Hashable, seen: Observation) -> None:
        assert seen.data is not None
        with self._lock:
            pending = self._pending.setdefault(key, _Pending())
            if pending.versions and pending.versions[-1].sha256 == seen.sha256:
                return  # the same content again (a second close, a touch): one version
            size = len(seen.data)
            self._refill()
            if (
                len(pending.versions) >= self.per_path
                or pending.size + size > self.max_bytes
                or self._tokens < 1
            ):
                pending.coalesced += 1
                return
            self._tokens -= 1
            pending.versions.append(seen)
            pending.size += size

    def count(self, key: Hashable) -> None:
        """A version seen but not read (the path was full): it is coalesced."""
        with self._lock:
            self._pending.setdefault(key, _Pending()).coalesced += 1

    def moved_out(self, key: Hashable, destination: str) -> None:
        """The path was renamed to where no glob covers it: recorded as leaving coverage."""
        with self._lock:
            self._pending.setdefault(key, _Pending()).moved_to = destination

    def take(self, key: Hashable) -> Taken:
        with self._lock:
            pending = self._pending.pop(key, None)
        if pending is None:
            return Taken()
        return Taken(tuple(pending.versions), pending.coalesced, pending.moved_to)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
