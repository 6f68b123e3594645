"""`config-audit report`: a review report of the record log over a period."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, emit, settings_from
from config_audit.commands.logopts import from_option, log_option, record_logs


@click.command("report")
@click.option("--since", default="30d", show_default=True, help="30d, 12h, 2024-05-01 ...")
@log_option
@from_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json"]),
    default="md",
    show_default=True,
    help="Markdown, one self-contained HTML file, or JSON (every section, for scripts).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--trusted-keys",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Verify signatures too (default: the configured trusted keys).",
)
@config_option
def report(
    since: str,
    log_paths: tuple[Path, ...],
    writers: tuple[str, ...],
    fmt: str,
    out: Path | None,
    trusted_keys: Path | None,
    config_path: Path | None,
) -> None:
    """Review report: changes by author, recognizer and entity; weakening changes, hooks
    bypassed (--no-verify), blocked attempts, invalid changes that landed, unverified commits,
    out-of-band edits; coverage gaps; and whether the log verifies.

    \b
    Examples:
      config-audit report --since 30d --format html --out review.html
    """
    from config_audit.ledger.archive import read_sequence
    from config_audit.ledger.keys import read_trusted_keys
    from config_audit.siem.export import parse_since
    from config_audit.siem.report import build_report, verification_status
    from config_audit.siem.report_render import render_html, render_markdown

    settings = settings_from(config_path)
    logs = record_logs(settings, log_paths, writers)
    keys_path = trusted_keys or settings.trusted_keys_path
    trusted = read_trusted_keys(keys_path) if keys_path else None
    # Several logs (hooks, CI, watcher): one report, each chain verified on its own.
    checked = [(path, *verification_status(path, trusted)) for path in logs]
    status = "; ".join(f"{path}: {text}" if len(logs) > 1 else text for path, text, _ in checked)
    oks = [ok for _, _, ok in checked]
    ok = False if False in oks else (None if None in oks else True)
    now = datetime.now(UTC)
    data = build_report(
        (entry for path in logs for entry in read_sequence(path)),
        log=", ".join(str(path) for path in logs),
        since=parse_since(since, now=now),
        until=now,
        verification=status,
        verified_ok=ok,
    )
    if fmt == "json":
        import dataclasses
        import json

        text = json.dumps(dataclasses.asdict(data), indent=2)
    else:
        text = render_html(data) if fmt == "html" else render_markdown(data)
    emit(text, out)
    if ok is False:
        sys.exit(1)
