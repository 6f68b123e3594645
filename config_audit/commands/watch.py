"""`config-audit watch`: audit recognizer edits made on the host, outside git."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path

import click

from config_audit.alerts.dispatch import AlertDispatcher
from config_audit.audit.watch import WatchDaemon
from config_audit.commands.common import config_option, settings_from
from config_audit.watch.lock import InstanceLock
from config_audit.watch.state import WatchOptions, WatchState, roots_for

logger = logging.getLogger("config_audit.audit.watch")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--pidfile", type=click.Path(dir_okay=False, path_type=Path), help="Write the pid here."
)
@click.option(
    "--no-presidio",
    is_flag=True,
    help="Parse and lint only; skip loading into Presidio (faster, less strict).",
)
@config_option
def watch(
    paths: tuple[str, ...], pidfile: Path | None, no_presidio: bool, config_path: Path | None
) -> None:
    """Watch recognizer files and audit every edit made on this host, in git or not.

    Runs in the foreground (for systemd and containers). Each change is audited like a commit
    and appended to the signed log (the 'log' setting, else <state_dir>/log.jsonl); edits whose
    content matches no commit, weakening changes and invalid files raise alerts. Changes made
    while the watcher was not running are recorded at the next start as a coverage gap.
    SIGTERM or Ctrl-C stop it cleanly; SIGHUP reloads the configuration.

    \b
    Examples:
      config-audit watch
      config-audit watch /etc/presidio --pidfile /run/config-audit-watch.pid
    """
    from config_audit.audit.runtime import open_auditor

    settings = settings_from(config_path)
    options = WatchOptions.from_settings(settings, os.environ)
    roots = roots_for(settings, paths)
    alerts = AlertDispatcher.from_settings(settings.alerts)
    lock = InstanceLock(options.log_path)
    lock.acquire()
    stop, reload = threading.Event(), threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: reload.set())
    stack = contextlib.ExitStack()
    try:
        if pidfile is not None:
            pidfile.write_text(f"{os.getpid()}\n")
        # The one way every door builds its auditor: the same validator bounds, log and key.
        auditor = stack.enter_context(
            open_auditor(
                settings, log_path=options.log_path, presidio=not no_presidio, prestart=True
            )
        )
        state = WatchState(options.state_dir).load()
        daemon = WatchDaemon(
            settings,
            roots,
            auditor=auditor,
            state=state,
            alerts=alerts,
            options=options,
            fixed_paths=bool(paths),
        )
        daemon.start()
        logger.warning(
            "watching %s (%d files); log %s",
            ", ".join(str(r.directory) for r in roots),
            len(state.files),
            options.log_path,
        )
        try:
            daemon.run(stop, reload)
        finally:
            daemon.stop()
            logger.warning("stopped cleanly")
    finally:
        stack.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pidfile is not None:
            pidfile.unlink(missing_ok=True)
        lock.release()
