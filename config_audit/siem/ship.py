"""Forward new records to collectors, at least once, with a durable cursor per destination.

Per destination a cursor file beside the log holds the seq and hash of the last record the
receiver acknowledged (atomic write + fsync + rename), and a spool file holds the batch in
flight, written durably before it is sent. A collector that is down loses nothing (the log and
the spool keep it); a restart resends at most the unacknowledged batch, which receivers
de-duplicate by record id (Elasticsearch `_id`, the record id in every event).

Acknowledgement: HTTP endpoints answer each batch. Plain TCP syslog has no answer, so each
batch goes on its own connection which we half-close and then wait for the collector to close:
that proves it has read every byte we sent (rsyslog imtcp closes on end of stream).
"""

from __future__ import annotations

import abc
import hashlib
import http.client
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from config_audit.durable import write_atomic
from config_audit.errors import SinkError, UsageError
from config_audit.ledger.archive import read_sequence
from config_audit.ledger.entries import Entry
from config_audit.ledger.log import LedgerError
from config_audit.siem.formats.jsonfmt import ecs_document, hec_event
from config_audit.siem.formats.syslog import render_rfc5424

logger = logging.getLogger(__name__)
DEFAULT_BATCH = 500


class Destination(Protocol):
    url: str

    def send(self, entries: list[Entry]) -> None:
        """Deliver `entries`; return only once the receiver has them, else raise SinkError."""


