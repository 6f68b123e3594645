"""What every SIEM rendering shares: the log entry and a flat summary of one record.

Every rendering carries the record hash and sequence number, so a SIEM copy can be checked
back against the signed log. Deny-list values never leave in clear: the summary keeps change
kinds, impacts, recognizers and entities, never a change's before/after values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config_audit.ledger.entries import Entry
from config_audit.times import parse_time

PRODUCT = "config-audit"
VENDOR = "presidio-config-audit"
_ACTIONS = {
    "watcher-start": "start",
    "watcher-stop": "end",
    "heartbeat": "info",
    "key-rotation": "info",
    "access-review": "info",
}


@dataclass(frozen=True)
class Summary:
    seq: int
    hash: str
    prev_hash: str
    id: str
    key_id: str
    time: datetime
    time_text: str
    source: str
    action: str  # creation | deletion | change | start | end | info
    path: str
    repository: str
    commit: str
    user_name: str
    user_email: str
    host: str
    assurance: str
    valid: bool | None
    verdict: str  # pass | violation | ""
    weakens: bool
    kinds: tuple[str, ...]
    recognizers: tuple[str, ...]
    entities: tuple[str, ...]
    rules: tuple[str, ...]  # codes of policy violations
    message: str

    @property
    def outcome(self) -> str:
        """ECS event.outcome: a blocked or invalid change is a failure."""
        return "failure" if self.valid is False or self.verdict == "violation" else "success"

    @property
    def severity(self) -> int:
        """0-10 (CEF scale): 8 policy violation, 7 invalid, 5 weakening, 3 otherwise."""
        if self.verdict == "violation":
            return 8
        if self.valid is False:
            return 7
        return 5 if self.weakens else 3


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _unique(values: list[Any]) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values if v not in (None, "")}))


def summarize(entry: Entry) -> Summary:
    """Flatten one record into the fields SIEM renderings use."""
    r = entry.record
    author = r.get("author") or {}
    changes = [c for c in r.get("changes") or [] if isinstance(c, dict)]
    validation = r.get("validation") or {}
    policy = r.get("policy") or {}
    source = _text(r.get("source"))
    if source in _ACTIONS:
        action = _ACTIONS[source]
    elif r.get("before_sha256") is None and r.get("after_sha256") is not None:
        action = "creation"
    elif r.get("after_sha256") is None and r.get("before_sha256") is not None:
        action = "deletion"
    else:
        action = "change"
    weakens = any(c.get("impact") == "weakens" for c in changes)
    valid = validation.get("valid") if isinstance(validation.get("valid"), bool) else None
    verdict = _text(policy.get("verdict"))
    rules = _unique([v.get("code") for v in policy.get("violations") or [] if isinstance(v, dict)])
    path = _text(r.get("path"))
    parts = [f"{source} {action} {path or '-'}", f"{len(changes)} change(s)"]
    if weakens:
        parts.append("weakening")
    if valid is False:
        parts.append("invalid")
    if verdict == "violation":
        parts.append("policy violation " + ",".join(rules))
    return Summary(
        seq=int(r.get("seq") or 0),
        hash=entry.hash,
        prev_hash=_text(r.get("prev_hash")),
        id=_text(r.get("id")),
        key_id=_text(r.get("key_id")),
        time=parse_time(_text(r.get("time"))),
        time_text=_text(r.get("time")),
        source=source,
        action=action,
        path=path,
        repository=_text(r.get("repository")),
        commit=_text(r.get("commit")),
        user_name=_text(
            author.get("author_name")
            or author.get("file_owner")
            or author.get("committer_name")
            or author.get("watcher_user")
        ),
        user_email=_text(author.get("author_email") or author.get("committer_email")),
        host=_text(author.get("host") or author.get("hostname")),
        assurance=_text(author.get("assurance")),
        valid=valid,
        verdict=verdict,
        weakens=weakens,
        kinds=_unique([c.get("kind") for c in changes]),
        recognizers=_unique([c.get("recognizer") for c in changes]),
        entities=_unique([e for c in changes for e in c.get("entities") or []]),
        rules=rules,
        message="; ".join(parts),
    )


def change_digests(entry: Entry) -> list[dict[str, Any]]:
    """Changes without their before/after values (deny-list entries must not leave in clear)."""
    keep = ("kind", "impact", "recognizer", "entities", "summary", "line", "level")
    return [
        {k: c[k] for k in keep if k in c}
        for c in entry.record.get("changes") or []
        if isinstance(c, dict)
    ]
