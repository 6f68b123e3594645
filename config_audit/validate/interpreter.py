"""Which Python and which Presidio a validation runs on, checked before any file is loaded.

This tool's own interpreter is described without a process (the default, on every hook run).
The deployment's (`presidio.python`) is asked once per process by a short probe that does not
import Presidio: a path that is missing, is not a Python, lacks Presidio, is too old for the
worker or has another release than `presidio.version` says is a settings error naming the
setting (exit 2), found before a file could be blamed for it.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from config_audit.errors import UsageError
from config_audit.settings.presidio import PresidioSettings
from config_audit.validate.versions import presidio_version

MIN_PYTHON = (3, 11)  # the worker's modules use enum.StrEnum
PROBE_TIMEOUT_S = 30.0
# Stdlib only, and no Presidio import: the version from the .dist-info beside the package.
PROBE = """
import importlib.util, json, platform, sys
from pathlib import Path
spec = importlib.util.find_spec("presidio_analyzer")
version = ""
if spec is not None and spec.origin:
    found = sorted(Path(spec.origin).parent.parent.glob("presidio_analyzer-*.dist-info"))
    if len(found) == 1:
        version = found[0].name[len("presidio_analyzer-"):-len(".dist-info")]
    else:
        from importlib import metadata
        version = metadata.version("presidio-analyzer")
print(json.dumps({"interpreter": sys.executable, "python_version": platform.python_version(),
                  "python": list(sys.version_info[:2]), "presidio_version": version}))
"""


@dataclass(frozen=True)
class Interpreter:
    """The Python a worker runs in, and the Presidio it has."""

    executable: str
    python_version: str
    presidio_version: str
    foreign: bool  # the deployment's (presidio.python), not this tool's own

    def command(self, bundle: Path) -> list[str]:
        """How to start the worker bundle. The deployment's interpreter runs with -E: our
        PYTHONPATH or PYTHONHOME must not mix this tool's environment into its own."""
        if self.foreign:
            return [self.executable, "-E", "-X", "utf8", "-W", "ignore", str(bundle)]
        return [self.executable, str(bundle)]

    def key(self) -> str:
        """What a cached verdict depends on."""
        return f"{self.executable}|{self.python_version}|{self.presidio_version}"


def resolve_interpreter(settings: PresidioSettings) -> Interpreter:
    """The interpreter `settings` name, checked; raises UsageError naming the setting."""
    if settings.python is None:
        python = ".".join(map(str, sys.version_info[:3]))  # platform's import costs a hook ~2 ms
        own = Interpreter(sys.executable, python, presidio_version(), False)
        _check_version(settings, own)
        return own
    return _probe(str(settings.python), settings.version)


@functools.lru_cache(maxsize=8)
def _probe(python: str, version: str | None) -> Interpreter:
    setting = f"presidio.python ({python})"
    if not os.path.exists(python):
        raise UsageError(
            f"{setting}: no such file",
            advice="name the deployment's interpreter, e.g. /opt/presidio/venv/bin/python "
            "(relative paths are read from the settings file's directory)",
        )
    try:
        out = subprocess.run(
            [python, "-E", "-c", PROBE],
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"{setting}: did not answer within {PROBE_TIMEOUT_S:.0f}s") from None
    except OSError as exc:
        raise UsageError(f"{setting}: cannot be run: {exc.strerror or exc}") from None
    try:
        info = json.loads(out.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
        found = Interpreter(
            str(info["interpreter"]),
            str(info["python_version"]),
            str(info["presidio_version"]),
            True,
        )
        major_minor = tuple(int(x) for x in info["python"])
    except (ValueError, KeyError, TypeError, IndexError):
        tail = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise UsageError(
            f"{setting}: not a Python interpreter (exit status {out.returncode}: {tail[0][:200]})"
        ) from None
    if major_minor < MIN_PYTHON:
        raise UsageError(
            f"{setting}: Python {found.python_version}; the validation worker needs "
            f"{'.'.join(map(str, MIN_PYTHON))} or later"
        )
    if not found.presidio_version:
        raise UsageError(
            f"{setting}: presidio-analyzer is not installed for this interpreter",
            advice="name the interpreter of the environment the deployment runs Presidio in",
        )
    _check_version(PresidioSettings(Path(python), (), version), found)
    return found


def _check_version(settings: PresidioSettings, found: Interpreter) -> None:
    if settings.version is not None and settings.version != found.presidio_version:
        raise UsageError(
            f"presidio.version: the settings say production runs presidio-analyzer "
            f"{settings.version}, but {found.executable} has "
            f"{found.presidio_version or 'no presidio-analyzer'}",
            advice="point presidio.python at production's environment, or correct presidio.version",
        )
