"""`config-audit prune`: remove local segments past retention, keeping the chain verifiable."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import log_option, one_log


@click.command("prune")
@click.option(
    "--to",
    "to_url",
    default=None,
    metavar="s3://BUCKET/PREFIX",
    help="Where the segments must be confirmed first (default: retention.remote.url).",
)
@click.option(
    "--local-only",
    is_flag=True,
    help="No remote is configured: prune without a copy in object storage (the signed prune "
    "record says so).",
)
@log_option
@config_option
def prune(
    to_url: str | None, local_only: bool, log_paths: tuple[Path, ...], config_path: Path | None
) -> None:
    """Remove local sealed segments whose records are all older than retention.local_days
    (default: keep_days), once each is confirmed in object storage (present, same SHA-256,
    under the configured lock), or with --local-only when no remote is configured.

    The newest segment always stays: its signed manifest carries the count, Merkle frontier
    and last hash of everything before it, so `verify` starts there. The pruning itself is
    appended as a signed record (range, retention, who) before any file is removed.

    \b
    Examples:
      config-audit archive --before 400d && config-audit prune
      config-audit prune --local-only
    """
    from config_audit.ledger.keys import load_signer
    from config_audit.ledger.prune import prune as prune_segments
    from config_audit.ledger.upload import RemoteSettings

    settings = settings_from(config_path)
    path = one_log(settings, log_paths, "prune")
    remote = RemoteSettings.parse(settings.retention, url=to_url)
    signer = load_signer(path=settings.signing_key_path, environ=os.environ)
    result = prune_segments(
        path,
        signer,
        retention=dict(settings.retention),
        now=datetime.now(UTC),
        remote=remote,
        local_only=local_only,
    )
    if result is None:
        click.echo("nothing past retention to prune", err=True)
        return
    click.echo(
        f"pruned seq {result.first_seq}..{result.last_seq} ({len(result.segments)} segment(s)); "
        f"recorded as seq {result.record['seq']}"
    )
