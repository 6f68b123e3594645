"""CI range audit as SARIF 2.1.0 for code scanning, and as GitHub workflow-command annotations.

Only the head commit's findings are located at file:line: the lines of an intermediate commit
are not today's lines (a later commit may have fixed or moved them), so those results name their
commit and the file without a region.
"""

from __future__ import annotations

import hashlib
from typing import Any

from config_audit import __version__
from config_audit.audit.git_range import RangeAudit
from config_audit.commands.finding_codes import CODES, FINDINGS_DOC
from config_audit.commands.render_ci import commit_findings
from config_audit.model import Finding, Impact, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFO_URI = "https://github.com/presidio-config-audit/presidio-config-audit"


def _rule(code: str, example: Finding) -> dict[str, Any]:
    anchor, meaning = CODES.get(code, ("", example.message))
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": f"{code}: {meaning}"[:200]},
        "fullDescription": {"text": meaning},
        "help": {"text": example.hint or meaning},
        "helpUri": f"{FINDINGS_DOC}#{anchor}" if anchor else FINDINGS_DOC,
        "defaultConfiguration": {"level": LEVEL[example.severity]},
    }


def _weakening_rule(kind: str) -> dict[str, Any]:
    text = f"change that can weaken PII detection: {kind}"
    return {
        "id": f"weakens/{kind}",
        "name": f"weakens/{kind}",
        "shortDescription": {"text": text},
        "fullDescription": {"text": text + " (reported, not blocking by itself)"},
        "helpUri": f"{FINDINGS_DOC}#policy-ca5xx-and-attribution-ca6xx",
        "defaultConfiguration": {"level": "warning"},
    }


def _fingerprint(*parts: object) -> str:
    """Stable across runs and line moves: rule, file, recognizer and message, not the line."""
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


def _result(
    rule: str,
    level: str,
    message: str,
    path: str,
    line: int | None,
    commit: str,
    *,
    at_head: bool,
    recognizer: str | None,
) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": path}}
    if at_head and line:
        location["region"] = {"startLine": line}
    if not at_head:
        message = f"in commit {commit[:12]} (not the head; its lines may have changed): {message}"
    return {
        "ruleId": rule,
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {"configAudit/v1": _fingerprint(rule, path, recognizer, message)},
        "properties": {"commit": commit, "recognizer": recognizer},
    }


def to_sarif(
    audit: RangeAudit, *, require_hook_record: bool, notes_present: bool = True
) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    rules: dict[str, dict[str, Any]] = {}
    for c in audit.commits:
        at_head = c.commit == audit.head
        for f in commit_findings(
            c, require_hook_record=require_hook_record, notes_present=notes_present
        ):
            rules.setdefault(f.code, _rule(f.code, f))
            text = f.message + (f" (hint: {f.hint})" if f.hint else "")
            results.append(
                # What does not block (accepted, or already in the parent) is a note.
                _result(f.code, LEVEL[f.severity] if f.accepted is None and not f.existing
                        else "note", text, f.path, f.line, c.commit,
                        at_head=at_head, recognizer=f.recognizer)
            )  # fmt: skip
        for r in c.results:
            for ch in r.changes:
                if ch.impact is Impact.WEAKENS:
                    rule = f"weakens/{ch.kind}"
                    rules.setdefault(rule, _weakening_rule(ch.kind))
                    results.append(
                        _result(rule, "warning", f"{ch.recognizer or ''}: {ch.summary}",
                                r.event.path, ch.line, c.commit, at_head=at_head,
                                recognizer=ch.recognizer)
                    )  # fmt: skip
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "config-audit",
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }


def _escape(text: str, *, prop: bool = False) -> str:
    """GitHub workflow-command escaping (data; properties also escape `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def to_github(
    audit: RangeAudit, *, require_hook_record: bool, notes_present: bool = True
) -> list[str]:
    """`::error file=..,line=..,title=CA105::message` lines: annotations on a workflow run.
    Only the head commit's findings get a line; others name their commit."""
    out = []
    for c in audit.commits:
        at_head = c.commit == audit.head
        for f in commit_findings(
            c, require_hook_record=require_hook_record, notes_present=notes_present
        ):
            if f.severity is Severity.INFO:
                continue
            blocks = f.severity is Severity.ERROR and f.accepted is None and not f.existing
            level = "error" if blocks else "warning"
            props = [f"file={_escape(f.path, prop=True)}"] if f.path else []
            if at_head and f.line:
                props.append(f"line={f.line}")
            props.append(f"title={_escape(f.code, prop=True)}")
            where = "" if at_head else f"in commit {c.commit[:12]}: "
            hint = f" (hint: {f.hint})" if f.hint else ""
            out.append(f"::{level} {','.join(props)}::{_escape(where + f.message + hint)}")
    return out
