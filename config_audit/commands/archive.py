"""`config-audit archive`: seal older records into signed segments; copy them to object storage."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import log_option, one_log
from config_audit.errors import UsageError


@click.command("archive")
@click.option("--before", default=None, help="Seal records older than this: 2024-01-01 or 90d.")
@click.option(
    "--to",
    "to_url",
    default=None,
    metavar="s3://BUCKET/PREFIX",
    help="Upload sealed segments, manifests and checkpoints there "
    "(default: retention.remote.url, when set).",
)
@log_option
@config_option
def archive(
    before: str | None, to_url: str | None, log_paths: tuple[Path, ...], config_path: Path | None
) -> None:
    """Seal records older than --before (and outside retention.keep_days) into
    <log>.archive/ as gzip JSON Lines with a signed manifest and checkpoint, then upload
    every segment not yet uploaded to object storage under Object Lock.

    The chain stays verifiable across segments; records inside the retention window
    always stay in the live log. Uploads are checked by SHA-256 and recorded in
    <log>.archive/remote.json only when complete, so an interrupted run can simply be rerun.
    Credentials come from the standard AWS chain (AWS_* variables, ~/.aws, a role).

    \b
    Examples:
      config-audit archive --before 90d
      config-audit archive --before 90d --to s3://audit-evidence/presidio/
    """
    from config_audit.ledger.archive import archive_before, cutoff_for
    from config_audit.ledger.keys import load_signer
    from config_audit.ledger.upload import RemoteSettings, upload_segments
    from config_audit.siem.export import parse_since

    settings = settings_from(config_path)
    path = one_log(settings, log_paths, "archive")
    remote = RemoteSettings.parse(settings.retention, url=to_url)
    if before is None and remote.url is None:
        raise UsageError("nothing to do", advice="pass --before, --to, or both")
    now = datetime.now(UTC)
    if before is not None:
        cutoff = cutoff_for(parse_since(before, now=now), dict(settings.retention), now)
        signer = load_signer(path=settings.signing_key_path, environ=os.environ)
        manifest = archive_before(path, cutoff, signer, now=now)
        if manifest is None:
            click.echo(f"nothing older than {cutoff.isoformat()} to archive", err=True)
        else:
            click.echo(
                f"sealed records {manifest['first_seq']}..{manifest['last_seq']} "
                f"({manifest['count']}) into {manifest['segment']}"
            )
    if remote.url is not None:
        result = upload_segments(path, remote)
        target = remote.target().url
        for name in result.uploaded:
            click.echo(f"uploaded {name} to {target}")
        lock = (
            f", locked {remote.lock_mode.lower()} {remote.lock_days}d" if remote.lock_mode else ""
        )
        click.echo(
            f"{len(result.uploaded)} segment(s) uploaded, {len(result.already)} already there{lock}"
        )
