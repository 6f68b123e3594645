"""`config-audit checkpoint`: sign a tree head of the record log (C2SP tlog-checkpoint)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import click

from config_audit.checkpoint import (
    Checkpoint,
    checkpoint_path,
    log_origin,
    sign_checkpoint,
    write_atomically,
)
from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import log_option, resolve_log
from config_audit.errors import UsageError
from config_audit.ledger import Ledger
from config_audit.logverify import split_log
from config_audit.merkle import leaf_hash, root_from_leaf_hashes
from config_audit.records import split_line
from config_audit.signing import load_signer


def make_checkpoint(log: Path) -> Checkpoint:
    """The tree head over every complete record in `log` (a torn tail is quarantined first)."""
    Ledger(log).recover()
    try:
        lines, _ = split_log(log.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{log}: no record log", advice="check --log") from None
    if not lines:
        raise UsageError(f"{log}: the log is empty; nothing to checkpoint")
    hashes = []
    for line in lines:
        try:
            signed = split_line(line)[1]
        except ValueError:
            signed = line  # verify reports it; the checkpoint still pins the bytes
        hashes.append(hashlib.sha256(signed).digest())
    return Checkpoint(
        origin=log_origin(hashes[0].hex()),
        size=len(hashes),
        root=root_from_leaf_hashes([leaf_hash(h) for h in hashes]),
    )


@click.command()
@log_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the checkpoint here (somewhere the log's writer cannot rewrite).",
)
@config_option
def checkpoint(log_path: Path | None, out: Path | None, config_path: Path | None) -> None:
    """Sign the log's current size and Merkle root; write it to <log>.checkpoint.

    `verify` then proves the log still extends it, catching truncation and rewritten history
    even by someone holding the signing key, if a copy is kept out of their reach.

    \b
    Example:
      config-audit checkpoint --log .git/config-audit/log.jsonl --out /mnt/audit/cp.txt
    """
    settings = settings_from(config_path)
    log = resolve_log(settings, log_path)
    signer = load_signer(path=settings.signing_key_path, environ=os.environ)
    text = sign_checkpoint(make_checkpoint(log), signer)
    write_atomically(checkpoint_path(log), text)
    if out is not None:
        write_atomically(out, text)
    click.echo(text, nl=False)
