"""Worker results by content, so a version proved once is never loaded again (the hooks see
HEAD's version at every commit). Kept inside .git by the hooks: it holds nothing .git does not."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from config_audit import __version__
from config_audit.durable import write_atomic
from config_audit.model import ConfigFormat
from config_audit.validate.versions import presidio_version

logger = logging.getLogger(__name__)


class LoadCache:
    def __init__(self, directory: Path | None, *, context: tuple[str, ...]) -> None:
        self.directory = directory
        self.context = context  # samples and limits: a result is only valid under the same

    def entry(self, data: bytes, *, path: str, fmt: ConfigFormat) -> Path | None:
        if self.directory is None:
            return None
        key = hashlib.sha256()
        for part in (path, fmt.value, presidio_version(), __version__, *self.context):
            key.update(part.encode("utf-8", "surrogateescape") + b"\0")  # non-UTF-8 names
        key.update(data)
        return self.directory / f"load-{key.hexdigest()}.json"

    def read(self, entry: Path | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        try:
            result = json.loads(entry.read_bytes())
        except (OSError, ValueError):
            return None  # absent or damaged: validate again
        return result if isinstance(result, dict) else None

    def write(self, entry: Path | None, result: dict[str, Any]) -> None:
        if entry is None:
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(entry, json.dumps(result).encode("utf-8"), mode=0o600)
        except OSError as exc:
            logger.debug("validation cache not written: %s", exc)
