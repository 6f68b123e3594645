"""Verdicts by content: post-commit reuses what pre-commit proved for the same two blobs.

Keyed by path, both versions, the format overrides, the samples, the tool's version and the
Presidio that validated (interpreter, its Python and Presidio versions, `presidio.imports`); the policy is never part of a verdict (it depends on who made the change). Deny-list
entries are stored as salted hashes, as in records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from config_audit import __version__
from config_audit.durable import write_atomic
from config_audit.ledger.records import salted_hash
from config_audit.model import Change, Finding, ValidationReport
from config_audit.settings import Settings
from config_audit.validate.interpreter import resolve_interpreter

log = logging.getLogger(__name__)
CACHE_VERSION = "1"


@dataclass(frozen=True)
class Verdict:
    changes: list[Change]
    before: ValidationReport | None
    after: ValidationReport | None
    problems: list[Finding]


def sha256_hex(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


class VerdictCache:
    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory
        self.settings = settings

    def entry(self, path: str, before: bytes | None, after: bytes | None) -> Path:
        samples = self.settings.samples_path
        samples_hash = sha256_hex(samples.read_bytes()) if samples and samples.is_file() else None
        key = json.dumps(
            [
                path,
                sha256_hex(before),
                sha256_hex(after),
                self.settings.format_overrides,
                samples_hash,
                CACHE_VERSION,
                __version__,
                # whose Presidio: the interpreter, its Python and Presidio, and the imports
                resolve_interpreter(self.settings.presidio).key(),
                self.settings.presidio.imports,
            ]
        )
        return self.directory / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def get(self, path: str, before: bytes | None, after: bytes | None) -> Verdict | None:
        try:
            data = json.loads(self.entry(path, before, after).read_text(encoding="utf-8"))
            return Verdict(
                [Change.from_dict(c) for c in data["changes"]],
                ValidationReport.from_dict(data["before"]) if data["before"] else None,
                ValidationReport.from_dict(data["after"]) if data["after"] else None,
                [Finding.from_dict(f) for f in data["problems"]],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a missing or damaged entry only costs a revalidation

    def put(
        self, path: str, before: bytes | None, after: bytes | None, verdict: Verdict, *, salt: bytes
    ) -> None:
        data = {
            "changes": [_hashed_deny_list(c.to_dict(), salt) for c in verdict.changes],
            "before": verdict.before.to_dict() if verdict.before else None,
            "after": verdict.after.to_dict() if verdict.after else None,
            "problems": [f.to_dict() for f in verdict.problems],
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(
                self.entry(path, before, after),
                json.dumps(data, default=str).encode("utf-8"),
                mode=0o600,
            )
        except OSError as exc:
            log.debug("verdict cache not written: %s", exc)


def _hashed_deny_list(data: dict[str, object], salt: bytes) -> dict[str, object]:
    if str(data.get("kind", "")).startswith("deny_list.entries"):
        for key in ("before", "after"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = json.dumps([salted_hash(v, salt) for v in json.loads(value)])
    return data
