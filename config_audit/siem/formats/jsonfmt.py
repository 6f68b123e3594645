"""JSON renderings: Elastic Common Schema documents and Splunk HTTP Event Collector events."""

from __future__ import annotations

import json
from typing import Any

from config_audit.ledger.entries import Entry
from config_audit.siem.formats.common import PRODUCT, Summary, change_digests, summarize

ECS_VERSION = "8.11.0"
SOURCETYPE = "config-audit"


def _dumps(obj: Any) -> bytes:
    # Sorted keys: the same record always renders to the same bytes (golden files, de-dup).
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _user(s: Summary) -> dict[str, Any]:
    user: dict[str, Any] = {}
    if s.user_name:
        user["name"] = s.user_name
    if s.user_email:
        user["email"] = s.user_email
    return user


def _audit_fields(entry: Entry, s: Summary) -> dict[str, Any]:
    """The record's own identity and verdicts, enough to find it again in the signed log."""
    return {
        "seq": s.seq,
        "record_hash": s.hash,
        "prev_hash": s.prev_hash,
        "record_id": s.id,
        "key_id": s.key_id,
        "source": s.source,
        "repository": s.repository or None,
        "commit": s.commit or None,
        "assurance": s.assurance or None,
        "valid": s.valid,
        "policy_verdict": s.verdict or None,
        "weakens": s.weakens,
        "changes": change_digests(entry),
    }


def ecs_document(entry: Entry) -> dict[str, Any]:
    s = summarize(entry)
    doc: dict[str, Any] = {
        "@timestamp": s.time_text,
        "ecs": {"version": ECS_VERSION},
        "message": s.message,
        "event": {
            "kind": "event",
            "category": ["configuration"],
            "type": [s.action],
            "action": f"recognizer-config-{s.action}",
            "outcome": s.outcome,
            "severity": s.severity,
            "id": s.id,
            "hash": s.hash,
            "sequence": s.seq,
            "module": PRODUCT,
            "dataset": f"{PRODUCT}.records",
            "provider": s.source,
        },
        "labels": {
            "source": s.source,
            "assurance": s.assurance or "none",
            "weakens": str(s.weakens).lower(),
            "policy_verdict": s.verdict or "none",
        },
        "config_audit": _audit_fields(entry, s),
    }
    if s.path:
        file: dict[str, Any] = {"path": s.path}
        after = entry.record.get("after_sha256")
        if after:
            file["hash"] = {"sha256": after}
        doc["file"] = file
    if user := _user(s):
        doc["user"] = user
    if s.host:
        doc["host"] = {"name": s.host}
    if s.rules:
        doc["rule"] = {"id": list(s.rules), "name": list(s.rules), "ruleset": "config-audit-policy"}
    if s.entities:
        doc["labels"]["entities"] = ",".join(s.entities)
    return doc


def render_ecs(entry: Entry) -> bytes:
    return _dumps(ecs_document(entry))


def hec_event(entry: Entry, *, host: str) -> dict[str, Any]:
    s = summarize(entry)
    event = _audit_fields(entry, s) | {
        "time": s.time_text,
        "action": s.action,
        "outcome": s.outcome,
        "severity": s.severity,
        "path": s.path or None,
        "user": s.user_name or None,
        "user_email": s.user_email or None,
        "rules": list(s.rules),
        "entities": list(s.entities),
        "recognizers": list(s.recognizers),
        "message": s.message,
    }
    return {
        "time": round(s.time.timestamp(), 6),
        "host": s.host or host,
        "source": f"{PRODUCT}:{s.source}",
        "sourcetype": SOURCETYPE,
        # Indexed fields: search by record id or hash without parsing the event.
        "fields": {"record_id": s.id, "record_hash": s.hash, "seq": str(s.seq)},
        "event": event,
    }


def render_hec(entry: Entry, *, host: str) -> bytes:
    return _dumps(hec_event(entry, host=host))
