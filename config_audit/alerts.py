"""Alerts: one small value, a few delivery channels, one dispatcher shared by every front door.

An alert says what happened and where to look (path, record seq and hash), never what the file
holds: no deny-list values, no content, no finding messages that could quote either. Delivery
runs on one background thread so a slow webhook never delays an audit; a failed channel is
logged and never stops the caller.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from config_audit.errors import SinkError, UsageError
from config_audit.records import record_hash

if TYPE_CHECKING:
    from config_audit.audit import AuditResult

Record = Mapping[str, Any]

logger = logging.getLogger(__name__)

KINDS = frozenset(
    {"out-of-band-edit", "weakening-change", "invalid-file", "symlink-escape", "watcher-gap"}
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
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            object.__setattr__(self, "time", now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")

    @property
    def dedup_key(self) -> tuple[str, str | None, str]:
        # Record seq and time differ between repeats of the same condition: not part of the key.
        return (self.kind, self.path, self.summary)


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
    if out_of_band and event.author.get("assurance") == "unattributed":
        what = "deleted" if event.after is None else "edited"
        summary = f"{what} outside git ({len(result.changes)} semantic changes)"
        out.append(Alert("out-of-band-edit", "warning", summary, event.path, seq, digest))
    return out


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise SinkError on failure."""


class LogChannel:
    name = "log"

    def send(self, alert: Alert) -> None:
        logger.warning(
            "ALERT %s [%s] %s (path=%s seq=%s)",
            alert.kind,
            alert.severity,
            alert.summary,
            alert.path,
            alert.record_seq,
        )


class CommandChannel:
    """Runs `argv` with the alert as JSON on stdin; non-zero exit or timeout is a failure."""

    name = "command"

    def __init__(self, argv: Sequence[str], *, timeout_s: float = 10.0) -> None:
        self.argv = list(argv)
        self.timeout_s = timeout_s

    def send(self, alert: Alert) -> None:
        try:
            done = subprocess.run(
                self.argv,
                input=alert.to_json(),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SinkError(
                f"alert command {self.argv[0]} timed out after {self.timeout_s}s"
            ) from None
        except OSError as exc:
            raise SinkError(f"alert command {self.argv[0]}: {exc.strerror}") from None
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise SinkError(f"alert command {self.argv[0]} exited {done.returncode}: {err}")


class WebhookChannel:
    """POSTs the alert as JSON; retries with exponential backoff on errors and 5xx/429."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"alert webhook url must be http(s): {url!r}")
        self.url = url
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.headers = dict(headers or {})
        self.sleep = sleep

    def send(self, alert: Alert) -> None:
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(
                self.url,
                data=alert.to_json(),
                method="POST",
                headers={"Content-Type": "application/json", **self.headers},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    response.read(1024)
                    return
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break  # the server refuses this alert: retrying will not help
            except (urllib.error.URLError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
        raise SinkError(f"alert webhook {self.url}: {last}")


def channel_from_config(raw: Any, *, where: str) -> Channel:
    if not isinstance(raw, dict) or "type" not in raw:
        raise UsageError(f"{where}: each channel is a mapping with a 'type'")
    kind = raw["type"]
    if kind == "log":
        return LogChannel()
    if kind == "command":
        argv = raw.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise UsageError(f"{where}: command channel needs 'argv', a list of strings")
        return CommandChannel(argv, timeout_s=float(raw.get("timeout_s", 10)))
    if kind == "webhook":
        url = raw.get("url")
        if not isinstance(url, str):
            raise UsageError(f"{where}: webhook channel needs 'url'")
        headers = raw.get("headers") or {}
        if not isinstance(headers, dict):
            raise UsageError(f"{where}: webhook 'headers' must be a mapping")
        return WebhookChannel(
            url,
            timeout_s=float(raw.get("timeout_s", 5)),
            retries=int(raw.get("retries", 3)),
            backoff_s=float(raw.get("backoff_s", 0.5)),
            headers={str(k): str(v) for k, v in headers.items()},
        )
    raise UsageError(f"{where}: unknown channel type {kind!r}", advice="log | command | webhook")


class AlertDispatcher:
    """De-duplicates alerts within a window and delivers them on one background thread."""

    def __init__(
        self,
        channels: Sequence[Channel],
        *,
        dedup_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
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
        return cls(channels, dedup_window_s=float(config.get("dedup_window_s", 60)))

    def dispatch(self, alert: Alert) -> bool:
        """Queue `alert` for delivery; False if an identical one went out within the window."""
        now = self.clock()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.dedup_window_s}
            if alert.dedup_key in self._seen:
                logger.debug("suppressed duplicate alert %s %s", alert.kind, alert.path)
                return False
            self._seen[alert.dedup_key] = now
            self.sent.append(alert)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="config-audit-alerts", daemon=True
                )
                self._thread.start()
        self._queue.put(alert)
        return True

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
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        if thread.is_alive():
            logger.error("alert delivery still busy after %.0fs; some alerts may be lost", timeout)
