"""The warm server's key: everything its verdicts depend on. A client whose key differs gets
"stale" and the server exits, so a server never answers with another version's verdicts."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from config_audit import __version__


def _tool_fingerprint() -> str:
    """The tool's version, and when its validation code last changed (an editable install
    changes without a new version)."""
    here = Path(__file__).parent
    newest = max((p.stat().st_mtime_ns for p in here.glob("*.py")), default=0)
    return f"{__version__}:{newest}"


def server_key(
    *, settings_digest: str, wire_samples: list[dict[str, Any]], limits: str, presidio: str
) -> str:
    """What the server's verdicts depend on: tool, Presidio, interpreter, settings, samples,
    bounds. A client whose key differs gets "stale" and the server exits."""
    digest = hashlib.sha256()
    parts = (
        _tool_fingerprint(),
        presidio,
        # python and python3 of one venv are one interpreter; two venvs are not.
        f"{sys.prefix}:{os.path.realpath(sys.executable)}",
        settings_digest,
        json.dumps(wire_samples, sort_keys=True),
        limits,
    )
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()
