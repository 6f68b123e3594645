"""`config-audit ci --base REV [--head REV]`: audit every commit of a pushed range."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from config_audit.commands.common import (
    Progress,
    config_option,
    leave_fast,
    settings_from,
)
from config_audit.git import repo as gitrepo
from config_audit.settings import CONFIG_NAME, Settings

if TYPE_CHECKING:  # cryptography's import (~7% of Presidio's) waits until the worker started
    from config_audit.audit.git_range import RangeAudit
    from config_audit.audit.pipeline import Auditor
    from config_audit.ledger.signing import TrustedKeys


@click.command()
@click.option(
    "--base",
    required=True,
    help="Last audited commit (e.g. the push's `before`, or "
    "the PR's merge base). All zeros means a new branch: the whole history is audited.",
)
@click.option("--head", default="HEAD", show_default=True, help="Tip of the range.")
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the signed records here (default: `log` of .config-audit.yaml, else "
    "config-audit-ci.jsonl).",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY).",
)
@click.option(
    "--sarif",
    "sarif_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write SARIF 2.1.0 here, for code-scanning annotations at file:line.",
)
@click.option(
    "--require-hook-record",
    is_flag=True,
    help="Fail when a recognizer commit has no hook record (hook bypassed).",
)
@click.option(
    "--audit-only",
    is_flag=True,
    help="Judge and fail as usual but write no records (no signing key needed: pull requests "
    "from forks get no secrets). Chosen automatically, with a warning, when no key is found.",
)
@click.option(
    "--defaults",
    "use_defaults",
    is_flag=True,
    help="Audit with the default settings when the checkout has no .config-audit.yaml "
    "(without it that is an error: a missing settings file must not pass green).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Markdown summary (text), JSON, or GitHub workflow-command annotations (github).",
)
@config_option
@click.pass_context
def ci(
    ctx: click.Context,
    base: str,
    head: str,
    log_path: Path | None,
    markdown_path: Path | None,
    sarif_path: Path | None,
    require_hook_record: bool,
    audit_only: bool,
    use_defaults: bool,
    output_format: str,
    config_path: Path | None,
) -> None:
    """Audit every commit in BASE..HEAD that touches recognizer files.

    Each commit is parsed, diffed, validated in Presidio and checked against the policy; a
    signed record is written with the CI key ($CONFIG_AUDIT_SIGNING_KEY; without one, or with
    --audit-only, nothing is written). Merges, renames, deletions and force-pushed ranges are
    handled (a base no longer in the clone is replaced by the merge base with the default
    branch); a shallow clone gets told how much to fetch. Hook records are read from the git
    notes: fetch them first (`git fetch origin 'refs/notes/config-audit*:refs/notes/config-audit*'`).

    \b
    Examples:
      config-audit ci --base origin/main --sarif audit.sarif --markdown summary.md
      config-audit ci --base "$BEFORE" --head "$AFTER" --format json

    Exit 0 clean, 1 on invalid files or policy violations, 2 on usage errors.
    """
    from config_audit.validate.pool import start_early, stop_early

    start_early()  # Presidio's import (~1 s) overlaps everything up to the first verdict
    top = gitrepo.toplevel()
    base, replaced = _usable_base(base, head, top)  # a force-pushed base: its merge base
    settings, base_rev = _base_settings(config_path, base, top, use_defaults=use_defaults)
    range_notes = ["audit only (--audit-only): no records written"] if audit_only else []
    path = None if audit_only else log_path or settings.log_path or Path("config-audit-ci.jsonl")
    opts = {"require_hook_record": require_hook_record, "notes_present": False}

    def while_waiting() -> None:  # for the worker's Presidio import: what the report needs
        opts["notes_present"] = _prepare_report(top)

    result, tampered = _audit(
        settings,
        (base, head, base_rev),
        top,
        path,
        range_notes,
        audit_only,
        replaced,
        while_waiting,
    )
    failed = _report(result, settings, top, opts, markdown_path, sarif_path, output_format)
    stop_early()
    leave_fast()  # the auditor, its worker and every file written are closed by now
    ctx.exit(1 if tampered or failed else 0)


def _base_settings(
    config_path: Path | None, base: str, top: Path, *, use_defaults: bool
) -> tuple[Settings, str | None]:
    """The base's settings, keys and signers judge the range, never the pushed tree's."""
    from config_audit.audit.git_settings import settings_in_force
    from config_audit.errors import UsageError

    known = set(base) != {"0"} and gitrepo.rev_exists(base, cwd=top)
    base_rev = gitrepo.resolve(base, cwd=top) if known else None
    settings = settings_in_force(
        config_path, lambda: settings_from(config_path, top=top), top=top, rev=base_rev
    )
    if settings.config_path is None and not use_defaults:
        raise UsageError(
            f"no {CONFIG_NAME} in this checkout: nothing says which files to audit or which "
            "policy applies",
            advice=f"commit a {CONFIG_NAME} (config-audit init), name one with --config, or "
            "pass --defaults to audit recognizers/** with the default policy",
        )
    return settings, base_rev


def _audit(
    settings: Settings,
    ends: tuple[str, str, str | None],
    top: Path,
    path: Path | None,
    range_notes: list[str],
    audit_only: bool,
    replaced: str | None,
    while_waiting: Callable[[], None],
) -> tuple[RangeAudit, bool]:
    """The range judged and recorded; True when the CI log was found cut (that fails).
    `ends`: base and head as given, and the base as a commit (None: a new branch)."""
    base, head, base_rev = ends
    from config_audit.audit.git_settings import file_at
    from config_audit.audit.runtime import open_auditor

    reporters: list[Progress] = []

    def progress(i: int, n: int) -> None:
        if not reporters:
            reporters.append(Progress("audited commits", n, minimum=5))
        reporters[0](i)

    # The worker starts importing Presidio first; keys are read while it does. Without a key
    # the range is audited all the same, only no records are written (audit only).
    with (
        open_auditor(settings, log_path=path, prestart=True, require_key=False) as auditor,
        file_at(base_rev, settings.allowed_signers_path, top) as signers,
    ):
        if not audit_only and auditor.signer is None:
            warning = (
                "audit only: no signing key (is $CONFIG_AUDIT_SIGNING_KEY set? pull requests "
                f"from forks get no secrets), so no records are written: {_key_problem(settings)}"
            )
            click.echo(f"config-audit: warning: {warning}", err=True)
            range_notes.append(warning)
        if replaced:
            range_notes.append(replaced)
            click.echo(f"config-audit: warning: {replaced}", err=True)
        trusted = _trusted_keys(settings, top, base)
        from config_audit.audit.git_range import audit_range  # after the worker started importing

        result = audit_range(
            auditor,
            base,
            head,
            cwd=top,
            allowed_signers=signers,
            on_progress=progress,
            trusted=trusted,
            while_waiting=while_waiting,
        )
        result.notes[:0] = range_notes
        if trusted is None:
            result.notes.append(
                "hook records taken on trust: no trusted keys to verify their notes with "
                "(.config-audit/trusted-keys.yaml)"
            )
        return result, _publish(auditor, settings, result)


def _publish(auditor: Auditor, settings: Settings, result: RangeAudit) -> bool:
    """The CI log's checkpoint, when records were written; True when the log was cut."""
    written = any(r.record for c in result.commits for r in c.results)
    if auditor.ledger is None or auditor.signer is None or not written:
        return False
    from config_audit.audit.publish import alert_failure, publish_checkpoint

    outcome = publish_checkpoint(  # beside the CI log
        auditor.ledger.path,
        auditor.signer,
        on_conflict=lambda summary: alert_failure(settings, summary),
    )
    if outcome.conflict:  # someone cut the CI log: that fails the job
        click.echo(f"config-audit: {outcome.conflict}", err=True)
        result.notes.append(f"record log tampered: {outcome.conflict}")  # every format
        return True
    if outcome.error:
        click.echo(f"config-audit: warning: {outcome.error}", err=True)
    return False


