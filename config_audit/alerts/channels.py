"""Alert delivery channels: log line, command (JSON on stdin), HTTP webhook, syslog."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from config_audit.errors import SinkError, UsageError

if TYPE_CHECKING:
    from config_audit.alerts.alert import Alert

logger = logging.getLogger("config_audit.alerts.dispatch")
SYSLOG_SEVERITY = {"critical": 2, "warning": 4, "info": 6}  # RFC 5424 crit / warning / info


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


class SyslogChannel:
    """RFC 5424 alert messages to a syslog collector: udp://, tcp:// (RFC 6587 octet counting)
    or unix:///dev/log. Facility 13 (log audit)."""

    name = "syslog"

    def __init__(
        self,
        address: str,
        *,
        timeout_s: float = 5.0,
        app_name: str = "config-audit",
        facility: int = 13,
    ) -> None:
        scheme, _, rest = address.partition("://")
        if scheme not in ("udp", "tcp", "unix") or not rest:
            raise UsageError(
                f"syslog address must be udp://host:port, tcp://host:port or "
                f"unix:///path, got {address!r}"
            )
        self.scheme, self.rest = scheme, rest
        self.timeout_s = timeout_s
        self.app_name = app_name
        self.facility = facility

    def message(self, alert: Alert) -> bytes:
        pri = self.facility * 8 + SYSLOG_SEVERITY.get(alert.severity, 4)
        host = socket.gethostname() or "-"
        stamp = alert.time or datetime.now(UTC).isoformat()
        params = " ".join(
            f'{k}="{_sd_escape(str(v))}"'
            for k, v in (
                ("kind", alert.kind),
                ("path", alert.path),
                ("seq", alert.record_seq),
                ("hash", alert.record_hash),
            )
            if v is not None
        )
        text = (
            f"<{pri}>1 {stamp} {host} {self.app_name} {os.getpid()} ALERT "
            f"[alert@32473 {params}] {alert.summary}"
        )
        return text.encode("utf-8")

    def send(self, alert: Alert) -> None:
        data = self.message(alert)
        try:
            if self.scheme == "unix":
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(self.timeout_s)
                    sock.connect(self.rest)
                    sock.send(data)
                return
            host, _, port = self.rest.rpartition(":")
            if self.scheme == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.sendto(data, (host, int(port)))
                return
            with socket.create_connection((host, int(port)), timeout=self.timeout_s) as sock:
                sock.sendall(str(len(data)).encode() + b" " + data)
        except (OSError, ValueError) as exc:
            raise SinkError(f"syslog {self.scheme}://{self.rest}: {exc}") from None


def _sd_escape(value: str) -> str:
    """RFC 5424 SD-PARAM value escaping: backslash, double quote and closing bracket."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


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
    if kind == "syslog":
        address = raw.get("address")
        if not isinstance(address, str):
            raise UsageError(f"{where}: syslog channel needs 'address' (udp://host:514, ...)")
        return SyslogChannel(address, timeout_s=float(raw.get("timeout_s", 5)))
    raise UsageError(
        f"{where}: unknown channel type {kind!r}", advice="log | command | webhook | syslog"
    )
