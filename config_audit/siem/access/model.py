"""Values of the access review: options, the inventory it looks at, items, grants, keys,
signers, previous decisions. Shared by `review` (grants, orphans, over-permissive),
`activity` (unusual activity), `signoff` and `render`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from config_audit.ledger.entries import Entry
from config_audit.model import evidence_from_dict
from config_audit.policy.rules import Actor, Policy

REVIEW_SOURCE = "access-review"
CHANGE_SOURCES = frozenset({"pre-commit", "post-commit", "post-rewrite", "ci", "watcher", "manual"})


@dataclass(frozen=True)
class ReviewOptions:
    """`review:` in `.config-audit.yaml` (all optional)."""

    zone: str = "UTC"
    work_hours: tuple[int, int] = (8, 19)  # [start, end) in `zone`, Monday to Friday
    burst_count: int = 5  # this many changes by one person ...
    burst_minutes: int = 60  # ... within this many minutes
    max_owner_group: int = 5  # a group larger than this owning a protected entity
    unused_key_days: int = 90
    key_expiry_days: int = 14
    overdue_days: int = 35

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any]) -> ReviewOptions:
        from config_audit.errors import UsageError

        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise UsageError(f"review: unknown key(s) {unknown}", advice=f"keys: {sorted(known)}")
        values = dict(raw)
        if "work_hours" in values:
            hours = values["work_hours"]
            if not (isinstance(hours, list | tuple) and len(hours) == 2):
                raise UsageError("review.work_hours is [start, end], e.g. [8, 19]")
            values["work_hours"] = (int(hours[0]), int(hours[1]))
        try:
            ZoneInfo(str(values.get("zone", "UTC")))
        except (KeyError, ValueError):
            raise UsageError(f"review.zone: unknown time zone {values.get('zone')!r}") from None
        return cls(**values)


@dataclass(frozen=True)
class Inventory:
    """What the recognizer files define: names and entities per file (repository-relative)."""

    files: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]]  # path -> ((name, entities),)

    def names(self) -> set[str]:
        return {n for recs in self.files.values() for n, _ in recs}

    def entities(self) -> set[str]:
        return {e for recs in self.files.values() for _, es in recs for e in es}

    def files_with(self, entity: str) -> list[str]:
        return [p for p, recs in self.files.items() if any(entity in es for _, es in recs)]


@dataclass(frozen=True)
class Item:
    id: str  # kind:subject, stable across reviews
    section: str  # orphaned | over_permissive | unusual | alerts
    kind: str
    subject: str
    detail: str
    action: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Grant:
    holder: str
    kind: str  # person | group
    roles: tuple[str, ...]  # "role: may ... on ..." lines
    status: str = ""  # active | inactive | not in directory | ""


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    owner: str
    valid_from: str
    valid_until: str
    status: str  # valid | expired | revoked | not yet valid
    last_used: str


@dataclass(frozen=True)
class SignerRow:
    principal: str
    key: str
    person: str


@dataclass(frozen=True)
class DecisionRow:
    item: str
    decision: str
    note: str
    reviewer: str
    signed_at: str
    outcome: str  # for remove: "done" or "still present"; else the current state


@dataclass(frozen=True)
class RetentionRow:
    segment: str
    records: str  # "first..last"
    sealed: str
    uploaded: str  # the store it is confirmed in, or "not uploaded" / "local only"


@dataclass(frozen=True)
class Review:
    since: str
    until: str
    records: int
    grants: list[Grant]
    keys: list[KeyRow]
    signers: list[SignerRow]
    items: list[Item]
    previous: list[DecisionRow] = field(default_factory=list)
    previous_review: str = ""  # time of the last sign-off, "" if none
    retention: list[RetentionRow] = field(default_factory=list)  # sealed segments of the log
    pruned: str = ""  # the range pruned from local disk, if any

    def section(self, name: str) -> list[Item]:
        return [i for i in self.items if i.section == name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "records": self.records,
            "grants": [asdict(g) for g in self.grants],
            "keys": [asdict(k) for k in self.keys],
            "signers": [asdict(s) for s in self.signers],
            "items": [i.to_dict() for i in self.items],
            "previous_review": self.previous_review,
            "previous_decisions": [asdict(d) for d in self.previous],
            "retention": {"segments": [asdict(r) for r in self.retention], "pruned": self.pruned},
        }


def make_item(section: str, kind: str, subject: str, detail: str, action: str) -> Item:
    return Item(f"{kind}:{subject}", section, kind, subject, detail, action)


def persons_of(entry: Entry, policy: Policy) -> set[str]:
    """The people a record's evidence names (claimed and verified), by the policy's directory."""
    actor = Actor.from_author(evidence_from_dict(entry.record.get("author")))
    names = {policy.directory.person_of(i) for i in actor.identities}
    if actor.verified_signer:
        names.add(policy.directory.person_of(actor.verified_signer))
    return {n for n in names if n}
