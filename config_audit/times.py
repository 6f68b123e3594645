"""The one time format of records, alerts and checkpoints: RFC 3339 in UTC with microseconds.

Every layer reads and writes times through here, so a record written by the watcher, a key window
in the trusted-keys file and an alert all parse the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from config_audit.errors import UsageError


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. 2024-05-01T12:00:00.000000Z."""
    if moment.tzinfo is None:
        raise UsageError("record time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_text() -> str:
    """The current time as `format_time` writes it."""
    return format_time(datetime.now(UTC))


def parse_time(text: str) -> datetime:
    """Inverse of `format_time`; also accepts any RFC 3339 offset. Raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {text!r}")
    return moment.astimezone(UTC)


def parse_setting_time(value: Any, where: str) -> datetime | None:
    """A time from a settings or keys file: YAML timestamps, RFC 3339 text; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):  # YAML reads unquoted timestamps as datetimes
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"{where}: not an RFC 3339 time: {value!r}") from None
    else:
        raise UsageError(f"{where}: not an RFC 3339 time: {value!r}")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
