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
    import hashlib  # here, not at the top: the client imports this module for `identity`

    root = os.path.dirname(config_audit.__file__)
    code = hashlib.sha256()  # every file's name, size and time: any edit, checkout or touch
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                info = os.stat(os.path.join(folder, name))
                code.update(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}\0".encode())
    paths = []  # an install or removal adds or removes a *.dist-info entry there
    for entry in sys.path:
        if os.path.basename(entry) not in ("site-packages", "dist-packages"):
            continue  # the runner's own directory (`-m`) or a checkout: their mtimes move
        try:
            paths.append(f"{entry}={os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return "\0".join([config_audit.__version__, code.hexdigest(), identity(), *paths])
