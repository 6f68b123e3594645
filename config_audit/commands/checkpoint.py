"""`config-audit checkpoint`: sign a tree head of the record log (C2SP tlog-checkpoint)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import log_option, one_log
from config_audit.ledger.checkpoint import write_atomically
from config_audit.ledger.keys import load_signer
from config_audit.ledger.treehead import refresh_checkpoint


@click.command()
@log_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the checkpoint here (somewhere the log's writer cannot rewrite; "
    "default: the 'ledger.anchor' setting, if any).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Sign the log as it is even when it no longer extends the checkpoint beside it "
    "(after `verify` showed why: a truncated or rewritten log).",
)
@config_option
def checkpoint(
    log_paths: tuple[Path, ...], out: Path | None, force: bool, config_path: Path | None
) -> None:
    """Sign the log's current size and Merkle root; write it to <log>.checkpoint.

    `verify` then proves the log still extends it, catching truncation and rewritten history
    even by someone holding the signing key, if a copy is kept out of their reach. A log that
    no longer extends the existing checkpoint is refused (exit 1) unless --force is given.

    \b
    Example:
      config-audit checkpoint --log .git/config-audit/log.jsonl --out /mnt/audit/cp.txt
    """
    settings = settings_from(config_path)
    log = one_log(settings, log_paths, "checkpoint")
    signer = load_signer(path=settings.signing_key_path, environ=os.environ)
    text = refresh_checkpoint(log, signer, force=force)
    out = out or settings.anchor_path
    if out is not None:
        write_atomically(out, text)
    click.echo(text, nl=False)
