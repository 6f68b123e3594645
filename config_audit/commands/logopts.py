"""Options and path defaults shared by the record-log commands: one way to find the records
for log, show, verify, checkpoint, export, report, ship and archive."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import click

from config_audit.errors import UsageError
from config_audit.ledger.keys import read_trusted_keys
from config_audit.ledger.signing import TrustedKeys
from config_audit.settings import Settings

DEFAULT_TRUSTED_KEYS = Path(".config-audit") / "trusted-keys.yaml"

log_option = click.option(
    "--log",
    "log_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record log; repeat to read several together (default: 'log' in .config-audit.yaml, "
    "else this repository's hook log, else the watcher's log: `config-audit where`).",
)
trusted_keys_option = click.option(
    "--trusted-keys",
    "trusted_keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Trusted public keys (default: 'trusted_keys' setting or .config-audit/trusted-keys.yaml).",
)


WRITERS = ("hooks", "watcher", "ci")
from_option = click.option(
    "--from",
    "writers",
    multiple=True,
    type=click.Choice([*WRITERS, "all"]),
    help="Read the log of these writers (repeatable; `all`: every one that exists), merged "
    "with any --log; each chain is verified on its own.",
)


def log_locations(settings: Settings) -> list[tuple[str, Path]]:
    """Where each writer keeps its records, in the order a reading command looks for them:
    the hooks (inside the git directory), the watcher (its state directory), CI (the path its
    job passes, default config-audit-ci.jsonl). A `log` setting is every writer's log."""
    from config_audit.errors import ConfigAuditError
    from config_audit.git import repo as gitrepo
    from config_audit.watch.state import WatchOptions

    out: list[tuple[str, Path]] = []
    with contextlib.suppress(ConfigAuditError):  # not in a repository
        hooks = gitrepo.git_dir(settings.root) / "config-audit" / "log.jsonl"
        out.append(("hooks", settings.log_path or hooks))
    with contextlib.suppress(ConfigAuditError):  # a broken `watch:` is the watcher's to report
        out.append(("watcher", WatchOptions.from_settings(settings, os.environ).log_path))
    out.append(("ci", settings.log_path or Path("config-audit-ci.jsonl")))
    return out


def record_logs(
    settings: Settings, given: Sequence[Path], writers: Sequence[str] = ()
) -> list[Path]:
    """The logs a reading command reads: every --log given and the logs of every --from
    writer (all of them, in order), else the configured log, else the first of the hooks' and
    the watcher's logs that exists."""
    chosen = list(given)
    if writers:
        places = log_locations(settings)
        for label, path in places:
            if "all" in writers and path.is_file():
                chosen.append(path)
            elif label in writers:
                if not path.is_file():
                    raise UsageError(
                        f"no {label} record log at {path}",
                        advice="`config-audit where` shows where each writer keeps its log",
                    )
                chosen.append(path)
        if not chosen:
            raise UsageError("no record log exists here", advice="see `config-audit where`")
    if chosen:
        return list(dict.fromkeys(chosen))
    if settings.log_path is not None:
        return [settings.log_path]
    places = [(label, path) for label, path in log_locations(settings) if label != "ci"]
    for _, path in places:
        if path.is_file():
            return [path]
    looked = "; ".join(f"{label}: {path}" for label, path in places)
    raise UsageError(
        "no record log found" + (f" (looked in {looked})" if looked else ""),
        advice="pass --log PATH (or --from ci) or set 'log' in .config-audit.yaml; "
        "`config-audit where` shows where each writer keeps its log",
    )


def one_log(settings: Settings, given: Sequence[Path], command: str) -> Path:
    """For commands that sign or move one log (checkpoint, archive, ship): several --log
    values are an error, never a silent pick."""
    logs = record_logs(settings, given)
    if len(logs) > 1:
        raise UsageError(
            f"{command} works on one record log, {len(logs)} given",
            advice=f"run `config-audit {command}` once per --log",
        )
    return logs[0]


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
