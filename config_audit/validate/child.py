"""One validation worker process and the pipes to it (parent side; never imports Presidio).

Requests and answers are JSON lines, each bounded by a deadline: a worker that overruns it is
killed with its whole process group by the caller (`pool.Validator`), whichever interpreter runs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import tempfile
import time
from typing import IO, TYPE_CHECKING, Any

from config_audit.errors import UsageError

if TYPE_CHECKING:
    from config_audit.validate.pool import ValidationLimits

logger = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 120.0


class Timeout(Exception):
    pass


class PresidioImportError(UsageError):
    """A module of `presidio.imports` failed to import in the worker: a settings error."""


class Died(Exception):
    pass


class Worker:
    """One child process and the pipes to it."""

    def __init__(
        self,
        limits: ValidationLimits,
        tmpdir: str,
        command: list[str],
        imports: tuple[str, ...] = (),
    ) -> None:
        env = dict(os.environ)
        env.update(
            CONFIG_AUDIT_WORKER_TMPDIR=tmpdir,
            CONFIG_AUDIT_WORKER_IMPORTS=json.dumps(list(imports)),
            CONFIG_AUDIT_WORKER_MEMORY_MB=str(limits.memory_mb),
            REGEX_TIMEOUT_SECONDS=str(int(limits.regex_timeout_s)),
            TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="",
            TLDEXTRACT_CACHE="",
            PYTHONUTF8="1",
            PYTHONWARNINGS="ignore",
        )
        # stderr goes to an anonymous file: never to the user's terminal, never a full pipe.
        self.stderr: IO[bytes] = tempfile.TemporaryFile(dir=tmpdir)  # noqa: SIM115
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            cwd=tmpdir,
            start_new_session=True,
            close_fds=True,
        )
        self._buffer = b""
        self.hello: dict[str, Any] | None = None
        self.imports_timeout_s = limits.timeout_s
        self.imported = False

    def wait_ready(self) -> None:
        """Block until the worker has imported Presidio (spawning does not wait for it), then
        the deployment's modules (bounded like a file: they are the deployment's code)."""
        if self.hello is None:
            self.hello = self._read_line(time.monotonic() + STARTUP_TIMEOUT_S)
            if not self.hello.get("ready"):
                raise Died(str(self.hello.get("message", "worker did not start")))
        if not self.imported:
            try:
                answer = self._read_line(time.monotonic() + self.imports_timeout_s)
            except Timeout:
                raise Timeout(
                    f"importing the modules of presidio.imports exceeded the time bound of "
                    f"{self.imports_timeout_s}s; the worker was stopped"
                ) from None
            if not answer.get("imported"):
                raise PresidioImportError(
                    f"presidio.imports: {answer.get('module')} failed to import in "
                    f"{self.hello.get('interpreter')}: {answer.get('message')}",
                    advice="install the module in that environment, or correct the name",
                )
            self.imported = True

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        self._write_all((json.dumps(payload, separators=(",", ":")) + "\n").encode(), deadline)
        return self._read_line(deadline)

    def _write_all(self, data: bytes, deadline: float) -> None:
        assert self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout
            _, writable, _ = select.select([], [fd], [], remaining)
            if writable:
                try:
                    written = os.write(fd, view[: 1 << 16])
                except (BrokenPipeError, OSError) as exc:
                    raise Died(str(exc)) from None
                view = view[written:]

    def _read_line(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise Died(self._death_reason())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        result: dict[str, Any] = json.loads(line)
        return result

    def _death_reason(self) -> str:
        code = self.proc.wait(timeout=5)
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - 2000))
        logger.debug(
            "validation worker stderr tail: %s", self.stderr.read().decode(errors="replace")
        )
        if code < 0:
            return f"killed by signal {signal.Signals(-code).name}"
        return f"exited with status {code}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """Polite stop: EOF on stdin, then kill if it lingers. A worker still importing
        Presidio (prestarted, never used) is killed at once: it would read EOF only later."""
        if self.hello is None:
            self.kill()
            return
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
