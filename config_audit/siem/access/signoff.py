"""The review as evidence: a reviewer's decision per item (keep / remove / follow-up, with a
note) becomes a signed record in the log, and the next review shows it and whether each
"remove" was done (the item is gone).

decisions.yaml:

    reviewer: carol@nw.example
    decisions:
      - item: directory-inactive:dave@nw.example
        decision: remove
        note: left in October; grants removed in the same PR
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import yaml

from config_audit.errors import UsageError
from config_audit.ledger.entries import Entry
from config_audit.ledger.records import build_record_body
from config_audit.model import Assurance, OperatorEvidence
from config_audit.siem.access.model import REVIEW_SOURCE, DecisionRow, Review, make_item
from config_audit.times import format_time, parse_time

DECISIONS = ("keep", "remove", "follow-up")


def parse_decisions(data: bytes, review: Review, *, where: str) -> tuple[str, list[dict[str, str]]]:
    """The reviewer and their decisions; every decision names an item of `review` (fail closed),
    and every item of the review is decided."""
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: does not parse: {exc}") from None
    if not isinstance(raw, Mapping) or not raw.get("reviewer"):
        raise UsageError(f"{where}: needs `reviewer:` and `decisions:`")
    known = {i.id for i in review.items}
    decided: list[dict[str, str]] = []
    for d in raw.get("decisions") or []:
        if not isinstance(d, Mapping):
            raise UsageError(f"{where}: each decision is a mapping (item, decision, note)")
        item, decision = str(d.get("item", "")), str(d.get("decision", ""))
        if item not in known:
            raise UsageError(
                f"{where}: {item!r} is not an item of this review",
                advice="use the ids `config-audit review --format json` lists",
            )
        if decision not in DECISIONS:
            raise UsageError(f"{where}: decision for {item} must be one of {list(DECISIONS)}")
        decided.append({"item": item, "decision": decision, "note": str(d.get("note") or "")})
    missing = sorted(known - {d["item"] for d in decided})
    if missing:
        raise UsageError(
            f"{where}: {len(missing)} item(s) have no decision: {missing[:5]}",
            advice="decide every item: keep, remove or follow-up",
        )
    return str(raw["reviewer"]), decided


def signoff_body(
    review: Review, reviewer: str, decisions: Sequence[Mapping[str, str]], *, now: datetime
) -> dict[str, Any]:
    """The record body of a sign-off (the ledger seals and signs it)."""
    digest = hashlib.sha256(
        json.dumps(review.to_dict(), sort_keys=True).encode("utf-8")
    ).hexdigest()
    return build_record_body(
        source=REVIEW_SOURCE,
        path=None,
        author=OperatorEvidence(Assurance.CLAIMED, reviewer=reviewer).to_dict(),
        extra={
            "access_review": {
                "since": review.since,
                "until": review.until,
                "reviewer": reviewer,
                "review_sha256": digest,
                "decisions": [dict(d) for d in decisions],
            }
        },
        now=now,
    )


def last_signoff(entries: Iterable[Entry], *, before: datetime) -> Entry | None:
    found = None
    for entry in entries:
        if (
            entry.record.get("source") == REVIEW_SOURCE
            and parse_time(entry.record["time"]) < before
        ):
            found = entry
    return found


def with_previous(
    review: Review, entries: Iterable[Entry], *, now: datetime, overdue_days: int
) -> Review:
    """The review with last sign-off's decisions (and whether each removal happened)."""
    entry = last_signoff(entries, before=now)
    current = {i.id for i in review.items}
    items = list(review.items)
    if entry is None or parse_time(entry.record["time"]) < now - timedelta(days=overdue_days):
        when = format_time(parse_time(entry.record["time"])) if entry else "never"
        items.append(
            make_item(
                "alerts",
                "review-overdue",
                "access-review",
                f"the last signed access review is {when} (due every {overdue_days} days)",
                "run the review and sign it off (config-audit review --sign-off)",
            )
        )
    if entry is None:
        return replace(review, items=items)
    signoff = (entry.record.get("extra") or {}).get("access_review") or {}
    rows = []
    for d in signoff.get("decisions") or []:
        present = d["item"] in current
        if d["decision"] == "remove":
            outcome = "still present" if present else "done"
        else:
            outcome = "still listed" if present else "gone"
        rows.append(
            DecisionRow(
                d["item"],
                d["decision"],
                d.get("note", ""),
                str(signoff.get("reviewer", "")),
                str(entry.record["time"]),
                outcome,
            )
        )
        if d["decision"] == "remove" and present:
            items.append(
                make_item(
                    "alerts",
                    "removal-not-done",
                    d["item"],
                    f"the last review decided to remove {d['item']}, and it is still there",
                    "do the removal, or record why it is kept",
                )
            )
    return replace(review, items=items, previous=rows, previous_review=str(entry.record["time"]))
