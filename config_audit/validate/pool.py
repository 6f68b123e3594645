"""Parent side of validation: one warm worker process, bounded in time and memory.

The worker (`python -m config_audit.validate.worker`) imports Presidio once and then serves
many files over JSON lines on its stdin/stdout. A request that exceeds the time bound gets the
worker killed (its whole process group) and replaced on the next request; a MemoryError or a
dead worker becomes a finding and a fresh worker. This module never imports Presidio.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from config_audit.model import ConfigFormat, Finding, RecognizerSet, SampleResult, Severity
from config_audit.validate import effective, samples
from config_audit.validate.loadcache import LoadCache
from config_audit.validate.versions import presidio_version

logger = logging.getLogger(__name__)

CODE_TIMEOUT = "CA210"
CODE_MEMORY = "CA211"
CODE_WORKER_DIED = "CA212"
CODE_INTERNAL = "CA213"
STARTUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ValidationLimits:
    timeout_s: float = 20.0  # per file, from request to answer (worker start-up not included)
    memory_mb: int = 1024  # RLIMIT_AS of the worker; Presidio + spaCy imports take ~270 MB of it
    probe_timeout_s: float = 0.2  # per adversarial input in the regex probe
    regex_timeout_s: int = 2  # Presidio's REGEX_TIMEOUT_SECONDS inside the worker (int only)


@dataclass(frozen=True)
class LoadResult:
    findings: tuple[Finding, ...]
    effective: RecognizerSet | None
    recognizer_count: int
    samples: tuple[SampleResult, ...]
    presidio_version: str

    @property
    def valid(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


def _finding(code: str, message: str, path: str, hint: str = "") -> Finding:
    return Finding(code=code, severity=Severity.ERROR, message=message, path=path, hint=hint)


class _Worker:
    """One child process and the pipes to it."""

    def __init__(self, limits: ValidationLimits, tmpdir: str) -> None:
        env = dict(os.environ)
        env.update(
            CONFIG_AUDIT_WORKER_TMPDIR=tmpdir,
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
            [sys.executable, "-m", "config_audit.validate.worker"],
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

    def wait_ready(self) -> None:
        """Block until the worker has imported Presidio (spawning does not wait for it)."""
        if self.hello is None:
            self.hello = self._read_line(time.monotonic() + STARTUP_TIMEOUT_S)
            if not self.hello.get("ready"):
                raise _Died(str(self.hello.get("message", "worker did not start")))

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
                raise _Timeout
            _, writable, _ = select.select([], [fd], [], remaining)
            if writable:
                try:
                    written = os.write(fd, view[: 1 << 16])
                except (BrokenPipeError, OSError) as exc:
                    raise _Died(str(exc)) from None
                view = view[written:]

    def _read_line(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise _Died(self._death_reason())
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


def _cleanup(state: dict[str, Any]) -> None:
    worker = state.pop("worker", None)
    if worker is not None:
        worker.kill()
    tmpdir = state.pop("tmpdir", None)
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


class Validator:
    """Validates files by loading them into Presidio in a warm, bounded worker process.

    A context manager; the worker starts on first use and serves every later `load`.
    """

    def __init__(
        self,
        *,
        limits: ValidationLimits = ValidationLimits(),
        samples_path: Path | None = None,
        cache_dir: Path | None = None,
        sample_list: tuple[samples.Sample, ...] | None = None,
    ) -> None:
        self.limits = limits
        # Results by content: the hooks validate HEAD's version again at every commit, and it
        # was proved at the previous one. Keep it inside .git (it holds nothing .git does not).
        self.cache_dir = cache_dir
        # `sample_list`: samples already read (the warm server gets them from its client).
        self.samples = samples.load_samples(samples_path) if samples_path else ()
        if sample_list is not None:
            self.samples = sample_list
        self._wire_samples = samples.samples_to_wire(self.samples)
        self._cache = LoadCache(
            cache_dir, context=(json.dumps(self._wire_samples, sort_keys=True), repr(limits))
        )
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._next_id = 0
        self.workers_started = 0
        self._finalizer = weakref.finalize(self, _cleanup, self._state)

    def __enter__(self) -> Validator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        worker = self._state.get("worker")
        return worker.pid if worker is not None else None

    @property
    def worker_ready(self) -> bool:
        """A worker has imported Presidio and answered (the warm server tells clients)."""
        worker = self._state.get("worker")
        return worker is not None and worker.hello is not None and worker.proc.poll() is None

    def prestart(self) -> None:
        """Spawn the worker now without waiting, so Presidio's import overlaps the caller's own
        work (CI reads the git history meanwhile)."""
        with self._lock:
            if self._state.get("worker") is None:
                self._spawn()

    def _worker(self) -> _Worker:
        worker: _Worker | None = self._state.get("worker")
        if worker is not None and worker.proc.poll() is None:
            worker.wait_ready()
            return worker
        if worker is not None:
            worker.kill()  # died while idle: replace it silently, no file was at fault
        started = time.perf_counter()
        worker = self._spawn()
        worker.wait_ready()
        logger.debug(
            "validation worker %s ready in %.2fs", worker.pid, time.perf_counter() - started
        )
        return worker

    def _spawn(self) -> _Worker:
        if "tmpdir" not in self._state:
            self._state["tmpdir"] = tempfile.mkdtemp(prefix="config-audit-validate-")  # 0700
        worker = _Worker(self.limits, self._state["tmpdir"])
        self.workers_started += 1
        logger.debug("validation worker %s started (it imports Presidio)", worker.pid)
        self._state["worker"] = worker
        return worker

    def _discard_worker(self) -> None:
        worker = self._state.pop("worker", None)
        if worker is not None:
            worker.kill()
        # A killed worker cannot delete the copy it was loading: do it for it.
        for leftover in Path(self._state.get("tmpdir", "/nonexistent")).glob("config-*.yaml"):
            leftover.unlink(missing_ok=True)

    def load(self, data: bytes, *, path: str, fmt: ConfigFormat) -> LoadResult:
        """Load `data` (a file's bytes) with the Presidio loader for `fmt`; findings, never raises
        for anything the file does."""
        cache = self._cache.entry(data, path=path, fmt=fmt)
        cached = self._cache.read(cache, data)
        if cached is not None:
            return self._decode(cached)
        with self._lock:
            self._next_id += 1
            payload = {
                "id": self._next_id,
                "op": "load",
                "fmt": fmt.value,
                "path": path,
                "data_b64": base64.b64encode(data).decode("ascii"),
                "probe_timeout_s": self.limits.probe_timeout_s,
                "samples": self._wire_samples,
            }
            try:
                response = self._worker().request(payload, self.limits.timeout_s)
            except _Timeout:
                self._discard_worker()
                return self._failed(
                    _finding(
                        CODE_TIMEOUT,
                        f"validation exceeded the time bound of {self.limits.timeout_s}s; "
                        "the worker was stopped",
                        path,
                        "look for catastrophic regexes or huge alias expansions in the file",
                    )
                )
            except _Died as exc:
                self._discard_worker()
                return self._failed(
                    _finding(
                        CODE_WORKER_DIED,
                        f"the validation worker died while loading this file ({exc})",
                        path,
                        "the file may exhaust memory or crash Presidio; check it by hand",
                    )
                )
            if response.get("ok"):
                self._cache.write(cache, response["result"])
                return self._decode(response["result"])
            if response.get("error") == "memory":
                self._discard_worker()
                return self._failed(
                    _finding(
                        CODE_MEMORY,
                        f"validation exceeded the memory bound of {self.limits.memory_mb} MB",
                        path,
                        "look for deeply nested quantified groups ((?:(?:a+)+)+: the regex "
                        "engine compiles them in exponential memory), huge repetition counts "
                        "or alias expansions",
                    )
                )
            return self._failed(
                _finding(
                    CODE_INTERNAL,
                    f"internal validation error: {response.get('message', '?')}",
                    path,
                )
            )

    def _failed(self, finding: Finding) -> LoadResult:
        return LoadResult((finding,), None, 0, (), presidio_version())

    @staticmethod
    def _decode(result: dict[str, Any]) -> LoadResult:
        findings = tuple(
            Finding(
                code=f["code"],
                severity=Severity(f["severity"]),
                message=f["message"],
                path=f["path"],
                line=f.get("line"),
                recognizer=f.get("recognizer"),
                hint=f.get("hint", ""),
            )
            for f in result["findings"]
        )
        eff = result.get("effective")
        return LoadResult(
            findings=findings,
            effective=effective.from_wire(eff) if eff else None,
            recognizer_count=int(result["recognizer_count"]),
            samples=tuple(samples.result_from_wire(s) for s in result["samples"]),
            presidio_version=str(result["presidio_version"]),
        )

    def close(self) -> None:
        """Stop the worker and remove the private temporary directory."""
        with self._lock:
            worker = self._state.pop("worker", None)
            if worker is not None:
                worker.close()
            self._finalizer()
