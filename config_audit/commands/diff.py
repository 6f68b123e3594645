"""`config-audit diff OLD NEW`: what changed, keyed by recognizer, and does it weaken detection."""

from __future__ import annotations

from pathlib import Path

import click

from config_audit.audit.check import check_bytes, compare_versions, format_for
from config_audit.commands.common import config_option, format_option, settings_from
from config_audit.commands.render import changes_json, changes_text, finding_line
from config_audit.errors import UsageError
from config_audit.model import ConfigFormat, Impact


def read_version(spec: str) -> tuple[str, bytes | None]:
    """`PATH` or `REV:PATH`; returns (path, bytes or None when the file does not exist)."""
    path = Path(spec)
    if path.exists():
        try:
            return spec, path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{spec}: cannot read: {exc.strerror}") from None
    if ":" in spec:
        from config_audit.git.repo import read_blob

        rev, _, name = spec.partition(":")
        return name, read_blob(rev, name)
    return spec, None


@click.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--effective",
    is_flag=True,
    help="Also load both versions into Presidio and diff the instantiated recognizers "
    "(code defaults of predefined recognizers count; slower).",
)
@click.option(
    "--as",
    "as_format",
    type=click.Choice([f.value for f in ConfigFormat]),
    help="Force the file format instead of detecting it.",
)
@format_option
@config_option
@click.pass_context
def diff(
    ctx: click.Context,
    old: str,
    new: str,
    effective: bool,
    as_format: str | None,
    output_format: str,
    config_path: Path | None,
) -> None:
    """Semantic diff of two versions of a recognizer file.

    OLD and NEW are paths or REV:PATH in a git repository. Changes are keyed by recognizer
    (name + language), never by list position: reordering, comments, quoting and formatting
    are "no semantic change". Each change has an impact: weakens, strengthens or neutral.

    \b
    Examples:
      config-audit diff old.yaml new.yaml
      config-audit diff HEAD~1:recognizers/custom.yaml recognizers/custom.yaml
      config-audit diff --effective --format json main:conf/registry.yaml conf/registry.yaml

    Exit 0 if nothing weakens detection, 1 if a change weakens it or a version is unreadable.
    """
    settings = settings_from(config_path)
    _, old_bytes = read_version(old)
    new_name, new_bytes = read_version(new)
    if old_bytes is None and new_bytes is None:
        raise UsageError(f"neither {old} nor {new} exists")
    fmt = ConfigFormat(as_format) if as_format else format_for(new_name, settings.format_overrides)
    validator = None
    if effective:
        from config_audit.audit.runtime import build_validator

        validator = build_validator(settings)
    try:
        before = after = None
        if old_bytes is not None:
            before = check_bytes(old_bytes, path=old, fmt=fmt, validator=validator, run_lint=False)
        if new_bytes is not None:
            after = check_bytes(new_bytes, path=new, fmt=fmt, validator=validator, run_lint=False)
    finally:
        if validator is not None:
            validator.close()
    changes, problems = compare_versions(before, after)
    for f in problems:
        click.echo(finding_line(f), err=True)
    if output_format == "json":
        click.echo(changes_json(old, new, changes, {"problems": [f.to_dict() for f in problems]}))
    else:
        click.echo(changes_text(old, new, changes))
    weakens = any(c.impact is Impact.WEAKENS for c in changes)
    ctx.exit(1 if weakens or problems else 0)
