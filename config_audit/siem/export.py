"""Read the record log as entries and export them in SIEM formats (jsonl, ecs, splunk-hec,
rfc5424, cef), one event per line, each carrying its record hash and sequence number."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from config_audit.errors import UsageError
from config_audit.ledger.entries import Entry
from config_audit.siem.formats.jsonfmt import render_ecs, render_hec
from config_audit.siem.formats.syslog import render_cef, render_rfc5424
from config_audit.times import parse_time

Renderer = Callable[[Entry], bytes]
FORMAT_NAMES = ("jsonl", "ecs", "splunk-hec", "rfc5424", "cef")
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def renderer(fmt: str, *, host: str | None = None) -> Renderer:
    """The line renderer for `fmt`; `host` is used where a record names no host of its own."""
    name = host or socket.gethostname()
    if fmt == "jsonl":
        return lambda e: e.line  # verbatim: the signed line itself
    if fmt == "ecs":
        return render_ecs
    if fmt == "splunk-hec":
        return lambda e: render_hec(e, host=name)
    if fmt == "rfc5424":
        return lambda e: render_rfc5424(e, host=name)
    if fmt == "cef":
        return render_cef
    raise UsageError(f"unknown export format {fmt!r}", advice=f"one of {', '.join(FORMAT_NAMES)}")


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`30d`, `12h`, `90m`, `2w`, a date (`2024-05-01`) or an RFC 3339 time, as a UTC instant."""
    match = _DURATION.match(text.strip())
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - delta
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        return parse_time(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: not a duration or a date",
            advice="use e.g. 30d, 12h, 2024-05-01 or 2024-05-01T00:00:00Z",
        ) from None


def since_filter(entries: Iterable[Entry], since: datetime | None) -> Iterator[Entry]:
    for entry in entries:
        if since is None or parse_time(str(entry.record.get("time"))) >= since:
            yield entry


def export_entries(entries: Iterable[Entry], render: Renderer, out: BinaryIO) -> int:
    """Write one rendered event per line; return how many were written."""
    count = 0
    batch: list[bytes] = []
    for entry in entries:
        batch.append(render(entry))
        count += 1
        if len(batch) >= 1000:
            out.write(b"\n".join(batch) + b"\n")
            batch.clear()
    if batch:
        out.write(b"\n".join(batch) + b"\n")
    return count
