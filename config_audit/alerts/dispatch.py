"""Alerts: one small value, a few delivery channels, one dispatcher shared by every front door.

An alert says what happened and where to look (path, record seq and hash), never what the file
holds: no deny-list values, no content, no finding messages that could quote either. Delivery
runs on one background thread so a slow webhook never delays an audit; a failed channel is
logged and never stops the caller.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from config_audit.alerts.alert import Alert
from config_audit.alerts.channels import Channel, channel_from_config
from config_audit.errors import SinkError, UsageError
from config_audit.ledger.records import record_hash
from config_audit.model import Assurance

if TYPE_CHECKING:
    from config_audit.model import AuditResult

Record = Mapping[str, Any]

logger = logging.getLogger(__name__)


def record_ref(record: Record | None) -> tuple[int | None, str | None]:
    """(seq, hash) of the record an alert points to."""
    if not record:
        return None, None
    seq = record.get("seq")
    return (seq if isinstance(seq, int) else None), record_hash(record)


def alerts_for_result(
    result: AuditResult, *, out_of_band: bool = True, weakening: bool = True
) -> list[Alert]:
    """The alerts one audited change raises. Summaries name change kinds and finding codes
    only: finding messages and change details can quote deny-list values or content."""
    from config_audit.model import Impact, Severity

    event = result.event
    seq, digest = record_ref(result.record)
    out = []
    if result.invalid:
        codes = sorted({f.code for f in result.findings() if f.severity is Severity.ERROR})
        summary = f"invalid recognizer file ({', '.join(codes) or 'unreadable'})"
        out.append(Alert("invalid-file", "critical", summary, event.path, seq, digest))
    if weakening and result.weakens:
        kinds = sorted({c.kind for c in result.changes if c.impact is Impact.WEAKENS})
        summary = f"weakening change: {', '.join(kinds)}"
        out.append(Alert("weakening-change", "critical", summary, event.path, seq, digest))
    if out_of_band and event.author.assurance is Assurance.UNATTRIBUTED:
        what = "deleted" if event.after is None else "edited"
        summary = f"{what} outside git ({len(result.changes)} semantic changes)"
        out.append(Alert("out-of-band-edit", "warning", summary, event.path, seq, digest))
    return out


class AlertDispatcher:
    """De-duplicates alerts within a window and delivers them on one background thread."""

    def __init__(
        self,
        channels: Sequence[Channel],
        *,
        dedup_window_s: float = 60.0,
        max_per_window: int = 0,
        throttle_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Throttling: at most `max_per_window` alerts per window (0: unlimited); the rest are
        # counted and reported in one "throttled" alert, so an incident is not a thousand pages.
        self.max_per_window = max_per_window
        self.throttle_window_s = throttle_window_s
        self._window_start = clock()
        self._window_count = 0
        self._suppressed: dict[str, int] = {}
        self.channels = list(channels)
        self.dedup_window_s = dedup_window_s
        self.clock = clock
        self.sent: list[Alert] = []  # accepted (not suppressed), for callers and tests
        self.failures = 0
        self._seen: dict[tuple[str, str | None, str], float] = {}
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, config: Mapping[str, Any] | None) -> AlertDispatcher:
        """`alerts: {channels: [{type: log}, ...], dedup_window_s: 60}`; default: log only."""
        config = config or {}
        raw_channels = config.get("channels", [{"type": "log"}])
        if not isinstance(raw_channels, list):
            raise UsageError("alerts.channels must be a list")
        channels = [
            channel_from_config(c, where=f"alerts.channels[{n}]")
            for n, c in enumerate(raw_channels)
        ]
        throttle = config.get("throttle") or {}
        if not isinstance(throttle, dict):
            raise UsageError("alerts.throttle must be a mapping: {max_per_window: N, window_s: S}")
        return cls(
            channels,
            dedup_window_s=float(config.get("dedup_window_s", 60)),
            max_per_window=int(throttle.get("max_per_window", 0)),
            throttle_window_s=float(throttle.get("window_s", 60)),
        )

    def dispatch(self, alert: Alert) -> bool:
        """Queue `alert` for delivery; False if an identical one went out within the window."""
        now = self.clock()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.dedup_window_s}
            if alert.dedup_key in self._seen:
                logger.debug("suppressed duplicate alert %s %s", alert.kind, alert.path)
                return False
            self._seen[alert.dedup_key] = now
            summary = self._roll_window(now)
            if self.max_per_window and self._window_count >= self.max_per_window:
                self._suppressed[alert.kind] = self._suppressed.get(alert.kind, 0) + 1
                return False
            self._window_count += 1
            self.sent.append(alert)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="config-audit-alerts", daemon=True
                )
                self._thread.start()
        if summary is not None:
            self._queue.put(summary)
        self._queue.put(alert)
        return True

    def _roll_window(self, now: float) -> Alert | None:
        """Start a new throttle window when the old one is over; report what it suppressed."""
        if now - self._window_start < self.throttle_window_s:
            return None
        self._window_start, self._window_count = now, 0
        return self._flush_suppressed()

    def _flush_suppressed(self) -> Alert | None:
        if not self._suppressed:
            return None
        counts = ", ".join(f"{k}: {n}" for k, n in sorted(self._suppressed.items()))
        self._suppressed = {}
        alert = Alert("throttled", "warning", f"alerts suppressed by throttling ({counts})")
        self.sent.append(alert)
        return alert

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None:
                return
            self.deliver(alert)

    def deliver(self, alert: Alert) -> None:
        """Send to every channel now; a failing channel is logged, the others still run."""
        for channel in self.channels:
            try:
                channel.send(alert)
            except SinkError as exc:
                self.failures += 1
                logger.error("alert channel %s failed: %s", channel.name, exc)
            except Exception:  # a broken channel must never stop the watcher
                self.failures += 1
                logger.exception("alert channel %s crashed", channel.name)

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to `timeout`), then stop the delivery thread."""
        with self._lock:
            summary = self._flush_suppressed()
            thread, self._thread = self._thread, None
        if summary is not None:
            if thread is None:
                self.deliver(summary)
            else:
                self._queue.put(summary)
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        if thread.is_alive():
            logger.error("alert delivery still busy after %.0fs; some alerts may be lost", timeout)
