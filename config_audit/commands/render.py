"""Presentation: reports and changes as text or JSON. No decisions are made here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from config_audit.model import Change, Finding, Impact, Severity, ValidationReport


def printable(text: str) -> str:
    """`text` safe for a terminal: control characters (escape sequences that could hide a
    verdict) and the bytes of non-UTF-8 file names are shown escaped; line breaks are kept."""
    return "\n".join(
        "".join(c if c.isprintable() or c == "\t" else _escaped(c) for c in line)
        for line in text.split("\n")
    )


def _escaped(c: str) -> str:
    if 0xDC80 <= ord(c) <= 0xDCFF:  # a byte of a non-UTF-8 name (surrogate escape)
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape").decode("ascii")


def finding_line(f: Finding) -> str:
    who = f" [{f.recognizer}]" if f.recognizer else ""
    mark = " (existing)" if f.existing else ""
    text = f"{f.location}: {f.severity.value}{mark} {f.code}{who} {f.message}"
    if f.accepted:
        text += f"\n    accepted: {f.accepted}"
    return printable(text + (f"\n    hint: {f.hint}" if f.hint else ""))


def reports_text(reports: Sequence[ValidationReport]) -> str:
    out = []
    for r in reports:
        verdict = "valid" if r.valid else "INVALID"
        fmt = r.format.value if r.format else "unknown format"
        presidio = f", presidio {r.presidio_version}" if r.presidio_version else ""
        out.append(f"{r.path}: {verdict} ({fmt}, {r.recognizer_count} recognizers{presidio})")
        out += [finding_line(f) for f in r.findings]
        failed = [s for s in r.samples if not s.ok]
        if r.samples:
            out.append(f"  samples: {len(r.samples) - len(failed)}/{len(r.samples)} pass")
    invalid = sum(not r.valid for r in reports)
    warnings = sum(
        f.severity is Severity.WARNING and not f.accepted for r in reports for f in r.findings
    )
    accepted = sum(bool(f.accepted) for r in reports for f in r.findings)
    # Whose Presidio decided: the deployment's (presidio.python) or this tool's own.
    for version, python, where in sorted(
        {(r.presidio_version, r.python_version, r.presidio_interpreter) for r in reports}
    ):
        if version and where:
            out.append(f"validated with presidio-analyzer {version} in {where} (Python {python})")
    summary = f"{len(reports)} file(s) checked: {invalid} invalid, {warnings} warning(s)"
    out.append(summary + (f", {accepted} accepted" if accepted else ""))
    return "\n".join(out)


def reports_json(reports: Sequence[ValidationReport]) -> str:
    return dumps(
        {
            "files": [r.to_dict() for r in reports],
            "summary": {"files": len(reports), "invalid": sum(not r.valid for r in reports)},
        }
    )


def changes_text(old: str, new: str, changes: Sequence[Change]) -> str:
    if not changes:
        return f"{old} -> {new}: no semantic change"
    weak = sum(c.impact is Impact.WEAKENS for c in changes)
    out = [f"{old} -> {new}: {len(changes)} change(s), {weak} weaken detection"]
    for c in changes:
        where = f" (line {c.line})" if c.line else ""
        who = f" {c.recognizer}" if c.recognizer else ""
        tag = " [effective]" if c.level == "effective" else ""
        out.append(f"  {c.impact.value.upper():<11} {c.kind}{who}: {c.summary}{where}{tag}")
    return "\n".join(out)


def changes_json(
    old: str, new: str, changes: Sequence[Change], extra: dict[str, Any] | None = None
) -> str:
    return dumps(
        {
            "old": old,
            "new": new,
            "changes": [c.to_dict() for c in changes],
            "weakens": any(c.impact is Impact.WEAKENS for c in changes),
        }
        | (extra or {})
    )


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
