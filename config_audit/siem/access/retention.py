"""Retention status for the access review: which sealed segments exist, whether each is
confirmed in object storage, and what was pruned. A segment the settings want uploaded but that
is not is an item to decide on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from config_audit.errors import ConfigAuditError
from config_audit.ledger.archive import archive_dir, read_manifest, segment_paths
from config_audit.ledger.entries import Entry
from config_audit.siem.access.model import Item, RetentionRow


def retention_status(
    log: Path, retention: Mapping[str, Any], entries: Sequence[Entry]
) -> tuple[list[RetentionRow], str, list[Item]]:
    """(a row per sealed segment, the pruned range, items): read from the log's archive and
    upload state only; nothing reaches the network."""
    from config_audit.ledger.upload import read_state

    remote = retention.get("remote") if isinstance(retention.get("remote"), dict) else None
    wanted = str(remote.get("url")) if remote and remote.get("url") else None
    try:
        uploaded: dict[str, Any] = read_state(log)["segments"]
    except ConfigAuditError:
        uploaded = {}
    rows, items = [], []
    for segment in segment_paths(archive_dir(log)):
        try:
            manifest = read_manifest(segment)
        except (OSError, ValueError):
            manifest = {}
        entry = uploaded.get(segment.name)
        where = str(entry.get("url")) if isinstance(entry, dict) and entry.get("url") else ""
        rows.append(
            RetentionRow(
                segment.name,
                f"{manifest.get('first_seq', '?')}..{manifest.get('last_seq', '?')}",
                str(manifest.get("created") or ""),
                where or ("not uploaded" if wanted else "local only"),
            )
        )
        if wanted and not where:
            items.append(
                Item(
                    id=f"retention:{segment.name}",
                    section="alerts",
                    kind="retention",
                    subject=segment.name,
                    detail=f"sealed segment not confirmed in {wanted}",
                    action=f"run `config-audit archive --to {wanted}`",
                )
            )
    pruned = ""
    for e in entries:
        if e.record.get("source") == "prune":
            done = (e.record.get("extra") or {}).get("pruned") or {}
            rule = done.get("retention") or {}
            pruned = (
                f"{done.get('first_seq', '?')}..{done.get('last_seq', '?')} "
                f"at {e.record.get('time', '')} (local_days {rule.get('local_days', '?')})"
            )
    return rows, pruned, items
