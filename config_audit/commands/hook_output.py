"""What the hooks print: each file's verdict once per commit (issue 12, deliverable 7).

pre-commit shows every verdict; when it lets the commit through it remembers what it showed
(a digest per file of the content and the lines printed, keyed by the HEAD it judged against)
in the git directory. post-commit then prints one summary line instead of the same verdicts
again, and in full only what differs: a file pre-commit never judged (`--no-verify`), or whose
verdict changed (a finding only the landed commit can have, such as its signature).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import click

from config_audit.commands.render import finding_line, printable
from config_audit.durable import write_atomic
from config_audit.model import AuditResult, Impact


def verdict_lines(result: AuditResult) -> list[str]:
    """A result's findings and weakening changes, as printed under its status line."""
    lines = [
        "  " + finding_line(f).replace("\n", "\n  ")
        for f in result.findings()
        if f.severity.value != "info"
    ]
    lines += [
        printable(f"  weakens: {c.kind} {c.recognizer or ''}: {c.summary}")
        for c in result.changes
        if c.impact is Impact.WEAKENS
    ]
    return lines


def shown_digest(result: AuditResult) -> str:
    """Equal for two results exactly when they show the same verdict on the same content."""
    after = result.event.after
    h = hashlib.sha256()
    for part in (
        result.event.path,
        hashlib.sha256(after).hexdigest() if after is not None else "-",
        "blocked" if result.blocked else "ok",
        *verdict_lines(result),
    ):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def print_results(
    results: Iterable[AuditResult], *, landed: bool = False, shown: frozenset[str] = frozenset()
) -> None:
    """The verdicts on stderr. After the commit (`landed`) nothing can be blocked any more: a
    verdict that would have blocked says so, beside what was recorded. A landed result whose
    verdict pre-commit already showed (`shown`) is only counted in one summary line."""
    quiet = []
    for result in results:
        if landed and shown_digest(result) in shown:
            quiet.append(result)
            continue
        if landed:
            done = "recorded" if result.record is not None else "not recorded (no signing key)"
            status = f"{done}: would have been blocked" if result.blocked else f"{done}: ok"
        else:
            status = "BLOCKED" if result.blocked else "ok"
        click.echo(printable(f"config-audit: {result.event.path}: {status}"), err=True)
        for line in verdict_lines(result):
            click.echo(line, err=True)
    if quiet:
        recorded = sum(r.record is not None for r in quiet)
        what = (
            f"recorded {recorded} of {len(quiet)}"
            if recorded < len(quiet)
            else f"recorded {recorded}"
        )
        commit = (quiet[0].event.commit or "")[:12]
        click.echo(f"config-audit: {commit}: {what} file(s), as shown before the commit", err=True)


def remember_shown(marker: Path, results: list[AuditResult], *, head: str | None) -> None:
    """After a pre-commit that lets the commit through: what it showed, for post-commit."""
    data = {"head": head, "shown": sorted(shown_digest(r) for r in results)}
    try:
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(marker, json.dumps(data).encode("utf-8"), mode=0o600)
    except OSError:
        pass  # post-commit then prints the verdicts again: noisier, never wrong


def forget_shown(marker: Path) -> None:
    marker.unlink(missing_ok=True)


def take_shown(marker: Path, *, parent: str | None) -> frozenset[str]:
    """What pre-commit showed for a commit on `parent` (consumed: shown once)."""
    try:
        data = json.loads(marker.read_bytes())
    except (OSError, ValueError):
        return frozenset()
    forget_shown(marker)
    if not isinstance(data, dict) or data.get("head") != parent:
        return frozenset()
    return frozenset(str(d) for d in data.get("shown") or [])