def _prepare_report(top: Path) -> bool:
    """Import what the report and the checkpoint use (~60 ms) and ask whether hook notes were
    fetched, while the worker still imports Presidio; True when they were."""
    import config_audit.alerts.rules
    import config_audit.audit.publish
    import config_audit.commands.render_ci
    import config_audit.commands.render_sarif  # noqa: F401
    from config_audit.git.notes import NOTES_PREFIX, audit_note_refs

    return NOTES_PREFIX in audit_note_refs(cwd=top)


def _report(
    result: RangeAudit,
    settings: Settings,
    top: Path,
    opts: dict[str, bool],
    markdown_path: Path | None,
    sarif_path: Path | None,
    output_format: str,
) -> bool:
    """Alerts, then every output asked for; True when the range fails the gate."""
    from config_audit.alerts.rules import alert_results
    from config_audit.commands.render_ci import (
        notes_missing,
        range_failed,
        to_json,
        to_markdown,
    )
    from config_audit.commands.render_sarif import to_github, to_sarif

    missing = notes_missing(result, notes_present=opts["notes_present"])
    if missing:
        result.notes.append(missing)
        click.echo(f"config-audit: warning: {missing}", err=True)
    alert_results(settings, [r for c in result.commits for r in c.results], burst=False)
    markdown = to_markdown(result, **opts)
    if markdown_path:
        markdown_path.write_text(markdown, encoding="utf-8")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(markdown)
    if sarif_path:
        sarif_path.write_text(json.dumps(to_sarif(result, **opts), indent=2), encoding="utf-8")
    if output_format == "json":
        click.echo(json.dumps(to_json(result, **opts), indent=2, default=str))
    elif output_format == "github":
        for line in to_github(result, **opts):
            click.echo(line)
    else:
        click.echo(markdown)
    return range_failed(result, **opts)


