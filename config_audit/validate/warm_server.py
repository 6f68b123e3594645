"""The warm validator: one per repository, a `Validator` kept warm behind a Unix socket.

Run as `python -m config_audit.validate.warm_server DIR` with its spec (key, limits, samples,
idle time) as one JSON line on stdin; it detaches (forks, new session) once the spec is read.
It only validates: it never sees a signing key (the client scrubs them from its environment
and signs records itself). Requests carry file content; the log (stderr) never does.
Exits when idle, when asked, or when a client's key differs from its own ("stale").
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

from config_audit.settings.presidio import PresidioSettings

logger = logging.getLogger("config_audit.warm")
WARM_UP = b"""recognizers:
  - name: WarmUp
    supported_entity: WARM_UP
    patterns: [{name: warm, regex: "warm-up", score: 0.5}]
"""


class WarmServer:
    def __init__(self, fd: int, spec: dict[str, Any]) -> None:
        from config_audit.validate import samples
        from config_audit.validate.pool import ValidationLimits, Validator

        self.fd = fd
        self.key = str(spec["key"])
        self.idle_s = float(spec.get("idle_s", 900))
        limits = ValidationLimits(**spec["limits"])
        self.validator = Validator(
            limits=limits,
            sample_list=samples.samples_from_wire(spec.get("samples", [])),
            presidio=_presidio(spec.get("presidio") or {}),
        )
        self.started = time.time()
        self.served = 0
        self.active = 0
        self.last = time.monotonic()
        self.stopping = threading.Event()
        self.terminated = threading.Event()  # SIGTERM: the loop stops, then shuts down
        self.state = threading.Lock()
        self._lock_fd: int | None = None
        self._socket_id: tuple[int, int] | None = None
        self.listener: socket.socket | None = None

    def bind(self) -> bool:
        """Take the lock (one server per directory), clear a dead server's socket, listen."""
        from config_audit.private import listen_private
        from config_audit.validate import warm_wire as wire

        # a client may hold the lock shared for an instant (lock_free)
        bound = listen_private(self.fd, lock=wire.LOCK, name=wire.SOCKET, lock_wait_s=0.2)
        if isinstance(bound, str):
            (logger.info if bound.startswith("another") else logger.error)("%s", bound)
            return False
        self._lock_fd, self._socket_id = bound.lock_fd, bound.socket_id
        self.listener = cast(socket.socket, bound.listener)  # what listen_private made
        return True

    def serve(self) -> None:
        from config_audit.validate import warm_requests

        assert self.listener is not None
        # Load one small file at once: the worker imports Presidio and our loaders before the
        # first client needs them, and `status` can tell "warm" from "starting".
        warm_up = threading.Thread(target=self._warm_up, name="warm-up", daemon=True)
        warm_up.start()
        threads: list[threading.Thread] = [warm_up]
        while not self.stopping.is_set() and not self.terminated.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                with self.state:
                    idle = self.active == 0 and time.monotonic() - self.last > self.idle_s
                if idle:
                    logger.info("idle for %.0fs: exiting", self.idle_s)
                    self.shut_down()
                continue
            except OSError:
                break  # the listener was closed by shut_down
            thread = threading.Thread(target=warm_requests.handle, args=(self, conn), daemon=True)
            thread.start()
            threads = [t for t in threads if t.is_alive()] + [thread]
        for thread in threads:
            thread.join(timeout=5)
        self.validator.close()

    def _warm_up(self) -> None:
        from config_audit.model import ConfigFormat

        started = time.perf_counter()
        self.validator.load(WARM_UP, path="warm-up.yaml", fmt=ConfigFormat.ADHOC)
        logger.info("worker warm in %.2fs", time.perf_counter() - started)

    def shut_down(self) -> None:
        """Stop taking clients at once (a successor may bind while we finish)."""
        with self.state:
            if self.stopping.is_set():
                return
            self.stopping.set()
        from config_audit.validate import warm_wire as wire

        with contextlib.suppress(OSError):
            info = os.stat(wire.SOCKET, dir_fd=self.fd, follow_symlinks=False)
            if (info.st_dev, info.st_ino) == self._socket_id:  # never a successor's
                os.unlink(wire.SOCKET, dir_fd=self.fd)
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _presidio(spec: dict[str, Any]) -> PresidioSettings:
    """The client's `presidio:` settings (already checked there): the same interpreter."""
    python = spec.get("python")
    return PresidioSettings(
        python=Path(python) if python else None,
        imports=tuple(spec.get("imports") or ()),
        version=spec.get("version"),
    )


def _detach() -> None:
    """Leave the client: fork (the client waits for our first half only, which tells it the
    server's pid on stdout), new session, stdout to the log (stderr)."""
    child = os.fork()
    if child > 0:
        os.write(1, f"{child}\n".encode())
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m config_audit.validate.warm_server DIR", file=sys.stderr)
        return 2
    spec = json.loads(sys.stdin.readline())  # before detaching: the client writes, then waits
    _detach()
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s warm-validator[{os.getpid()}] %(message)s"
    )
    from pathlib import Path

    from config_audit.validate import warm_wire as wire

    try:
        fd = wire.open_private_dir(Path(argv[1]), create=False)
    except wire.UnsafeDirectory as exc:
        logger.error("refusing the directory: %s", exc)
        return 1
    server = WarmServer(fd, spec)
    if not server.bind():
        return 0
    logger.info("listening (key %s..., idle exit after %.0fs)", server.key[:12], server.idle_s)
    # Only a flag here: the handler may interrupt the main thread while it holds a lock.
    signal.signal(signal.SIGTERM, lambda *_: server.terminated.set())
    try:
        server.serve()
    finally:
        server.shut_down()
    logger.info("stopped after %d requests", server.served)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    logging.shutdown()
    os._exit(code)  # skip teardown: the worker is gone, nothing is left to flush
