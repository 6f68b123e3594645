"""Worker results by content, so a version proved once is never loaded again (the hooks see
HEAD's version at every commit). Kept inside .git by the hooks: it holds nothing .git does not."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Iterator
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

    def read(self, entry: Path | None, data: bytes | None = None) -> dict[str, Any] | None:
        """The cached result, its deny lists restored from `data` (the file it is the result
        of); None (validate again) when absent, damaged or not restorable."""
        if entry is None:
            return None
        try:
            result = json.loads(entry.read_bytes())
            salt = (entry.parent / SALT).read_bytes()
        except (OSError, ValueError):
            return None  # absent or damaged: validate again
        if not isinstance(result, dict):
            return None
        known: dict[str, str] = {}
        if data is not None:
            for text in _strings(_loaded(data)):
                known[_hashed(text, salt)] = text
        try:
            return _map_deny_lists(result, lambda v: known[v])
        except (KeyError, TypeError, AttributeError):
            return None

    def write(self, entry: Path | None, result: dict[str, Any]) -> None:
        """Store `result` with deny-list entries (personal data, possibly erased from history
        since) only as salted hashes."""
        if entry is None:
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            salt = _salt(entry.parent)
            stored = _map_deny_lists(result, lambda v: _hashed(str(v), salt))
            write_atomic(entry, json.dumps(stored).encode("utf-8"), mode=0o600)
        except (OSError, TypeError, AttributeError) as exc:
            logger.debug("validation cache not written: %s", exc)


SALT = ".salt"


def _salt(directory: Path) -> bytes:
    path = directory / SALT
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    salt = os.urandom(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(salt)
    return salt


def _hashed(value: str, salt: bytes) -> str:
    digest = hmac.new(salt, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "hmac-sha256:" + digest.hexdigest()


def _map_deny_lists(result: dict[str, Any], fn: Callable[[Any], str]) -> dict[str, Any]:
    effective = result.get("effective")
    if not isinstance(effective, dict):
        return result
    recognizers = [
        {**r, "deny_list": [fn(v) for v in r["deny_list"] or []]} if "deny_list" in r else r
        for r in effective.get("recognizers") or []
    ]
    return {**result, "effective": {**effective, "recognizers": recognizers}}


def _loaded(data: bytes) -> Any:
    import yaml

    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None


def _strings(obj: Any) -> Iterator[str]:
    """Every scalar of a loaded YAML document, as text (deny-list entries among them)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None:
            yield str(item)
