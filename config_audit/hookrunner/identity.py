"""Who a hook runner is: the interpreter and environment it runs in, and the code it imported.
A client of another venv, or a runner whose code changed since it started, must not answer."""

from __future__ import annotations

import os
import sys

import config_audit


def identity() -> str:
    """Which interpreter and environment: a runner of another venv must not answer us."""
    return f"{sys.prefix}\0{sys.executable}"


def tool_fingerprint() -> str:
    """The tool's version, when its code last changed (an editable install changes without a
    new version), when a dependency was installed or removed, and which interpreter runs it."""
    root = os.path.dirname(config_audit.__file__)
    newest = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    paths = []
    for entry in sys.path[1:]:  # [0] is the runner's own directory (`-m`), changed by its socket
        try:
            paths.append(f"{entry}={os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return "\0".join([config_audit.__version__, str(newest), identity(), *paths])
