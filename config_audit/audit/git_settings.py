"""The settings file in git: find its change in a commit, and judge every change of a commit
by the policy that was in force before it."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath

from config_audit.audit.pipeline import Auditor
from config_audit.errors import ConfigAuditError
from config_audit.git import repo as gitrepo
from config_audit.git.repo import BlobReader, FileChange
from config_audit.model import ChangeEvent
from config_audit.policy.diff import policy_section
from config_audit.policy.directory import directory_paths
from config_audit.policy.rules import Policy, parse_policy

log = logging.getLogger(__name__)


def settings_change(
    auditor: Auditor, changes: Sequence[FileChange], top: Path
) -> FileChange | None:
    """The change to `.config-audit.yaml` among `changes`, if any."""
    config = auditor.settings.config_path
    if config is None:
        return None
    rel = gitrepo.repo_relative(config, top)
    if rel is None:
        return None
    return next((c for c in changes if rel in (c.old_path, c.new_path)), None)


def settings_event(
    change: FileChange,
    reader: BlobReader,
    source: str,
    top: Path,
    commit: str | None,
    author: dict[str, object],
) -> ChangeEvent:
    return ChangeEvent(
        path=change.path,
        before=reader.read(change.old_blob),
        after=reader.read(change.new_blob),
        source=source,
        repository=str(top),
        commit=commit,
        author=author,
        extra={"settings_file": True},
    )


@contextmanager
def policy_in_force(
    auditor: Auditor, parent: str | None, top: Path, reader: BlobReader | None = None
) -> Iterator[None]:
    """Judge a change under the policy of its parent commit, not the one it brings: otherwise a
    commit could make its author an owner and weaken a protected recognizer in one go."""
    settings = auditor.settings
    current = auditor.policy
    if parent is None or settings.config_path is None:
        yield
        return
    try:
        rel = gitrepo.repo_relative(settings.config_path, top)
        data = None if rel is None else _read_at(parent, rel, top, reader)
        if data is not None and rel is not None:
            auditor.policy = policy_of(data, _directory_at(data, parent, rel, top, reader))
    except ConfigAuditError as exc:
        log.warning("policy of %s unusable (%s): judging with the current one", parent, exc)
    try:
        yield
    finally:
        auditor.policy = current


def _read_at(parent: str, rel: str, top: Path, reader: BlobReader | None) -> bytes | None:
    if reader is not None:  # a range reads hundreds of parents: no process per commit
        return reader.read_at(parent, rel)
    return gitrepo.read_blob(parent, rel, cwd=top)


def _directory_at(
    data: bytes, parent: str, rel: str, top: Path, reader: BlobReader | None
) -> tuple[tuple[str, bytes | None], ...] | None:
    """The `policy.directory` files (SCIM export, CODEOWNERS) as they were in `parent`."""
    paths = directory_paths(policy_section(data)).values()
    if not paths:
        return None
    base = PurePosixPath(rel).parent
    return tuple((p, _read_at(parent, str(base / p), top, reader)) for p in sorted(paths))


@lru_cache(maxsize=16)
def policy_of(
    settings_bytes: bytes, directory: tuple[tuple[str, bytes | None], ...] | None = None
) -> Policy:
    """The policy of a settings file's bytes (and its directory files' bytes, by path); a range
    rarely holds more than a few versions."""
    files = dict(directory or ())
    return parse_policy(
        policy_section(settings_bytes), read=files.get if directory is not None else None
    )
