"""`config-audit archive`: seal older records into a signed, compressed segment."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import log_option, one_log


@click.command("archive")
@click.option("--before", required=True, help="Seal records older than this: 2024-01-01 or 90d.")
@log_option
@config_option
def archive(before: str, log_paths: tuple[Path, ...], config_path: Path | None) -> None:
    """Seal records older than --before (and outside retention.keep_days) into
    <log>.archive/ as gzip JSON Lines with a signed manifest and checkpoint.

    The chain stays verifiable across segments; records inside the retention window
    always stay in the live log.
    """
    from config_audit.ledger.archive import archive_before, cutoff_for
    from config_audit.ledger.keys import load_signer
    from config_audit.siem.export import parse_since

    settings = settings_from(config_path)
    path = one_log(settings, log_paths, "archive")
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
