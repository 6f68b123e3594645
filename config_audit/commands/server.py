"""`config-audit server start|stop|status`: the repository's warm validator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from config_audit.commands.common import config_option, format_option, settings_from
from config_audit.errors import UsageError
from config_audit.hookrunner import client
from config_audit.validate.warm_connect import alive


def _warm_dir() -> Path:
    from config_audit.audit.runtime import warm_dir
    from config_audit.git import repo as gitrepo

    return warm_dir(gitrepo.locations().git_dir)


@click.group()
def server() -> None:
    """The warm validator (Presidio kept loaded for this repository's hooks and `validate`)
    and the hook runner (the tool kept imported: each hook runs in a fork of it).

    The first hook that needs Presidio starts the validator; the first hook that runs
    in-process starts the runner. Each exits after `validation.warm_idle_s` seconds unused
    (default 900; 0, or CONFIG_AUDIT_WARM_IDLE_S=0, disables both), and when the tool (or for
    the validator Presidio, the settings or the samples) changes. Neither ever holds a signing
    key. Sockets and logs are in .git/config-audit/warm/ (mode 0700). Without them, hooks run
    and files are validated in-process, with the same verdicts.
    """


@server.command()
@config_option
def start(config_path: Path | None) -> None:
    """Start the warm validator now (with HEAD's settings, as the next commit's hook uses)."""
    from config_audit.audit.git_settings import settings_in_force
    from config_audit.audit.runtime import build_validator, warm_idle
    from config_audit.git import repo as gitrepo
    from config_audit.validate.warm_client import WarmValidator

    top = gitrepo.toplevel()
    head = "HEAD" if gitrepo.rev_exists("HEAD", cwd=top) else None
    settings = settings_in_force(
        config_path, lambda: settings_from(config_path, top=top), top=top, rev=head
    )
    if warm_idle(settings) == 0:
        raise UsageError(
            "the warm validator is disabled (validation.warm_idle_s or "
            "CONFIG_AUDIT_WARM_IDLE_S is 0)",
            advice="set validation: {warm_idle_s: 900}",
        )
    validator = build_validator(settings, warm_dir=_warm_dir(), start_warm=True)
    try:
        assert isinstance(validator, WarmValidator)
        if not validator.ensure_started():
            raise UsageError(
                "the warm validator did not start",
                advice=f"see {_warm_dir() / 'validator.log'}",
            )
    finally:
        validator.close()
    click.echo(f"warm validator running ({_warm_dir()})")


@server.command()
def stop() -> None:
    """Stop the warm validator and the hook runner (nothing happens if none runs)."""
    from config_audit.validate.warm_connect import ask

    directory = _warm_dir()
    status = ask(directory, {"op": "status"})
    runner = _runner_status(directory)
    if status is None:
        click.echo("no warm validator runs")
    else:
        ask(directory, {"op": "stop"})
        _wait_gone("warm validator", int(status["status"]["pid"]))
    if runner is not None:
        client.query(str(directory), "stop")
        _wait_gone("hook runner", int(runner["pid"]))


def _wait_gone(what: str, pid: int) -> None:
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    click.echo(f"{what} {pid} stopped" if not alive(pid) else f"{what} {pid} still stopping")


def _runner_status(directory: Path) -> dict[str, Any] | None:
    """The hook runner's own account (pid, uptime, hooks run, idle time); None if none runs."""
    line = client.query(str(directory), "status")
    try:
        info = json.loads(line) if line else None
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


@server.command()
@format_option
def status(output_format: str) -> None:
    """Pid, uptime, requests served, Presidio version and key of the warm validator.

    Exit 0 when one runs, 1 when none does.
    """
    from config_audit.validate.warm_connect import ask

    answer = ask(_warm_dir(), {"op": "status"})
    info: dict[str, Any] | None = answer.get("status") if answer else None
    runner = _runner_status(_warm_dir())
    if output_format == "json":
        shown = {"running": info is not None, **(info or {}), "hook_runner": runner}
        click.echo(json.dumps(shown, sort_keys=True))
    else:
        if info is None:
            click.echo("no warm validator runs")
        else:
            click.echo(
                f"pid {info['pid']}, up {info['uptime_s']:.0f}s, {info['requests']} requests, "
                f"Presidio {info['presidio_version']}, key {str(info['key'])[:16]}, "
                f"idle exit after {info['idle_s']:.0f}s{'' if info['warm'] else ' (starting)'}"
            )
        if runner is not None:
            click.echo(
                f"hook runner: pid {runner['pid']}, up {runner['uptime_s']:.0f}s, "
                f"{runner['requests']} requests, idle exit after {runner['idle_s']:.0f}s"
            )
    click.get_current_context().exit(0 if info is not None else 1)
