"""`config-audit archive`: seal older records into a signed, compressed segment."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from


@click.command("archive")
@click.option("--before", required=True, help="Seal records older than this: 2024-01-01 or 90d.")
@click.option("--log", "log", type=click.Path(dir_okay=False, path_type=Path), default=None)
@config_option
def archive(before: str, log: Path | None, config_path: Path | None) -> None:
    """Seal records older than --before (and outside retention.keep_days) into
    <log>.archive/ as gzip JSON Lines with a signed manifest and checkpoint.

    The chain stays verifiable across segments; records inside the retention window
    always stay in the live log.
    """
    from config_audit.ledger.archive import archive_before, cutoff_for
    from config_audit.ledger.keys import load_signer
    from config_audit.siem.export import log_path_from, parse_since

    settings = settings_from(config_path)
    path = log_path_from(log, settings)
    now = datetime.now(UTC)
    cutoff = cutoff_for(parse_since(before, now=now), dict(settings.retention), now)
    signer = load_signer(path=settings.signing_key_path, environ=os.environ)
    manifest = archive_before(path, cutoff, signer, now=now)
    if manifest is None:
        click.echo(f"nothing older than {cutoff.isoformat()} to archive", err=True)
        return
    click.echo(
        f"sealed records {manifest['first_seq']}..{manifest['last_seq']} "
        f"({manifest['count']}) into {manifest['segment']}"
    )
