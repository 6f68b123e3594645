"""The warm hook runner: a process that has imported the tool, and forks once per hook.

Run as `python -m config_audit --hook-runner DIR` with `{"idle_s": N}` on stdin (by
`launch`; `__main__` hands it the command line's `main`, which it imports by name only). One per repository (a lock beside the socket), single-threaded so that forking it is
safe. It never reads a request: each accepted connection (from our own uid only) is handed to
a fresh fork, which reads the client's arguments, environment, working directory, umask and
standard streams, becomes that process and runs the command line's `main` as a fresh one would;
the fork, not the runner, ever sees a signing key, and it exits after that one hook.

The runner exits when idle for `idle_s`, on SIGTERM, when asked (`server stop`), and when the
tool's code, its dependencies or the interpreter changed since it started ("stale": the fork
that notices tells the client, which runs the hook in-process and starts a successor).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from config_audit import private
from config_audit.hookrunner import wire
from config_audit.hookrunner.identity import tool_fingerprint

logger = logging.getLogger("config_audit.hookrunner")

# Imported before the socket is bound, so a hook finds them imported: everything the hooks
# import for a commit touching a recognizer file (a fork logs how many it still imported).
PRELOAD = (
    "config_audit.cli",
    "config_audit.commands.hook",
    "config_audit.commands.hook_output",
    "config_audit.commands.render",
    "config_audit.audit.check",
    "config_audit.audit.git",
    "config_audit.audit.git_evidence",
    "config_audit.audit.git_settings",
    "config_audit.audit.pipeline",
    "config_audit.audit.publish",
    "config_audit.audit.runtime",
    "config_audit.alerts.rules",
    "config_audit.git.attribution",
    "config_audit.git.notes",
    "config_audit.git.precommit",
    "config_audit.git.reader",
    "config_audit.ledger.keys",
    "config_audit.ledger.log",
    "config_audit.ledger.records",
    "config_audit.ledger.checkpoint",
    "config_audit.recognizers.diff",
    "config_audit.recognizers.lint",
    "config_audit.recognizers.parse",
    "config_audit.validate.warm_client",
    "config_audit.validate.loadcache",
    "config_audit.validate.keycache",
    "config_audit.hookrunner.launch",
    "config_audit.recognizers.regex_static",
    "config_audit.git.signature",
    "config_audit.ledger.merkle",
    "config_audit.ledger.treecache",
    "config_audit.ledger.treehead",
    "unicodedata",
    "encodings.utf_16_be",  # git's output decoded with a BOM check
)


class Runner:
    def __init__(self, fd: int, directory: str, idle_s: float) -> None:
        self.fd = fd
        self.directory = directory
        self.idle_s = idle_s
        self.fingerprint = tool_fingerprint()
        self.started = time.time()
        self.last = time.monotonic()
        self.served = 0
        self.children: set[int] = set()
        self.terminated = False
        self.listener: socket.socket | None = None
        self.lock_fd: int | None = None
        self.socket_id: tuple[int, int] | None = None

    def bind(self) -> bool:
        """The lock (one runner per directory), a dead runner's socket removed, listening."""
        # a stale predecessor may still be leaving (it looks at its flag every 0.5 s)
        bound = private.listen_private(self.fd, lock=wire.LOCK, name=wire.SOCKET, lock_wait_s=2.0)
        if isinstance(bound, str):
            (logger.info if bound.startswith("another") else logger.error)("%s", bound)
            return False
        self.lock_fd, self.socket_id = bound.lock_fd, bound.socket_id
        self.listener = cast(socket.socket, bound.listener)  # what listen_private made
        return True

    def serve(self, main: Callable[[list[str]], object]) -> None:
        assert self.listener is not None
        while not self.terminated:
            self._reap()
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                if not self.children and time.monotonic() - self.last > self.idle_s:
                    logger.info("idle for %.0fs: exiting", self.idle_s)
                    return
                continue
            except InterruptedError:
                continue
            except OSError:
                return
            with conn:
                if private.peer_uid(conn) != os.getuid():
                    logger.warning("refused a client of another user")
                    continue
                self.last = time.monotonic()
                self.served += 1
                pid = os.fork()
                if pid == 0:
                    code = 70
                    try:
                        from config_audit.hookrunner.fork import serve_one

                        code = serve_one(self, conn, main)
                    finally:
                        os._exit(code)
                self.children.add(pid)

    def _reap(self) -> None:
        for pid in list(self.children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.children.discard(pid)

    def close(self) -> None:
        """Stop taking clients (a successor may bind while our forks finish)."""
        try:
            info = os.stat(wire.SOCKET, dir_fd=self.fd, follow_symlinks=False)
            if (info.st_dev, info.st_ino) == self.socket_id:  # never a successor's
                os.unlink(wire.SOCKET, dir_fd=self.fd)
        except OSError:
            pass
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def status(self) -> dict[str, Any]:
        """Asked in a fork: its parent is the runner."""
        return {
            "pid": os.getppid(),
            "uptime_s": round(time.time() - self.started, 1),
            "requests": self.served,
            "idle_s": self.idle_s,
        }


def preload() -> int:
    """Import what hooks use; the number of modules then loaded."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a module that fails here fails the hook as well, in the fork
            logger.warning("preloading %s failed: %s: %s", name, type(exc).__name__, exc)
    return len(sys.modules)


def serve_forever(argv: list[str], main: Callable[[list[str]], object]) -> int:
    """`python -m config_audit --hook-runner DIR`; `main` runs one command line."""
    if len(argv) != 2:
        print("usage: python -m config_audit --hook-runner DIR", file=sys.stderr)
        return 2
    spec = json.loads(sys.stdin.readline() or "{}")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s hook-runner[{os.getpid()}] %(message)s"
    )
    try:
        fd = private.open_private_dir(Path(argv[1]), create=False)
    except private.UnsafeDirectory as exc:
        logger.error("refusing the directory: %s", exc)
        return 1
    runner = Runner(fd, argv[1], float(spec.get("idle_s", 900)))
    started = time.perf_counter()
    loaded = preload()
    if not runner.bind():
        return 0
    logger.info(
        "listening: %d modules imported in %.2fs, idle exit after %.0fs",
        loaded,
        time.perf_counter() - started,
        runner.idle_s,
    )

    def terminate(*_: object) -> None:
        runner.terminated = True

    signal.signal(signal.SIGTERM, terminate)
    try:
        runner.serve(main)
    finally:
        runner.close()
    logger.info("stopped after %d hooks", runner.served)
    return 0
