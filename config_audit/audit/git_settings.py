"""The settings file in git: find its change in a commit, and judge every change of a commit
by the policy that was in force before it."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from config_audit.audit.pipeline import Auditor
from config_audit.errors import ConfigAuditError
from config_audit.git import repo as gitrepo
from config_audit.git.repo import BlobReader, FileChange
from config_audit.model import ChangeEvent
from config_audit.policy.diff import policy_section
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
        if rel is None:
            data = None
        elif reader is not None:  # a range reads hundreds of parents: no process per commit
            data = reader.read_at(parent, rel)
        else:
            data = gitrepo.read_blob(parent, rel, cwd=top)
        if data is not None:
            auditor.policy = policy_of(data)
    except ConfigAuditError as exc:
        log.warning("policy of %s unusable (%s): judging with the current one", parent, exc)
    try:
        yield
    finally:
        auditor.policy = current


@lru_cache(maxsize=16)
def policy_of(settings_bytes: bytes) -> Policy:
    """The policy of a settings file's bytes; a range rarely holds more than a few versions."""
    return parse_policy(policy_section(settings_bytes))
