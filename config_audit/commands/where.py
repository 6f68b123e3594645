"""`config-audit where`: where the settings, keys, logs and notes of this place are."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from config_audit.commands.common import config_option, format_option, settings_from


def _count(path: Path) -> int | None:
    try:
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError:
        return None


@click.command()
@format_option
@config_option
def where(output_format: str, config_path: Path | None) -> None:
    """Print where config-audit keeps things here: the settings file, your signing key, each
    writer's record log (hooks, watcher, CI) and whether it exists, and the notes refs.

    Reading commands (log, show, verify, checkpoint, export, report, ship, archive) use the
    first log that exists, in the order shown, unless --log names others.

    \b
    Example:
      config-audit where
      config-audit log --log "$(config-audit where --format json | jq -r '.logs[1].path')"
    """
    from config_audit.commands.logopts import log_locations
    from config_audit.errors import ConfigAuditError, GitError
    from config_audit.git import notes as gitnotes
    from config_audit.settings import SIGNING_KEY_ENV, user_signing_key
    from config_audit.watch.state import WatchOptions

    settings = settings_from(config_path)
    logs: list[dict[str, Any]] = [
        {"writer": label, "path": str(path), "records": _count(path)}
        for label, path in log_locations(settings)
    ]
    try:
        notes = gitnotes.audit_note_refs(cwd=settings.root)
    except GitError:
        notes = []
    key = (
        f"${SIGNING_KEY_ENV}"
        if os.environ.get(SIGNING_KEY_ENV)
        else str(settings.signing_key_path or user_signing_key(os.environ))
    )
    try:
        state_dir: str | None = str(WatchOptions.from_settings(settings, os.environ).state_dir)
    except ConfigAuditError:  # a broken `watch:` section is `watch`'s to report
        state_dir = None
    data = {
        "settings": str(settings.config_path) if settings.config_path else None,
        "recognizers": list(settings.recognizer_globs),
        "signing_key": key,
        "watch_state_dir": state_dir,
        "logs": logs,
        "notes_refs": notes,
    }
    if output_format == "json":
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"settings:     {data['settings'] or '(none: defaults)'}")
    click.echo(f"recognizers:  {', '.join(settings.recognizer_globs)}")
    click.echo(f"signing key:  {key}")
    click.echo(f"watcher state: {state_dir or '-'}")
    click.echo("record logs (read in this order when no --log is given):")
    for entry in logs:
        found = "missing" if entry["records"] is None else f"{entry['records']} record(s)"
        click.echo(f"  {entry['writer']:<20} {entry['path']}  ({found})")
    click.echo(f"notes refs:   {', '.join(notes) or '(none in this clone)'}")
