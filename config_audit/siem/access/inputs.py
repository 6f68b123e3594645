"""What a review reads from disk: the recognizer files' inventory, allowed signers, trust files.

The I/O edge of the review; `build_review` stays pure over what this returns."""

from __future__ import annotations

import os
from pathlib import Path

from config_audit.errors import ConfigAuditError
from config_audit.policy.directory import directory_paths
from config_audit.recognizers.globs import files_matching
from config_audit.recognizers.parse import parse_bytes
from config_audit.settings import Settings
from config_audit.siem.access.model import Inventory


def read_inventory(settings: Settings) -> Inventory:
    """Names and entities of every recognizer file (paths relative to the settings file);
    a file that does not parse is skipped here (validate reports it)."""
    files = {}
    for path in files_matching(settings.root, settings.recognizer_globs):
        rel = os.path.relpath(path, settings.root).replace(os.sep, "/")
        try:
            parsed = parse_bytes(path.read_bytes(), path=rel)
        except (ConfigAuditError, OSError):
            continue
        files[rel] = tuple((r.name, r.entities) for r in parsed.recognizers.recognizers)
    return Inventory(files)


def parse_allowed_signers(text: str) -> list[tuple[str, str]]:
    """SSH allowed_signers: `principals [options] keytype key [comment]` -> (principal, key)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        key_at = next(
            (i for i, f in enumerate(fields) if f.startswith(("ssh-", "ecdsa-", "sk-"))), None
        )
        if key_at is None or key_at + 1 >= len(fields):
            continue
        key = f"{fields[key_at]} ...{fields[key_at + 1][-12:]}"
        out += [(p.strip('"'), key) for p in fields[0].split(",") if p]
    return out


def read_allowed_signers(settings: Settings) -> list[tuple[str, str]]:
    path = settings.allowed_signers_path
    if path is None or not path.is_file():
        return []
    return parse_allowed_signers(path.read_text(encoding="utf-8", errors="replace"))


def trust_paths(settings: Settings) -> list[str]:
    """Record paths of the files that decide who may do what (besides the settings file)."""
    paths = list(directory_paths(settings.policy).values())
    for p in (settings.trusted_keys_path, settings.allowed_signers_path):
        if p is not None:
            paths.append(os.path.relpath(p, settings.root).replace(os.sep, "/"))
    return [str(Path(p).as_posix()) for p in paths]
