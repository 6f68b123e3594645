"""`config-audit baseline`: accept today's findings, so a repository adopts the gate first and
fixes later. Writes `accept:` entries (code, file, recognizer, reason, optional expiry) into
the settings file, keeping everything else in it. Committing them is a policy change like any
acceptance: judged by the policy before it (on a protected entity, its owners must agree)."""

from __future__ import annotations

import glob
from datetime import date
from pathlib import Path

import click

from config_audit.audit.check import check_bytes, format_for, missing_file, unreadable_file
from config_audit.commands.common import (
    config_option,
    expand_paths,
    format_option,
    progress,
    settings_from,
)
from config_audit.commands.render import dumps, printable
from config_audit.commands.validate import settings_relative
from config_audit.errors import UsageError
from config_audit.model import Severity, ValidationReport
from config_audit.settings import CONFIG_NAME, Settings
from config_audit.settings.edit import acceptance_block, add_acceptances
from config_audit.settings.waivers import apply_waivers

# Limits of the worker, not properties of the file: accepting one would hide a file that hangs
# or crashes validation from then on.
NOT_ACCEPTABLE = frozenset({"CA210", "CA211", "CA212", "CA213"})


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--reason", required=True, help="Why these findings are accepted (recorded).")
@click.option(
    "--expires",
    default=None,
    metavar="YYYY-MM-DD",
    help="Date after which the acceptances lapse and the findings block again [default: never].",
)
@click.option("--warnings", is_flag=True, help="Accept warnings too (only errors block).")
@click.option("--dry-run", is_flag=True, help="Show the entries; write nothing.")
@format_option
@config_option
@click.pass_context
def baseline(
    ctx: click.Context,
    paths: tuple[str, ...],
    reason: str,
    expires: str | None,
    warnings: bool,
    dry_run: bool,
    output_format: str,
    config_path: Path | None,
) -> None:
    """Accept today's findings in the settings file's `accept:` list.

    Validates PATHs (default: the recognizer globs of .config-audit.yaml) as `validate` does
    and writes one acceptance per code, file and recognizer for every error (with --warnings,
    every warning too) that no waiver accepts yet. Comments and the rest of the file are kept.
    A finding that appears later is not covered and still blocks; commit the settings file:
    adding acceptances is judged by the policy in force before it.

    \b
    Examples:
      config-audit baseline --reason "adopted 2026-12; fix in PRIV-42" --dry-run
      config-audit baseline --reason "legacy files" --expires 2027-03-31 recognizers/

    Exit 0 (also when there is nothing to accept), 2 on usage errors.
    """
    if not reason.strip():
        raise UsageError("--reason is empty", advice="say why the findings are accepted")
    until = _expiry(expires)
    settings = settings_from(config_path)
    reports = _reports(paths, settings)
    wanted = {Severity.ERROR, Severity.WARNING} if warnings else {Severity.ERROR}
    counted: dict[tuple[str, str, str | None], int] = {}
    for report in reports:
        where = glob.escape(settings_relative(Path(report.path), settings))
        for f in report.findings:
            if f.severity in wanted and f.accepted is None and f.code not in NOT_ACCEPTABLE:
                key = (f.code, where, f.recognizer)
                counted[key] = counted.get(key, 0) + 1
    keys = sorted(counted, key=lambda k: (k[1], k[0], k[2] or ""))
    entries = [
        {"code": code, "path": path, "recognizer": rec, "reason": reason.strip(), "expires": until}
        for code, path, rec in keys
    ]
    target = settings.config_path or settings.root / CONFIG_NAME
    comment = (
        f"config-audit baseline {date.today().isoformat()}: {sum(counted.values())} finding(s)"
    )
    written = False
    if entries and not dry_run:
        text = target.read_text(encoding="utf-8") if target.exists() else ""
        target.write_text(add_acceptances(text, entries, comment=comment), encoding="utf-8")
        written = True
    if output_format == "json":
        found = [
            {**{k: v for k, v in e.items() if v is not None}, "findings": counted[key]}
            for e, key in zip(entries, keys, strict=True)
        ]
        click.echo(dumps({"settings": str(target), "written": written, "accept": found}))
        return
    click.echo(printable(_summary(entries, counted, target, written=written, dry_run=dry_run)))


def _expiry(expires: str | None) -> str | None:
    if expires is None:
        return None
    try:
        day = date.fromisoformat(expires)
    except ValueError:
        raise UsageError(
            f"--expires {expires!r} is not a date", advice="write YYYY-MM-DD"
        ) from None
    if day < date.today():
        raise UsageError(f"--expires {expires} is in the past: the acceptances would not apply")
    return day.isoformat()


def _reports(paths: tuple[str, ...], settings: Settings) -> list[ValidationReport]:
    """Every file judged as `validate` judges it, with the waivers already in force."""
    from config_audit.audit.runtime import build_validator

    files = expand_paths(paths, settings)
    if not files:
        raise UsageError(
            f"no recognizer files found: nothing matches {list(settings.recognizer_globs)}",
            advice="name files or directories, or fix 'recognizers:' in .config-audit.yaml",
        )
    reports = []
    validator = build_validator(settings)
    validator.prestart()
    try:
        for name in progress(files, "judging"):
            path = Path(name)
            if not path.is_file():
                reports.append(missing_file(name).report)
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                reports.append(unreadable_file(name, exc).report)
                continue
            rel = settings_relative(path, settings)
            fmt = format_for(rel, settings.format_overrides)
            report = check_bytes(data, path=name, fmt=fmt, validator=validator).report
            reports.append(apply_waivers(report, settings.waivers, path=rel, source=data))
    finally:
        validator.close()
    return reports


def _summary(
    entries: list[dict[str, str | None]],
    counted: dict[tuple[str, str, str | None], int],
    target: Path,
    *,
    written: bool,
    dry_run: bool,
) -> str:
    if not entries:
        return "baseline: nothing to accept (no finding that blocks is left unaccepted)"
    total = sum(counted.values())
    verb = "would add" if dry_run else "added"
    lines = [f"baseline: {verb} {len(entries)} acceptance(s) for {total} finding(s) to {target}"]
    if dry_run:
        lines.append(acceptance_block(entries, indent=2, comment="").rstrip("\n"))
    else:
        for e in entries:
            who = f" [{e['recognizer']}]" if e["recognizer"] else ""
            lines.append(f"  accept {e['code']} in {e['path']}{who}")
    if written:
        lines.append(
            f"commit {target.name}: adding acceptances is a policy change, judged by the policy "
            "before it (on a protected entity its owners must agree)"
        )
    return "\n".join(lines)