class SyslogTcp:
    """RFC 5424 over TCP with RFC 6587 octet-counting framing."""

    def __init__(self, url: str, *, host: str | None = None, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname or not parts.port:
            raise UsageError(f"--syslog {url!r}: expected tcp://host:port")
        self.url, self.address = url, (parts.hostname, parts.port)
        self.host = host or socket.gethostname()
        self.timeout = timeout

    def frame(self, entry: Entry) -> bytes:
        message = render_rfc5424(entry, host=self.host)
        return str(len(message)).encode("ascii") + b" " + message

    def send(self, entries: list[Entry]) -> None:
        data = b"".join(self.frame(e) for e in entries)
        try:
            with socket.create_connection(self.address, timeout=self.timeout) as sock:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                # The collector closes its side only after reading up to our end of stream.
                while sock.recv(4096):
                    pass
        except OSError as exc:
            raise SinkError(f"syslog {self.url}: {exc}") from None


class HttpDestination(abc.ABC):
    """POST a batch; subclasses build the body and judge the answer."""

    content_type = "application/json"

    def __init__(
        self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{url!r}: expected an http(s) URL")
        self.url, self.parts, self.timeout = url, parts, timeout
        self.headers = dict(headers or {})

    @abc.abstractmethod
    def body(self, entries: list[Entry]) -> bytes:
        """The request body for a batch (each endpoint has its own format)."""

    def check(self, status: int, payload: bytes) -> None:
        if status != 200:
            raise SinkError(f"{self.url}: HTTP {status}: {payload[:200]!r}")

    def send(self, entries: list[Entry]) -> None:
        cls = (
            http.client.HTTPSConnection
            if self.parts.scheme == "https"
            else http.client.HTTPConnection
        )
        conn = cls(self.parts.hostname or "", self.parts.port, timeout=self.timeout)
        target = self.parts.path or "/"
        if self.parts.query:
            target += "?" + self.parts.query
        try:
            headers = {**self.headers, "Content-Type": self.content_type}
            conn.request("POST", target, body=self.body(entries), headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            # Includes a connection closed without an answer: the batch may or may not have
            # arrived, so it is sent again and the receiver de-duplicates by record id.
            raise SinkError(f"{self.url}: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        self.check(response.status, payload)


class SplunkHec(HttpDestination):
    """Splunk HTTP Event Collector, /services/collector/event, batched events."""

    def __init__(
        self, url: str, *, token: str, host: str | None = None, timeout: float = 10.0
    ) -> None:
        super().__init__(url, headers={"Authorization": f"Splunk {token}"}, timeout=timeout)
        self.host = host or socket.gethostname()

    def body(self, entries: list[Entry]) -> bytes:
        return b"".join(
            json.dumps(hec_event(e, host=self.host), separators=(",", ":")).encode()
            for e in entries
        )

    def check(self, status: int, payload: bytes) -> None:
        super().check(status, payload)
        try:
            code = json.loads(payload).get("code")
        except (ValueError, AttributeError):
            code = None
        if code != 0:
            raise SinkError(f"{self.url}: HEC answered {payload[:200]!r}")


class ElasticBulk(HttpDestination):
    """Elasticsearch _bulk with `index` actions keyed by record id: a resend overwrites."""

    content_type = "application/x-ndjson"

    def __init__(self, url: str, *, index: str = "config-audit", timeout: float = 10.0) -> None:
        super().__init__(url, timeout=timeout)
        self.index = index

    def body(self, entries: list[Entry]) -> bytes:
        lines = []
        for e in entries:
            action = {"index": {"_index": self.index, "_id": str(e.record.get("id"))}}
            lines.append(json.dumps(action, separators=(",", ":")))
            lines.append(json.dumps(ecs_document(e), separators=(",", ":")))
        return ("\n".join(lines) + "\n").encode()

    def check(self, status: int, payload: bytes) -> None:
        super().check(status, payload)
        try:
            answer = json.loads(payload)
            failed = (
                [
                    item
                    for item in answer.get("items", [])
                    for op in item.values()
                    if op.get("status", 500) >= 300 and op.get("status") != 409
                ]
                if answer.get("errors")
                else []
            )
        except (ValueError, AttributeError):
            raise SinkError(f"{self.url}: unreadable _bulk answer {payload[:200]!r}") from None
        if failed:
            raise SinkError(f"{self.url}: {len(failed)} item(s) rejected, e.g. {failed[0]}")


@dataclass(frozen=True)
class Cursor:
    seq: int = 0
    hash: str = ""


def _slug(url: str) -> str:
    return urllib.parse.urlsplit(url).scheme + "-" + hashlib.sha256(url.encode()).hexdigest()[:12]


class Shipper:
    """Ships one log to one destination; the cursor and spool live beside the log."""

    def __init__(
        self,
        log: Path,
        destination: Destination,
        *,
        batch: int = DEFAULT_BATCH,
        retries: int = 5,
        backoff: float = 0.2,
        archives: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.log, self.destination, self.batch = log, destination, batch
        self.retries, self.backoff, self.sleep, self.archives = retries, backoff, sleep, archives
        stem = f"{log.name}.ship-{_slug(destination.url)}"
        self.cursor_path = log.with_name(stem + ".cursor")
        self.spool_path = log.with_name(stem + ".spool")

    def read_cursor(self) -> Cursor:
        try:
            data = json.loads(self.cursor_path.read_bytes())
            return Cursor(int(data["seq"]), str(data["hash"]))
        except FileNotFoundError:
            return Cursor()
        except (ValueError, KeyError, TypeError):
            raise UsageError(
                f"{self.cursor_path}: unreadable cursor",
                advice="delete it to resend everything (receivers de-dup by id)",
            ) from None

    def _commit(self, last: Entry) -> None:
        cursor = {"destination": self.destination.url, "seq": last.record["seq"], "hash": last.hash}
        write_atomic(self.cursor_path, json.dumps(cursor).encode() + b"\n")
        self.spool_path.unlink(missing_ok=True)

    def _deliver(self, entries: list[Entry]) -> None:
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            try:
                self.destination.send(entries)
                return
            except SinkError as exc:
                if attempt == self.retries:
                    raise
                logger.warning("attempt %d failed (%s); retrying in %.1fs", attempt, exc, delay)
                self.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _pending(self, cursor: Cursor) -> Iterator[Entry]:
        for entry in read_sequence(self.log, self.archives):
            seq = entry.record.get("seq")
            if not isinstance(seq, int) or seq < cursor.seq:
                continue
            if seq == cursor.seq:
                if entry.hash != cursor.hash:
                    raise SinkError(
                        f"{self.log}: record {seq} is not the one last shipped to "
                        f"{self.destination.url}",
                        advice="the log was rewritten: run "
                        "`config-audit verify`; delete the cursor only after investigating",
                    )
                continue
            yield entry

    def ship_once(self) -> int:
        """Send everything after the cursor (the spooled batch first); return records sent."""
        sent = 0
        if self.spool_path.exists():
            spooled = [Entry.from_line(x) for x in self.spool_path.read_bytes().splitlines() if x]
            if spooled:
                self._deliver(spooled)
                self._commit(spooled[-1])
                sent += len(spooled)
            self.spool_path.unlink(missing_ok=True)
        pending = self._pending(self.read_cursor())
        while chunk := list(islice(pending, self.batch)):
            write_atomic(self.spool_path, b"".join(e.line + b"\n" for e in chunk))
            self._deliver(chunk)
            self._commit(chunk[-1])
            sent += len(chunk)
        return sent


def run(
    shippers: list[Shipper], *, follow: bool, stop: threading.Event, interval: float = 1.0
) -> dict[str, int]:
    """One pass over every destination, or (follow) until `stop` is set; counts per URL."""
    counts = {s.destination.url: 0 for s in shippers}
    while True:
        for shipper in shippers:
            try:
                counts[shipper.destination.url] += shipper.ship_once()
            except (SinkError, LedgerError) as exc:
                if not follow:
                    raise
                # Long-running (the log may not exist yet): the spool and cursor keep the place; try again next round.
                logger.warning("%s: %s", shipper.destination.url, exc)
        if not follow or stop.wait(interval):
            return counts


def destinations_from(
    *,
    syslog: str | None,
    hec: str | None,
    hec_token_env: str | None,
    es_bulk: str | None,
    es_index: str,
    environ: Mapping[str, str],
    host: str | None = None,
) -> list[Any]:
    out: list[Any] = []
    if syslog:
        out.append(SyslogTcp(syslog, host=host))
    if hec:
        token = environ.get(hec_token_env or "")
        if not hec_token_env or not token:
            raise UsageError("--hec needs a token", advice="pass --hec-token-env VAR with $VAR set")
        out.append(SplunkHec(hec, token=token, host=host))
    if es_bulk:
        out.append(ElasticBulk(es_bulk, index=es_index))
    if not out:
        raise UsageError("no destination", advice="pass --syslog, --hec or --es-bulk")
    return out
