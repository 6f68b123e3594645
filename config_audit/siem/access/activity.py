"""Unusual activity in a review period: bursts, edits outside working hours, first-time editors
of protected recognizers, signer other than the author, hook bypasses, host edits outside git,
and changes to the policy and trust files. Pure over record log entries."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config_audit.ledger.entries import Entry
from config_audit.model import evidence_from_dict
from config_audit.policy.rules import Actor, Policy
from config_audit.siem.access.model import CHANGE_SOURCES, Item, ReviewOptions, make_item
from config_audit.times import format_time, parse_time


@dataclass
class _Activity:
    policy: Policy
    protected: Sequence[str]
    trust_paths: Sequence[str]
    options: ReviewOptions
    persons_of: Callable[[Entry, Policy], set[str]]
    earlier: set[tuple[str, str]] = field(default_factory=set)  # (person, protected entity)
    times: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))


def activity_items(
    in_period: Sequence[Entry],
    entries: Sequence[Entry],
    *,
    since: datetime,
    policy: Policy,
    protected: Sequence[str],
    trust_paths: Sequence[str],
    options: ReviewOptions,
    persons_of: Callable[[Entry, Policy], set[str]],
) -> list[Item]:
    """Unusual activity among the records of the period (`entries` gives the history before)."""
    state = _Activity(policy, protected, trust_paths, options, persons_of)
    for entry in entries:
        if parse_time(entry.record["time"]) < since:
            for person in persons_of(entry, policy):
                state.earlier |= {(person, e) for e in _protected_entities(entry, protected)}
    items: list[Item] = []
    for entry in in_period:
        if str(entry.record.get("source")) in CHANGE_SOURCES:
            items += _record_items(state, entry)
    return items + _bursts(state)


def _record_items(state: _Activity, entry: Entry) -> list[Item]:
    record: dict[str, Any] = entry.record
    source = str(record.get("source"))
    when = parse_time(record["time"])
    seq = record.get("seq")
    who = sorted(state.persons_of(entry, state.policy)) or [_claimed(record) or "(unknown)"]
    label = f"record {seq} ({record.get('path') or '-'})"
    items = []
    # A commit is seen by pre-commit, post-commit and CI: count each change once for bursts.
    if source in ("post-commit", "watcher", "manual", "ci"):
        for person in who:
            state.times[person].append(when)
    zone, (start, end) = state.options.zone, state.options.work_hours
    local = when.astimezone(ZoneInfo(zone))
    if source != "pre-commit" and (local.weekday() >= 5 or not start <= local.hour < end):
        items.append(
            make_item(
                "unusual",
                "outside-hours",
                f"{seq}",
                f"{label} by {', '.join(who)} at {local:%a %Y-%m-%d %H:%M} {zone}",
                "confirm with the author that the change was theirs and planned",
            )
        )
    for entity in sorted(_protected_entities(entry, state.protected)):
        for person in who:
            if (person, entity) in state.earlier:
                continue
            state.earlier.add((person, entity))
            items.append(
                make_item(
                    "unusual",
                    "first-time-editor",
                    f"{person}/{entity}",
                    f"{person} changed protected entity {entity} for the first time ({label})",
                    "have an owner review the change",
                )
            )
    return items + _evidence_items(state, record, label, who)


def _evidence_items(
    state: _Activity, record: dict[str, Any], label: str, who: list[str]
) -> list[Item]:
    """Signer other than the author, hook bypass, host edit, policy or trust file change."""
    items = []
    seq = record.get("seq")
    actor = Actor.from_author(evidence_from_dict(record.get("author")))
    directory = state.policy.directory
    if actor.verified_signer:
        signer = directory.person_of(actor.verified_signer) or actor.verified_signer
        authors = {directory.person_of(i) or i for i in actor.identities}
        if authors and signer not in authors:
            items.append(
                make_item(
                    "unusual",
                    "signer-not-author",
                    f"{seq}",
                    f"{label}: signed by {signer}, authored by {', '.join(sorted(authors))}",
                    "confirm the signer reviewed the change on purpose",
                )
            )
    extra = record.get("extra") or {}
    if extra.get("pre_commit") == "not-run":
        items.append(
            make_item(
                "unusual",
                "hook-bypass",
                str(record.get("commit") or seq)[:12],
                f"{label}: committed without the pre-commit check (--no-verify)",
                "ask the author why; make sure CI judged the commit",
            )
        )
    if record.get("source") == "watcher" and record.get("changes"):
        items.append(
            make_item(
                "unusual",
                "host-edit",
                f"{seq}",
                f"{label}: edited on a host outside git by {', '.join(who)}",
                "find the change in git, or revert the host file",
            )
        )
    path = str(record.get("path") or "")
    if extra.get("settings_file") or any(fnmatch.fnmatchcase(path, p) for p in state.trust_paths):
        items.append(
            make_item(
                "unusual",
                "policy-or-trust-change",
                f"{seq}",
                f"{label}: the policy or a trust file changed, by {', '.join(who)}",
                "check the change against the approved access model",
            )
        )
    return items


def _bursts(state: _Activity) -> list[Item]:
    items = []
    window = timedelta(minutes=state.options.burst_minutes)
    for person, moments in sorted(state.times.items()):
        moments.sort()
        i = 0
        while i < len(moments):
            j = i
            while j + 1 < len(moments) and moments[j + 1] - moments[i] <= window:
                j += 1
            if j - i + 1 >= state.options.burst_count:
                items.append(
                    make_item(
                        "unusual",
                        "burst",
                        f"{person}@{format_time(moments[i])[:16]}",
                        f"{person} made {j - i + 1} changes within "
                        f"{state.options.burst_minutes} minutes from {format_time(moments[i])[:16]}",
                        "check the changes were intended (a script, a revert war, a takeover)",
                    )
                )
                i = j + 1
            else:
                i += 1
    return items


def _protected_entities(entry: Entry, protected: Sequence[str]) -> set[str]:
    return {
        str(e)
        for c in entry.record.get("changes") or []
        for e in c.get("entities") or []
        if any(fnmatch.fnmatchcase(str(e), p) for p in protected)
    }


def _claimed(record: dict[str, Any]) -> str:
    author = record.get("author") or {}
    return str(author.get("author_email") or author.get("file_owner") or "")
