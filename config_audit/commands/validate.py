"""`config-audit validate`: load recognizer files into Presidio and lint them."""

from __future__ import annotations

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
from config_audit.commands.render import reports_json, reports_text
from config_audit.errors import UsageError
from config_audit.model import ConfigFormat
from config_audit.settings import Settings
from config_audit.settings.waivers import apply_waivers


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--as",
    "as_format",
    type=click.Choice([f.value for f in ConfigFormat]),
    help="Force the file format instead of detecting it.",
)
@click.option(
    "--no-presidio",
    is_flag=True,
    help="Parse and lint only; skip loading into Presidio (fast, less strict).",
)
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Seconds a file may take to load in Presidio before it is a finding "
    "[default: validation.timeout_s of the settings, else 20].",
)
@format_option
@config_option
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[str, ...],
    as_format: str | None,
    no_presidio: bool,
    timeout: float | None,
    output_format: str,
    config_path: Path | None,
) -> None:
    """Validate recognizer files by really loading them into Presidio.

    Each file is parsed (safe YAML, bounded), linted for the edits Presidio accepts silently
    (unknown keys, scores of 0, "\\b" in double quotes, duplicate names, ...), loaded with
    Presidio's own loader for its format using the model-free no_op NLP engine, analyzed once
    per language, and checked against the detection samples. PATHs may be files or directories;
    none means the recognizer globs of .config-audit.yaml.

    \b
    Examples:
      config-audit validate recognizers/
      config-audit validate --format json recognizers/custom.yaml
      config-audit validate --as registry conf/recognizers.yaml

    Exit 0 if every file is valid, 1 if any is invalid, 2 on usage errors (a PATH that does
    not exist is one).
    """
    settings = settings_from(config_path)
    from config_audit.policy.rules import parse_policy

    parse_policy(settings.policy, where=str(settings.config_path or ".config-audit.yaml"))
    files = expand_paths(paths, settings)
    if not files:
        where = settings.config_path or "the defaults (no .config-audit.yaml found)"
        raise UsageError(
            f"no recognizer files found: nothing matches the 'recognizers' globs "
            f"{list(settings.recognizer_globs)} of {where}",
            advice="fix 'recognizers:' in .config-audit.yaml (relative to its directory), "
            "or name files or directories",
        )
    named_missing = [p for p in paths if not Path(p).exists()]
    forced = ConfigFormat(as_format) if as_format else None
    reports = []
    validator = None
    if not no_presidio:
        from config_audit.audit.runtime import build_validator

        validator = build_validator(settings, timeout_s=timeout, warm_dir=repository_warm_dir())
        validator.prestart()
    try:
        for name in progress(files, "validating"):
            path = Path(name)
            if not path.is_file():
                reports.append(missing_file(name).report)
                continue
            fmt = forced or format_for(settings_relative(path, settings), settings.format_overrides)
            try:
                data = path.read_bytes()
            except OSError as exc:
                reports.append(unreadable_file(name, exc).report)
                continue
            report = check_bytes(data, path=name, fmt=fmt, validator=validator).report
            reports.append(
                apply_waivers(
                    report, settings.waivers, path=settings_relative(path, settings), source=data
                )
            )
    finally:
        if validator is not None:
            validator.close()
    click.echo(reports_json(reports) if output_format == "json" else reports_text(reports))
    if named_missing:  # a typo in a path is a usage error, not a finding about a file
        raise UsageError(
            f"no such file or directory: {', '.join(named_missing)}",
            advice="check the path (it is relative to the current directory)",
        )
    ctx.exit(0 if all(r.valid for r in reports) else 1)


def repository_warm_dir() -> Path | None:
    """The warm validator of the repository we are in, if any (validate uses one that runs;
    the hooks start it)."""
    from config_audit.audit.runtime import warm_dir
    from config_audit.errors import GitError
    from config_audit.git import repo as gitrepo

    try:
        return warm_dir(gitrepo.locations().git_dir)
    except GitError:
        return None


def settings_relative(path: Path, settings: Settings) -> str:
    """The path as `formats:` overrides and `accept:` globs name it: relative to the settings
    file's directory."""
    try:
        return path.resolve().relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
