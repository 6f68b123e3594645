"""`config-audit export`: records in a SIEM format, one event per line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import from_option, log_option, record_logs


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "ecs", "splunk-hec", "rfc5424", "cef"]),
    default="jsonl",
    show_default=True,
    help="jsonl: the signed lines verbatim; the others carry each record's hash and seq.",
)
@click.option("--since", default=None, help="Only records from then on: 30d, 12h, 2024-05-01.")
@log_option
@from_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here (default: stdout).",
)
@click.option("--host", default=None, help="Host name for records that name none.")
@config_option
def export(
    fmt: str,
    since: str | None,
    log_paths: tuple[Path, ...],
    writers: tuple[str, ...],
    out: Path | None,
    host: str | None,
    config_path: Path | None,
) -> None:
    """Export records for a SIEM: jsonl, ecs, splunk-hec, rfc5424, cef.

    \b
    Examples:
      config-audit export --format ecs --since 7d --out ecs.ndjson
      config-audit export --format cef --log audit.jsonl | logger -n siem -T
    """
    from config_audit.ledger.archive import read_sequence
    from config_audit.siem.export import (
        export_entries,
        parse_since,
        renderer,
        since_filter,
    )

    logs = record_logs(settings_from(config_path), log_paths, writers)
    entries = since_filter(
        (e for path in logs for e in read_sequence(path)), parse_since(since) if since else None
    )
    render = renderer(fmt, host=host)
    if out is None:
        count = export_entries(entries, render, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        tmp = out.with_name(out.name + ".tmp")
        with tmp.open("wb") as fh:
            count = export_entries(entries, render, fh)
        tmp.replace(out)
    click.echo(f"exported {count} record(s) as {fmt}", err=True)
