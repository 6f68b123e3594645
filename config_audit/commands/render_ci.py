"""CI range audit rendered as Markdown (PR comment / job summary), SARIF 2.1.0 and JSON."""

from __future__ import annotations

import json
from typing import Any

from config_audit.audit.git import CommitAudit
from config_audit.audit.git_range import RangeAudit
from config_audit.commands.render import printable
from config_audit.model import Change, Finding, Impact, Severity


def commit_findings(
    audit: CommitAudit, *, require_hook_record: bool, notes_present: bool = True
) -> list[Finding]:
    """Everything wrong with one commit: file findings, policy, attribution, a bypassed hook.
    Without the notes ref in the clone no commit can show its hook record: that is said once
    for the range (`notes_missing`), not as a bypass of every commit."""
    out = [f for r in audit.results for f in r.findings()] + list(audit.attribution)
    if audit.results and not audit.hook_record and notes_present:
        why = (
            "its config-audit note holds no record of it signed by a trusted key (forged, "
            "copied from another commit, or signed by an unknown key)"
            if audit.hook_note_invalid
            else "committed with --no-verify, or without the hooks installed"
        )
        out.append(
            Finding(
                "CA603",
                Severity.ERROR if require_hook_record else Severity.WARNING,
                f"commit {audit.commit[:12]} changes recognizer files but has no hook record "
                f"({why})",
                path=audit.results[0].event.path,
                hint="install the hooks (config-audit install-hooks); fetch notes in CI with "
                "`git fetch origin refs/notes/config-audit:refs/notes/config-audit`",
            )
        )
    if audit.results and audit.pre_commit_skipped:
        out.append(
            Finding(
                "CA604",
                Severity.ERROR if require_hook_record else Severity.WARNING,
                f"commit {audit.commit[:12]} was made without its pre-commit check "
                "(git commit --no-verify): its hook record says pre-commit did not pass it",
                path=audit.results[0].event.path,
                hint="the audit above is what pre-commit would have said; ask the author why",
            )
        )
    return out


def public_change(change: Change) -> dict[str, Any]:
    """A change fit for CI logs and pull-request comments: deny-list entries can be personal
    data, so only their number is shown (the signed record keeps salted hashes)."""
    data = change.to_dict()
    if change.kind.startswith("deny_list.entries"):
        for key in ("before", "after"):
            if data[key] is not None:
                data[key] = f"<{len(json.loads(data[key]))} entries withheld>"
    return data


NOTES_FETCH = "git fetch origin 'refs/notes/config-audit*:refs/notes/config-audit*'"


def notes_missing(audit: RangeAudit, *, notes_present: bool) -> str | None:
    """The range note when the clone has no notes ref although commits touch recognizers."""
    if notes_present or not any(c.results for c in audit.commits):
        return None
    return (
        "refs/notes/config-audit is absent from this clone, so no hook record can be checked "
        "(the notes were not fetched, or never pushed: install-hooks adds a pre-push hook "
        f"that pushes them). Fetch them before the audit: `{NOTES_FETCH}`"
    )


def range_failed(
    audit: RangeAudit, *, require_hook_record: bool, notes_present: bool = True
) -> bool:
    """A commit blocked by what it introduces (errors already in its parent are `existing` and
    fail only with `strict: true`), or a hook bypass the options make an error; with
    --require-hook-record, a clone without the notes fails closed (unknown is not audited)."""
    if require_hook_record and notes_missing(audit, notes_present=notes_present):
        return True
    return any(c.blocked for c in audit.commits) or any(
        f.blocking
        for c in audit.commits
        for f in commit_findings(
            c, require_hook_record=require_hook_record, notes_present=notes_present
        )
        if f.code in ("CA603", "CA604")
    )


def to_json(
    audit: RangeAudit, *, require_hook_record: bool, notes_present: bool = True
) -> dict[str, Any]:
    opts = {"require_hook_record": require_hook_record, "notes_present": notes_present}
    commits = []
    for c in audit.commits:
        if not c.results:
            continue
        commits.append(
            {
                "commit": c.commit,
                "author": c.info.author_email,
                "assurance": c.results[0].event.author.assurance.value,
                "hook_record": c.hook_record,
                "files": [
                    {
                        "path": r.event.path,
                        "blocked": r.blocked,
                        "changes": [public_change(ch) for ch in r.changes],
                        "record_seq": (r.record or {}).get("seq"),
                    }
                    for r in c.results
                ],
                "findings": [f.to_dict() for f in commit_findings(c, **opts)],
            }
        )
    return {
        "base": audit.base,
        "head": audit.head,
        "commits_scanned": audit.scanned,
        "notes": audit.notes,
        "hook_notes_present": notes_present,
        "commits": commits,
        "failed": range_failed(audit, **opts),
    }


def to_markdown(audit: RangeAudit, *, require_hook_record: bool, notes_present: bool = True) -> str:
    opts = {"require_hook_record": require_hook_record, "notes_present": notes_present}
    failed = range_failed(audit, **opts)
    touched = [c for c in audit.commits if c.results]
    lines = [
        f"## Presidio recognizer audit: {'❌ failed' if failed else '✅ passed'}",
        "",
        f"{audit.scanned} commit(s) scanned, {len(touched)} touch recognizer files "
        f"(`{(audit.base or 'root')[:12]}..{audit.head[:12]}`).",
        "",
    ]
    lines += [f"> {note}" for note in audit.notes]
    if touched:
        lines += [
            "| commit | author | assurance | file | verdict | weakening changes |",
            "|---|---|---|---|---|---|",
        ]
        for c in touched:
            for r in c.results:
                weak = [
                    f"`{ch.kind}` {ch.recognizer or ''}"
                    for ch in r.changes
                    if ch.impact is Impact.WEAKENS
                ]
                verdict = "blocked" if r.blocked else "ok"
                lines.append(
                    f"| `{c.commit[:12]}` | {_md(c.info.author_email)} | "
                    f"{r.event.author.assurance} | `{_md(r.event.path)}` | "
                    f"{verdict} | {'<br>'.join(_md(w) for w in weak) or '–'} |"
                )
        lines.append("")
    problems = [
        f for c in touched for f in commit_findings(c, **opts) if f.severity is not Severity.INFO
    ]
    if problems:
        lines += ["### Findings", ""]
        for f in problems:
            where = f"{f.path}:{f.line}" if f.line else f.path
            who = f" ({f.recognizer})" if f.recognizer else ""
            mark = " (existing)" if f.existing else ""
            accepted = f"<br>_accepted: {_md(f.accepted)}_" if f.accepted else ""
            lines.append(
                f"- **{f.severity.value}**{mark} `{f.code}` `{_md(where)}`{_md(who)}: "
                f"{_md(f.message)}" + (f"<br>_hint: {_md(f.hint)}_" if f.hint else "") + accepted
            )
    return printable("\n".join(lines)) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