def _usable_base(base: str, head: str, top: Path) -> tuple[str, str | None]:
    """BASE, or when a force push took it out of the clone, the merge base of HEAD with the
    default branch (and a note saying so). A shallow clone is left to the range audit, which
    says how much to fetch; no default branch to fall back on is left to it too (an error)."""
    if set(base) == {"0"} or gitrepo.rev_exists(base, cwd=top) or gitrepo.is_shallow(top):
        return base, None
    head_sha = gitrepo.resolve(head, cwd=top)
    for ref in _default_branches(top):
        mb = gitrepo.merge_base(ref, head_sha, cwd=top)
        if mb is not None and mb != head_sha:
            return mb, (
                f"base {base[:12]} is not in this clone (force push?): auditing from the merge "
                f"base {mb[:12]} of {head[:40]} with {ref}"
            )
    return base, None


def _default_branches(top: Path) -> list[str]:
    """The default branch as the remote says (origin/HEAD), then the usual names."""
    out = gitrepo.run_git(
        ["symbolic-ref", "-q", "refs/remotes/origin/HEAD"], cwd=top, check=False
    ).decode()
    names = [out.strip()] if out.strip() else []
    names += ["refs/remotes/origin/main", "refs/remotes/origin/master", "main", "master"]
    return [n for n in dict.fromkeys(names) if gitrepo.rev_exists(n, cwd=top)]


def _key_problem(settings: Settings) -> str:
    """Why no signing key loads (asked again: the auditor only logged it)."""
    from config_audit.errors import SigningKeyError
    from config_audit.ledger.keys import load_signer

    try:
        load_signer(path=settings.signing_key_path, environ=os.environ)
    except SigningKeyError as exc:
        return str(exc)
    return "the key could not be loaded"


def _trusted_keys(settings: Settings, top: Path, base: str) -> TrustedKeys | None:
    """The keys whose hook records count: the trusted-keys file as of BASE when it is tracked
    (a key added by the pushed commits cannot vouch for them), else as it is now. None (notes
    taken on trust) only when there are none, which the range notes say."""
    import yaml

    from config_audit.commands.logopts import DEFAULT_TRUSTED_KEYS
    from config_audit.errors import ConfigAuditError
    from config_audit.ledger.keys import parse_trusted_keys, read_trusted_keys

    path = settings.trusted_keys_path or settings.root / DEFAULT_TRUSTED_KEYS
    rel = gitrepo.repo_relative(path, top)
    try:
        if rel and set(base) != {"0"} and gitrepo.rev_exists(base, cwd=top):
            data = gitrepo.read_blob(base, rel, cwd=top)
            if data is not None:
                where = f"{base[:12]}:{rel}"
                trusted = parse_trusted_keys(yaml.safe_load(data) or {"keys": []}, where=where)
                return trusted if len(trusted) else None
        trusted = read_trusted_keys(path)
    except (ConfigAuditError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return trusted if len(trusted) else None
