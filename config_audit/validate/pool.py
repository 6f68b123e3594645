"""Parent side of validation: one warm worker process, bounded in time and memory.

The worker (`python <bundle>`, validate/bundle.py; run by this tool's interpreter or by the
deployment's, `presidio.python`) imports Presidio once and then serves
many files over JSON lines on its stdin/stdout. A request that exceeds the time bound gets the
worker killed (its whole process group) and replaced on the next request; a MemoryError or a
dead worker becomes a finding and a fresh worker. This module never imports Presidio.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config_audit.model import ConfigFormat, Finding, RecognizerSet, SampleResult, Severity
from config_audit.recognizers.presidio_keys import KeySchema
from config_audit.settings.presidio import PresidioSettings
from config_audit.validate import effective, samples
from config_audit.validate.bundle import worker_bundle
from config_audit.validate.child import Died, PresidioImportError, Timeout, Worker
from config_audit.validate.interpreter import Interpreter, resolve_interpreter
from config_audit.validate.keycache import KeyCache
from config_audit.validate.loadcache import LoadCache

logger = logging.getLogger(__name__)

CODE_TIMEOUT = "CA210"
CODE_MEMORY = "CA211"
CODE_WORKER_DIED = "CA212"
CODE_INTERNAL = "CA213"


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
    interpreter: str = ""  # the worker's sys.executable: whose Presidio said so
    python_version: str = ""

    @property
    def valid(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


def _finding(code: str, message: str, path: str, hint: str = "") -> Finding:
    return Finding(code=code, severity=Severity.ERROR, message=message, path=path, hint=hint)


# A worker started before the settings are known (CI starts one first thing: Presidio's ~1 s
# import then overlaps reading the settings too). Adopted by the first validator that would
# start the very same worker; stopped otherwise, so verdicts never come from another worker.
_EARLY: list[Validator] = []


def start_early() -> None:
    """Start a worker with the default interpreter and bounds now (see `_EARLY`)."""
    if not _EARLY:
        early = Validator()
        early.prestart()
        _EARLY.append(early)


def stop_early() -> None:
    """Stop an early worker nobody adopted (before an exit that skips finalizers)."""
    while _EARLY:
        _EARLY.pop().close()


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
        presidio: PresidioSettings | None = None,
        sample_list: tuple[samples.Sample, ...] | None = None,
    ) -> None:
        self.limits = limits
        self.presidio = presidio = presidio or PresidioSettings()
        self.interpreter: Interpreter = resolve_interpreter(presidio)  # UsageError: exit 2
        # Results by content: the hooks validate HEAD's version again at every commit, and it
        # was proved at the previous one. Keep it inside .git (it holds nothing .git does not).
        self.cache_dir = cache_dir
        # `sample_list`: samples already read (the warm server gets them from its client).
        self.samples = samples.load_samples(samples_path) if samples_path else ()
        if sample_list is not None:
            self.samples = sample_list
        self._wire_samples = samples.samples_to_wire(self.samples)
        self._cache = LoadCache(
            cache_dir,
            context=(
                json.dumps(self._wire_samples, sort_keys=True),
                repr(limits),
                self.interpreter.key(),
                ",".join(presidio.imports),
            ),
        )
        self._keys = KeyCache(
            cache_dir,
            interpreter=f"{self.interpreter.key()}|{','.join(presidio.imports)}",
            imports=bool(presidio.imports),
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

    def _worker(self) -> Worker:
        worker: Worker | None = self._state.get("worker")
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

    def _spawn(self) -> Worker:
        if self._adopt_early():
            worker: Worker = self._state["worker"]
            return worker
        if "tmpdir" not in self._state:
            self._state["tmpdir"] = tempfile.mkdtemp(prefix="config-audit-validate-")  # 0700
        tmpdir = self._state["tmpdir"]
        bundle = worker_bundle(fallback=Path(tmpdir))
        command = self.interpreter.command(bundle)
        worker = Worker(self.limits, tmpdir, command, self.presidio.imports)
        self.workers_started += 1
        logger.debug("validation worker %s started (it imports Presidio)", worker.pid)
        self._state["worker"] = worker
        return worker

    def _adopt_early(self) -> bool:
        """Take the worker `start_early` started, when it is the one we would start (same
        interpreter, imports and bounds the worker applies itself); else stop it."""
        if not _EARLY or "worker" in self._state:
            return False
        early = _EARLY.pop()
        worker = early._state.get("worker")
        same = (
            early.interpreter.key() == self.interpreter.key()
            and early.presidio.imports == self.presidio.imports
            and early.limits.memory_mb == self.limits.memory_mb
            and early.limits.regex_timeout_s == self.limits.regex_timeout_s
        )
        if not same or worker is None or worker.proc.poll() is not None:
            early.close()
            return False
        with early._lock:
            self._state["worker"] = early._state.pop("worker")
            self._state["tmpdir"] = early._state.pop("tmpdir")
        worker.imports_timeout_s = self.limits.timeout_s
        self.workers_started += 1
        logger.debug(
            "validation worker %s adopted (started before the settings were read)", worker.pid
        )
        return True

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
            except PresidioImportError:
                self._discard_worker()
                raise
            except Timeout as exc:
                self._discard_worker()
                return self._failed(
                    _finding(
                        CODE_TIMEOUT,
                        str(exc)
                        or f"validation exceeded the time bound of {self.limits.timeout_s}s; "
                        "the worker was stopped",
                        path,
                        "look for catastrophic regexes or huge alias expansions in the file",
                    )
                )
            except Died as exc:
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
                self._derive_keys()
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

    def key_schema(self, *, derive: bool = False) -> KeySchema | None:
        """Which keys the worker's Presidio reads where (validate/keycache). Never starts a
        worker unless `derive` (ask it now): None until one has run (lint uses the snapshot)."""
        if derive:
            with self._lock:
                self._derive_keys(force=True)
        return self._keys.known()

    def _derive_keys(self, *, force: bool = False) -> None:
        """Once per Presidio version, on the warm worker (~70 ms); the lock is held."""

        def ask() -> dict[str, Any]:
            self._next_id += 1
            return self._worker().request({"id": self._next_id, "op": "schema"}, 60.0)

        try:
            self._keys.ensure(lambda: self._worker().hello or {}, ask, force=force)
        except (Timeout, Died) as exc:
            self._discard_worker()
            logger.warning("Presidio's keys could not be derived (%s): using the snapshot", exc)

    def _failed(self, finding: Finding) -> LoadResult:
        me = self.interpreter
        return LoadResult(
            (finding,), None, 0, (), me.presidio_version, me.executable, me.python_version
        )

    def _decode(self, result: dict[str, Any]) -> LoadResult:
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
            interpreter=str(result.get("interpreter") or self.interpreter.executable),
            python_version=str(result.get("python_version") or self.interpreter.python_version),
        )

    def close(self) -> None:
        """Stop the worker and remove the private temporary directory."""
        with self._lock:
            worker = self._state.pop("worker", None)
            if worker is not None:
                worker.close()
            self._finalizer()
