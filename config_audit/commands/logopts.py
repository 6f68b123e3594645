"""Options and path defaults shared by the record-log commands (log, show, verify, checkpoint)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from config_audit.errors import UsageError
from config_audit.ledger.keys import read_trusted_keys
from config_audit.ledger.signing import TrustedKeys
from config_audit.settings import Settings

DEFAULT_TRUSTED_KEYS = Path(".config-audit") / "trusted-keys.yaml"

log_option = click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Record log (default: 'log' in .config-audit.yaml).",
)
trusted_keys_option = click.option(
    "--trusted-keys",
    "trusted_keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Trusted public keys (default: 'trusted_keys' setting or .config-audit/trusted-keys.yaml).",
)


def resolve_log(settings: Settings, given: Path | None) -> Path:
    path = given or settings.log_path
    if path is None:
        # In a repository with the hooks installed, the hooks' log is the natural default.
        from config_audit.errors import GitError
        from config_audit.git import repo as gitrepo

        try:
            hook_log = gitrepo.git_dir(settings.root) / "config-audit" / "log.jsonl"
        except GitError:
            hook_log = None
        if hook_log is not None and hook_log.is_file():
            return hook_log
        raise UsageError(
            "no record log given", advice="pass --log PATH or set 'log' in .config-audit.yaml"
        )
    return path


def resolve_trusted(settings: Settings, given: Path | None) -> TrustedKeys:
    return read_trusted_keys(
        given or settings.trusted_keys_path or settings.root / DEFAULT_TRUSTED_KEYS
    )


def default_owner() -> str:
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"
