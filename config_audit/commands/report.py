"""`config-audit report`: a review report of the record log over a period."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from


@click.command("report")
@click.option("--since", default="30d", show_default=True, help="30d, 12h, 2024-05-01 ...")
@click.option("--log", "log", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
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
    log: Path | None,
    fmt: str,
    out: Path | None,
    trusted_keys: Path | None,
    config_path: Path | None,
) -> None:
    """Review report: changes by author, recognizer and entity; weakening, blocked, unverified
    and out-of-band changes; coverage gaps; and whether the log verifies.

    \b
    Examples:
      config-audit report --since 30d --format html --out review.html
    """
    from config_audit.ledger.archive import read_sequence
    from config_audit.ledger.keys import read_trusted_keys
    from config_audit.siem.export import log_path_from, parse_since
    from config_audit.siem.report import build_report, verification_status
    from config_audit.siem.report_render import render_html, render_markdown

    settings = settings_from(config_path)
    path = log_path_from(log, settings)
    keys_path = trusted_keys or settings.trusted_keys_path
    trusted = read_trusted_keys(keys_path) if keys_path else None
    status, ok = verification_status(path, trusted)
    now = datetime.now(UTC)
    data = build_report(
        read_sequence(path),
        log=str(path),
        since=parse_since(since, now=now),
        until=now,
        verification=status,
        verified_ok=ok,
    )
    text = render_html(data) if fmt == "html" else render_markdown(data)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    if ok is False:
        sys.exit(1)
