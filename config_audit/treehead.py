"""Signed tree heads of a record log: computed from the log, kept beside it, published.

A checkpoint beside the log lets `verify` catch a truncated or rewritten log without extra
flags; a copy published where the writer cannot rewrite it (a git notes ref that travels with
pushes, a SIEM) keeps that true against someone holding the log.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from config_audit.checkpoint import (
    Checkpoint,
    NoteSigner,
    checkpoint_path,
    log_origin,
    sign_checkpoint,
    write_atomically,
)
from config_audit.errors import UsageError
from config_audit.ledger import Ledger
from config_audit.logverify import split_log
from config_audit.merkle import leaf_hash, root_from_leaf_hashes
from config_audit.records import split_line


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


def refresh_checkpoint(log: Path, signer: NoteSigner) -> str:
    """Sign the log's current tree head and write it to `<log>.checkpoint`; return its text."""
    text = sign_checkpoint(make_checkpoint(log), signer)
    write_atomically(checkpoint_path(log), text)
    return text
