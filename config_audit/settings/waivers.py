"""Governed waivers: per-code severity and reasoned, recorded acceptances (issue 12).

Settings `findings:` sets a code's severity (`CA206: error`, `CA119: off`); `accept:` entries
accept a code in files matching a glob (optionally one recognizer) with a reason and an optional
expiry date; an inline `# config-audit: accept CA110 -- reason` on the YAML line (or alone on the
line before) does the same for that line. An accepted finding is never dropped: it keeps its
severity, carries `accepted` (the reason) and no longer makes the file invalid. An expired
acceptance no longer applies. `off` is an acceptance too, so it is still reported and recorded.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from config_audit.errors import UsageError, did_you_mean
from config_audit.model import Finding, Severity, ValidationReport

CODE = re.compile(r"^CA\d{3}$")
LEVELS = ("error", "warning", "info", "off")
ACCEPT_KEYS = frozenset({"code", "path", "recognizer", "reason", "expires"})
INLINE = re.compile(r"#\s*config-audit:\s*accept\s+(CA\d{3}(?:\s*,\s*CA\d{3})*)\s*(?:--\s*(.*))?$")


@dataclass(frozen=True)
class Acceptance:
    code: str
    reason: str
    path: str = "*"
    recognizer: str | None = None
    expires: date | None = None

    def covers(self, finding: Finding, path: str, today: date) -> bool:
        if self.expires is not None and today > self.expires:
            return False
        if finding.code != self.code or not fnmatch.fnmatch(path, self.path):
            return False
        return self.recognizer is None or finding.recognizer == self.recognizer


@dataclass(frozen=True)
class Waivers:
    severities: tuple[tuple[str, str], ...] = ()  # (code, error|warning|info|off)
    accepts: tuple[Acceptance, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.severities or self.accepts)


def parse_waivers(findings: Any, accept: Any, *, where: str) -> Waivers:
    """Settings `findings:` and `accept:` to `Waivers`; anything malformed is a usage error."""
    findings = findings or {}
    if not isinstance(findings, Mapping):
        raise UsageError(f"{where}: 'findings' maps codes to {' | '.join(LEVELS)}")
    severities = []
    for code, level in findings.items():
        level = "off" if level is False else level  # YAML 1.1 reads a bare off as false
        if not CODE.match(str(code)) or level not in LEVELS:
            raise UsageError(
                f"{where}: findings: {code}: {level!r} is not valid",
                advice=f"write e.g. 'CA206: error'; levels: {', '.join(LEVELS)}",
            )
        severities.append((str(code), str(level)))
    accept = accept or []
    if not isinstance(accept, list):
        raise UsageError(f"{where}: 'accept' must be a list of entries")
    accepts = [_acceptance(item, where=f"{where}: accept[{i}]") for i, item in enumerate(accept)]
    return Waivers(tuple(severities), tuple(accepts))


def _acceptance(item: Any, *, where: str) -> Acceptance:
    if not isinstance(item, Mapping):
        raise UsageError(f"{where}: each entry is a mapping with code, path and reason")
    for key in item:
        if key not in ACCEPT_KEYS:
            raise UsageError(
                f"{where}: unknown key '{key}'",
                advice=did_you_mean([str(key)], ACCEPT_KEYS),
            )
    code, reason = str(item.get("code", "")), item.get("reason")
    if not CODE.match(code):
        raise UsageError(f"{where}: 'code' must be a finding code such as CA110")
    if not isinstance(reason, str) or not reason.strip():
        raise UsageError(f"{where}: an acceptance needs a 'reason'", advice="say why it is safe")
    expires = item.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            expires = False
    if expires is not None and not isinstance(expires, date):
        raise UsageError(f"{where}: 'expires' must be a date (YYYY-MM-DD)")
    recognizer = item.get("recognizer")
    return Acceptance(
        code=code,
        reason=reason.strip(),
        path=str(item.get("path", "*")),
        recognizer=str(recognizer) if recognizer is not None else None,
        expires=expires,
    )


def inline_acceptances(text: str) -> dict[int, tuple[tuple[str, ...], str]]:
    """Line -> (codes, reason) from `# config-audit: accept CAxxx -- reason` comments. A comment
    alone on its line applies to the next line; one after YAML applies to its own line."""
    out: dict[int, tuple[tuple[str, ...], str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = INLINE.search(line)
        if not match:
            continue
        codes = tuple(c.strip() for c in match.group(1).split(","))
        reason = (match.group(2) or "").strip() or "accepted inline (no reason given)"
        target = number + 1 if line.lstrip().startswith("#") else number
        out[target] = (codes, f"inline: {reason}")
    return out


def apply_waivers(
    report: ValidationReport,
    waivers: Waivers,
    *,
    path: str,
    source: bytes | None = None,
    parent: bytes | None = None,
    today: date | None = None,
) -> ValidationReport:
    """The report with severities overridden and acceptances marked (nothing is dropped).
    `source` holds the inline comments; with `parent`, only comments it already had count."""
    inline: dict[int, tuple[tuple[str, ...], str]] = {}
    if source is not None and b"config-audit:" in source:
        inline = inline_acceptances(source.decode("utf-8", "replace"))
        if parent is not None:
            # A gate trusts the audited past: an inline acceptance the change itself adds does
            # not waive that change's own findings (it would be a self-granted waiver).
            known = set(inline_acceptances(parent.decode("utf-8", "replace")).values())
            inline = {line: v for line, v in inline.items() if v in known}
    if not waivers and not inline:
        return report
    today = today or date.today()
    levels = dict(waivers.severities)
    judged = []
    for finding in report.findings:
        level = levels.get(finding.code)
        if level == "off":
            finding = replace(finding, accepted=f"findings: {finding.code}: off in settings")
        elif level is not None:
            finding = replace(finding, severity=Severity(level))
        if finding.accepted is None:
            finding = _accepted(finding, waivers.accepts, inline, path, today)
        judged.append(finding)
    return replace(report, findings=tuple(judged))


def _accepted(
    finding: Finding,
    accepts: Sequence[Acceptance],
    inline: Mapping[int, tuple[tuple[str, ...], str]],
    path: str,
    today: date,
) -> Finding:
    if finding.line is not None and finding.line in inline:
        codes, reason = inline[finding.line]
        if finding.code in codes:
            return replace(finding, accepted=reason)
    for acceptance in accepts:
        if acceptance.covers(finding, path, today):
            until = f" (until {acceptance.expires})" if acceptance.expires else ""
            return replace(finding, accepted=f"{acceptance.reason}{until}")
    return finding


def finding_key(finding: Finding) -> tuple[str, str | None, str]:
    """A finding's identity across versions: code, recognizer and message, not its line."""
    return finding.code, finding.recognizer, re.sub(r"\bline \d+", "line _", finding.message)


def mark_existing(after: ValidationReport, before: ValidationReport | None) -> ValidationReport:
    """Mark the findings of `after` that `before` already had: the change did not add them."""
    if before is None:
        return after
    old = {finding_key(f) for f in before.findings}
    return replace(
        after,
        findings=tuple(
            replace(f, existing=True) if finding_key(f) in old else f for f in after.findings
        ),
    )
