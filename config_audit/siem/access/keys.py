"""Trusted signing keys in the access review: validity, last use in the log, and the items an
expired, revoked, unused or soon expiring key raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from config_audit.ledger.entries import Entry
from config_audit.ledger.signing import TrustedKeys
from config_audit.siem.access.model import Item, KeyRow, ReviewOptions, make_item
from config_audit.times import format_time, parse_time


def key_items(
    trusted: TrustedKeys | None,
    entries: Sequence[Entry],
    until: datetime,
    options: ReviewOptions,
    items: list[Item],
) -> list[KeyRow]:
    """A row per trusted key (status, last use); expired, revoked, unused, expiring: items."""
    if trusted is None:
        return []
    last: dict[str, datetime] = {}
    for e in entries:
        key_id, when = str(e.record.get("key_id")), parse_time(e.record["time"])
        if when < until:  # as of the end of the period, whenever the review runs
            last[key_id] = max(last.get(key_id, when), when)
    rows = []
    for key in trusted.keys.values():
        if key.revoked_at is not None and key.revoked_at <= until:
            state = "revoked"
        elif key.valid_until is not None and key.valid_until <= until:
            state = "expired"
        elif key.valid_from is not None and key.valid_from > until:
            state = "not yet valid"
        else:
            state = "valid"
        used = last.get(key.key_id)
        rows.append(
            KeyRow(
                key.key_id,
                key.owner,
                format_time(key.valid_from) if key.valid_from else "-",
                format_time(key.valid_until) if key.valid_until else "-",
                state,
                format_time(used) if used else "never",
            )
        )
        subject = f"{key.key_id} ({key.owner})"
        if state in ("revoked", "expired"):
            items.append(
                make_item(
                    "orphaned",
                    f"key-{state}-still-trusted",
                    subject,
                    f"trusted key {subject} is {state} but still listed",
                    "keep it only while old records must verify; note why",
                )
            )
        elif used is None or used < until - timedelta(days=options.unused_key_days):
            items.append(
                make_item(
                    "orphaned",
                    "key-unused",
                    subject,
                    f"trusted key {subject} signed nothing for {options.unused_key_days} days "
                    f"(last: {format_time(used) if used else 'never'})",
                    "revoke and remove the key, or confirm it is a standby",
                )
            )
        if (
            state == "valid"
            and key.valid_until is not None
            and key.valid_until - until <= timedelta(days=options.key_expiry_days)
        ):
            items.append(
                make_item(
                    "alerts",
                    "key-expiring",
                    subject,
                    f"trusted key {subject} expires {format_time(key.valid_until)}",
                    "rotate the key (config-audit keygen) before it expires",
                )
            )
    return rows
