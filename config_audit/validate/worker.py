"""Child side of validation: the only module that imports Presidio.

Run as `python <bundle>` (validate/bundle.py), by this tool's interpreter or by the deployment's
(`presidio.python`), which has Presidio but not this package: so this module and what it imports
use only the standard library and Presidio's own dependencies. Speaks JSON lines: one request per stdin line,
one response per line on the original stdout. Everything else Presidio or its dependencies print
goes to stderr (fd 1 is redirected at start), so the protocol channel stays clean. Presidio is
imported once; the process then serves many files. Findings never carry input values.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import platform
import resource
import sys
import time
import warnings
from typing import IO, Any

from config_audit.model import ConfigFormat
from config_audit.validate import effective, samples

logger = logging.getLogger(__name__)


class _LogCapture(logging.Handler):
    """Collects Presidio's warnings (dropped recognizers, regex timeouts) as findings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:
            self.messages.append(str(record.msg))

    def take(self) -> list[str]:
        out, self.messages = self.messages, []
        return out


def _claim_stdout() -> IO[str]:
    """Keep the real stdout for the protocol; point fd 1 (and sys.stdout) at stderr."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


def _prepare_environment() -> None:
    # Before importing presidio/tldextract: offline Public Suffix List, no cache under $HOME.
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    os.environ["TLDEXTRACT_CACHE"] = ""
    os.environ.setdefault("REGEX_TIMEOUT_SECONDS", "2")  # Presidio reads it as int at import
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    warnings.simplefilter("ignore")


def _apply_memory_limit(memory_mb: int) -> None:
    if memory_mb <= 0:
        return
    limit = memory_mb << 20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class Session:
    """One warm worker: Presidio imported, a private directory for the temporary copies."""

    def __init__(self, tmpdir: str) -> None:
        from importlib.metadata import version

        self.tmpdir = tmpdir
        self.capture = _LogCapture()
        for name in ("presidio-analyzer", "presidio_analyzer", "tldextract"):
            log = logging.getLogger(name)
            log.handlers = [self.capture]
            log.propagate = False
            log.setLevel(logging.WARNING)
        import presidio_analyzer  # noqa: F401 - the one import this process exists for

        self.presidio_version = version("presidio-analyzer")
        self.identity = {
            "presidio_version": self.presidio_version,
            "interpreter": sys.executable,
            "python_version": platform.python_version(),
        }
        self.counter = 0

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        from config_audit.validate import loading

        fmt = ConfigFormat(request["fmt"])
        path = str(request["path"])
        data = base64.b64decode(request["data_b64"])
        self.counter += 1
        tmp = os.path.join(self.tmpdir, f"config-{os.getpid()}-{self.counter}.yaml")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self.capture.take()
            result = loading.load_file(
                tmp,
                data,
                fmt=fmt,
                path=path,
                capture=self.capture,
                probe_timeout_s=float(request.get("probe_timeout_s", 0.2)),
                sample_list=samples.samples_from_wire(request.get("samples", [])),
            )
        finally:
            os.unlink(tmp)
        return {
            "findings": [f.to_dict() for f in result.findings],
            "effective": effective.to_wire(result.effective) if result.effective else None,
            "recognizer_count": result.recognizer_count,
            "samples": [samples.result_to_wire(s) for s in result.samples],
            **self.identity,
        }


def _serve(proto: IO[str], session: Session) -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        started = time.perf_counter()
        recycle = False
        try:
            if request.get("op") == "load":
                response: dict[str, Any] = {"ok": True, "result": session.load(request)}
            elif request.get("op") == "schema":
                from config_audit.validate import presidio_schema

                response = {"ok": True, "result": presidio_schema.derive()}
            elif request.get("op") == "ping":
                response = {"ok": True, "result": session.identity}
            else:
                response = {"ok": False, "error": "unknown-op", "message": str(request.get("op"))}
        except MemoryError:
            response, recycle = {"ok": False, "error": "memory"}, True
        except Exception as exc:
            logger.exception("validation worker failed")
            response = {"ok": False, "error": "internal", "message": f"{type(exc).__name__}: {exc}"}
        response["id"] = request.get("id")
        response["elapsed_s"] = round(time.perf_counter() - started, 4)
        proto.write(json.dumps(response, separators=(",", ":")) + "\n")
        proto.flush()
        if recycle:
            return 0  # memory may be fragmented after a MemoryError: let the parent respawn us
    return 0


def main() -> int:
    proto = _claim_stdout()
    _prepare_environment()
    logging.basicConfig(level=os.environ.get("CONFIG_AUDIT_WORKER_LOG_LEVEL", "ERROR"))
    tmpdir = os.environ.get("CONFIG_AUDIT_WORKER_TMPDIR", "")
    if not tmpdir or not os.path.isdir(tmpdir):
        proto.write(
            json.dumps({"ready": False, "message": "no private temporary directory"}) + "\n"
        )
        return 2
    started = time.perf_counter()
    session = Session(tmpdir)
    _apply_memory_limit(int(os.environ.get("CONFIG_AUDIT_WORKER_MEMORY_MB", "0")))
    hello = {
        "ready": True,
        "pid": os.getpid(),
        **session.identity,
        "import_s": round(time.perf_counter() - started, 4),
    }
    proto.write(json.dumps(hello) + "\n")
    proto.flush()
    # After the hello, so the parent bounds them by the per-file time limit, not the start-up
    # one: a deployment module that hangs at import is then stopped like a hanging file.
    proto.write(json.dumps(_import_deployment_modules()) + "\n")
    proto.flush()
    return _serve(proto, session)


def _import_deployment_modules() -> dict[str, Any]:
    """`presidio.imports`: the deployment's modules, imported so that the EntityRecognizer
    subclasses they define exist when Presidio looks predefined recognizers up by class name."""
    names = json.loads(os.environ.get("CONFIG_AUDIT_WORKER_IMPORTS") or "[]")
    for name in names:
        try:
            importlib.import_module(str(name))
        except (Exception, SystemExit) as exc:  # the module's own failure, not ours
            message = f"{type(exc).__name__}: {exc}".strip()
            return {"imported": False, "module": str(name), "message": message[:500]}
    return {"imported": True, "modules": names}


def run() -> None:
    """Entry point of the bundle's `__main__`: serve, then leave without interpreter teardown."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: freeing Presidio's and spaCy's objects one by one takes ~0.3 s,
    # and the parent waits for us. Nothing is left to flush or close.
    os._exit(code)


if __name__ == "__main__":
    run()
