"""Client of the warm validator: a `Validator` that asks the repository's warm server first.

When the server is absent (and may not be started), broken, stale, refused (a socket that is
not ours) or slow, the file is validated in-process exactly as `Validator` does, so verdicts
never depend on the server. Records are signed by the caller; the server never sees a key.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from config_audit.model import ConfigFormat
from config_audit.settings.presidio import PresidioSettings
from config_audit.validate import warm_wire as wire
from config_audit.validate.child import STARTUP_TIMEOUT_S
from config_audit.validate.pool import LoadResult, ValidationLimits, Validator
from config_audit.validate.warm_connect import alive, connect, launch, lock_free
from config_audit.validate.warm_key import server_key

logger = logging.getLogger(__name__)

ACK_TIMEOUT_S = 3.0  # the server acknowledges before it waits for its worker
LAUNCH_WAIT_S = 5.0  # a launched server binds its socket within this
ANSWER_GRACE_S = 5.0
DEFAULT_LIMITS = ValidationLimits()


class WarmValidator(Validator):
    """`Validator` whose loads go to the repository's warm server when one answers."""

    def __init__(
        self,
        *,
        directory: Path,
        settings_digest: str,
        start: bool,
        idle_s: float = wire.DEFAULT_IDLE_S,
        limits: ValidationLimits = DEFAULT_LIMITS,
        samples_path: Path | None = None,
        cache_dir: Path | None = None,
        presidio: PresidioSettings | None = None,
    ) -> None:
        super().__init__(
            limits=limits, samples_path=samples_path, cache_dir=cache_dir, presidio=presidio
        )
        self.directory = directory
        self.start = start
        self.idle_s = idle_s
        self.key = server_key(
            settings_digest=settings_digest,
            wire_samples=self._wire_samples,
            limits=repr(limits),
            presidio=self.interpreter.key(),  # the deployment's Presidio, when it is not ours
        )
        self.served_warm = 0
        self._broken = False  # after one failure this process stays in-process
        self._launched = False
        self._server_pid: int | None = None

    def prestart(self) -> None:
        """Start the server now (it imports Presidio while we read the index), or, when there
        is none to be had, our own worker, as `Validator` does."""
        if self._reachable():
            return
        if self.start and not self._launched and self._launch():
            return
        super().prestart()

    def ensure_started(self) -> bool:
        """A server answers for this directory (started and waited for if needed)."""
        try:
            sock = self._connect()
        except (wire.UnsafeDirectory, OSError) as exc:
            logger.warning("warm validator refused: %s", exc)
            return False
        if sock is None:
            return False
        sock.close()
        return True

    def load(self, data: bytes, *, path: str, fmt: ConfigFormat) -> LoadResult:
        cache = self._cache.entry(data, path=path, fmt=fmt)
        cached = self._cache.read(cache, data)
        if cached is not None:
            return self._decode(cached)
        answer = None if self._broken else self._ask_server(data, path=path, fmt=fmt)
        if answer is None:
            self._broken = True
            return super().load(data, path=path, fmt=fmt)
        self.served_warm += 1
        if answer.get("cacheable"):
            self._cache.write(cache, answer["result"])
        return self._decode(answer["result"])

    def _reachable(self) -> bool:
        try:
            sock = connect(self.directory, timeout_s=0.2)
        except (wire.UnsafeDirectory, OSError):
            return False
        if sock is None:
            return False
        sock.close()
        return True

    def spec(self) -> dict[str, Any]:
        """What the server is built from (besides the key, it holds nothing of ours)."""
        return {
            "key": self.key,
            "limits": asdict(self.limits),
            "samples": self._wire_samples,
            "idle_s": self.idle_s,
            # whose Presidio the server's worker runs (settings `presidio:`, issue 16)
            "presidio": {
                "python": str(self.presidio.python) if self.presidio.python else None,
                "imports": list(self.presidio.imports),
                "version": self.presidio.version,
            },
        }

    def _launch(self) -> bool:
        self._launched = True
        self._server_pid = launch(self.directory, self.spec())
        return self._server_pid is not None

    def _starting(self) -> bool:
        """Our server may still bind: alive, or it lost the lock to another that is starting."""
        if self._server_pid is not None and alive(self._server_pid):
            return True
        return not lock_free(self.directory)

    def _connect(self) -> socket.socket | None:
        """The server's connection; launched and waited for when allowed."""
        sock = connect(self.directory)
        if sock is not None or not self.start:
            return sock
        if not self._launched and not self._launch():
            return None
        deadline = time.monotonic() + LAUNCH_WAIT_S
        while sock is None and time.monotonic() < deadline:
            time.sleep(0.02)
            sock = connect(self.directory)
            if sock is None and not self._starting():
                logger.warning(
                    "warm validator exited at start: see %s", self.directory / "validator.log"
                )
                return connect(self.directory)
        return sock

    def _ask_server(self, data: bytes, *, path: str, fmt: ConfigFormat) -> dict[str, Any] | None:
        request = {
            "op": "load",
            "key": self.key,
            "fmt": fmt.value,
            "path": path,
            "data_b64": base64.b64encode(data).decode("ascii"),
        }
        for attempt in range(2):  # a stale server exits; its successor gets one more try
            try:
                sock = self._connect()
            except (wire.UnsafeDirectory, OSError) as exc:
                logger.warning("warm validator refused, validating in-process: %s", exc)
                return None
            if sock is None:
                return None
            with sock:
                try:
                    wire.send(sock, request)
                    reader = wire.LineReader(sock)
                    ack = reader.read(ACK_TIMEOUT_S)
                    if ack.get("stale"):
                        logger.info("warm validator was stale (attempt %d)", attempt + 1)
                        self._launched = False
                        continue
                    if not ack.get("accepted"):
                        return None
                    bound = self.limits.timeout_s * 2 + ANSWER_GRACE_S
                    answer = reader.read(bound if ack.get("warm") else bound + STARTUP_TIMEOUT_S)
                except (OSError, EOFError, TimeoutError, ValueError) as exc:
                    logger.info("warm validator failed (%s): validating in-process", exc)
                    return None
            return answer if answer.get("ok") and isinstance(answer.get("result"), dict) else None
        return None
