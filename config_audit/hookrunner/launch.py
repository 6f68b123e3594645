"""A hook run in this process, and the repository's hook runner started after it.

The runner is started only when the hook's own settings allow a warm validator
(`validation.warm_idle_s` > 0 and CONFIG_AUDIT_WARM_IDLE_S not 0): `commands.hook` calls
`want` once it has read the settings in force. It is started with no signing key in its
environment, its log beside its socket (0600), and nothing of ours waits for it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from config_audit import private
from config_audit.hookrunner import client, wire
from config_audit.settings import environ_without_keys

logger = logging.getLogger(__name__)

LOG_CAP = 1 << 20


def exit_code(value: object) -> int:
    """What `sys.exit(value)` makes the process's exit status."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


# What the hook that ran said, once it read the settings in force: (warm directory, idle
# seconds; 0: no runner). Empty when it read none (pre-push).
WANTED: dict[str, tuple[Path, float]] = {}


def want(directory: Path, idle_s: float) -> None:
    WANTED["runner"] = (directory, idle_s)


def run(main: Callable[[list[str]], object], argv: list[str]) -> int:
    """`main(argv)` (the command line's) as a process would run it: its exit status."""
    try:
        main(argv)
    except SystemExit as exc:
        return exit_code(exc.code)
    return 0


def run_in_process(main: Callable[[list[str]], object], argv: list[str]) -> int:
    """The hook here; then, if its settings allow one and none answers, a runner started."""
    code = run(main, argv)
    wanted = WANTED.get("runner")
    if wanted is None or wanted[1] <= 0:
        return code
    if client.REFUSED == [b"stale"] or client.connect(str(wanted[0])) is None:
        launch(*wanted)  # a stale runner is leaving: its successor waits for its lock
    return code


def launch(directory: Path, idle_s: float) -> bool:
    """Start a runner for `directory` without waiting for it (two at once: one wins the lock,
    the other exits)."""
    try:
        log_fd = private.open_private_log(directory, wire.LOG, cap=LOG_CAP)
    except (private.UnsafeDirectory, OSError) as exc:
        logger.info("hook runner not started: %s", exc)
        return False
    # each fork gets the client's environment; the runner none of the key variables
    env = environ_without_keys(os.environ)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "config_audit", "--hook-runner", str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log_fd,
            cwd=directory,
            env=env,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C at the terminal is the hook's, not the runner's
        )
        assert proc.stdin is not None
        proc.stdin.write((json.dumps({"idle_s": idle_s}) + "\n").encode())
        proc.stdin.close()
    except (OSError, subprocess.SubprocessError) as exc:
        logger.info("hook runner not started: %s", exc)
        return False
    finally:
        os.close(log_fd)
    return True
