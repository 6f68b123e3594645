"""The settings file in git: the settings in force come from the audited past (the parent
commit for hooks, the base for CI), every change to trust material in a commit is an event of
its own, and every change of a commit is judged by the policy that was in force before it."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import yaml

from config_audit.errors import ConfigAuditError, UsageError
from config_audit.git import repo as gitrepo
from config_audit.git.repo import BlobReader, FileChange
from config_audit.model import ChangeEvent, Evidence
from config_audit.policy.diff import policy_section
from config_audit.policy.directory import directory_paths
from config_audit.policy.rules import Policy, parse_policy
from config_audit.settings import CONFIG_NAME, Settings, parse_settings

if TYPE_CHECKING:  # the pipeline is imported after CI's worker started importing Presidio
    from config_audit.audit.pipeline import Auditor

log = logging.getLogger(__name__)
REGULAR = ("100644", "100755")
OPERATIONAL = ("log_path", "signing_key_path", "retention", "watch")


def settings_in_force(
    named: Path | None, current: Callable[[], Settings], *, top: Path, rev: str | None
) -> Settings:
    """The settings as of `rev` (what was audited), never the change under audit's: a commit
    that moves, replaces or deletes `.config-audit.yaml` is judged by the file it had. The
    file at `named` (or at the top, or the only one `rev` tracks); `current()` when `rev` has
    none (adoption) or the file named lives outside the repository (the operator's)."""
    if rev is None or not gitrepo.rev_exists(rev, cwd=top):
        return current()
    rel = gitrepo.repo_relative(named, top) if named is not None else None
    if named is not None and rel is None:
        return current()
    mode = gitrepo.entry_mode(rev, rel or CONFIG_NAME, cwd=top)  # the usual case: one lookup
    if mode is not None:
        rel = rel or CONFIG_NAME
        found = {rel: mode}
    else:
        found = gitrepo.tree_entries(rev, CONFIG_NAME, cwd=top)
    if rel is None or rel not in found:
        if CONFIG_NAME in found:
            rel = CONFIG_NAME
        elif len(found) == 1:
            rel = next(iter(found))
        elif found:
            here = current().config_path
            rel = gitrepo.repo_relative(here, top) if here is not None else None
            if rel not in found:
                raise UsageError(
                    f"{len(found)} settings files at {rev[:12]} and none at the top: "
                    "which one governs?",
                    advice="name it with --config",
                )
        else:
            return current()
    assert rel is not None
    if found[rel] not in REGULAR:  # a symlink's text is no settings file: fail closed
        raise UsageError(f"{rev[:12]}:{rel} is not a regular file (mode {found[rel]})")
    data = gitrepo.read_blob(rev, rel, cwd=top) or b""
    try:
        raw = yaml.safe_load(data.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{rev[:12]}:{rel}: cannot read configuration: {exc}") from None
    path = top / rel
    trusted = parse_settings(raw, root=path.parent, config_path=path)
    try:
        work = current()
    except UsageError:
        return trusted  # the work tree's file is gone or broken: the past's governs alone
    if work.config_path is None or gitrepo.repo_relative(work.config_path, top) != rel:
        return trusted
    # Where this run writes and with which key is the operator's (the work tree's file);
    # everything that decides a verdict is the past's.
    return replace(trusted, **{k: getattr(work, k) for k in OPERATIONAL})


@contextmanager
def file_at(rev: str | None, path: Path | None, top: Path) -> Iterator[Path | None]:
    """A trust file (allowed signers) as of `rev`, in a private temporary file: what the
    change under audit brings cannot vouch for it. The path itself when it is outside the
    repository or there is no `rev`; an empty file when `rev` does not have it."""
    rel = gitrepo.repo_relative(path, top) if path is not None else None
    if rev is None or rel is None or not gitrepo.rev_exists(rev, cwd=top):
        yield path
        return
    data = gitrepo.read_blob(rev, rel, cwd=top) or b""
    with tempfile.TemporaryDirectory(prefix="config-audit-") as tmp:
        copy = Path(tmp) / os.path.basename(rel)
        copy.write_bytes(data)
        yield copy


def trust_paths(auditor: Auditor, top: Path) -> dict[str, str]:
    """Repository-relative trust files of the settings in force: kind by path. The identity
    directory's sources (SCIM export, CODEOWNERS) are trust files too: who acts as whom."""
    from config_audit.policy.directory import directory_paths

    settings = auditor.settings
    out = {}
    files: list[tuple[str, Path | None]] = [
        ("trusted_keys", settings.trusted_keys_path),
        ("allowed_signers", settings.allowed_signers_path),
        # an interpreter kept in the repository decides validity: editing it is a trust change
        ("presidio.python", settings.presidio.python),
    ]
    try:
        sources = directory_paths(settings.policy)
    except ConfigAuditError:
        sources = {}  # a broken directory section is the policy's own finding
    files += [(f"directory.{kind}", settings.root / path) for kind, path in sources.items()]
    for kind, path in files:
        rel = gitrepo.repo_relative(path, top) if path is not None else None
        if rel is not None:
            out[rel] = kind
    return out


def settings_changes(
    auditor: Auditor, changes: Sequence[FileChange], top: Path
) -> list[FileChange]:
    """The changes to trust material among `changes`: the settings file in force (whatever
    happens to it), any other file named `.config-audit.yaml`, the trust files."""
    view = TrustView(auditor, top)
    return [c for c in changes if c in view]


class TrustView:
    """The trust material of the settings in force, as repository paths: build it once and ask
    it for every change of a range (a 20,000-commit range asks 22,000 times)."""

    def __init__(self, auditor: Auditor, top: Path) -> None:
        config = auditor.settings.config_path
        self.rel = gitrepo.repo_relative(config, top) if config is not None else None
        self.trust = trust_paths(auditor, top).keys()

    def __contains__(self, c: object) -> bool:
        assert isinstance(c, FileChange)
        paths = {c.old_path, c.new_path} - {None}
        # A settings file appearing anywhere (added, moved or copied there) is a second truth.
        named = c.status in "ARC" and (c.new_path or "").rsplit("/", 1)[-1] == CONFIG_NAME
        attributes = any(str(p).rsplit("/", 1)[-1] == ATTRIBUTES for p in paths)
        return (
            (self.rel is not None and self.rel in paths)
            or named
            or attributes
            or bool(paths & self.trust)
        )


ATTRIBUTES = ".gitattributes"


def attribute_lines(
    change: FileChange, before: bytes | None, after: bytes | None, auditor: Auditor, top: Path
) -> list[str]:
    """The `.gitattributes` lines added or removed whose pattern can match a recognizer file
    (compared by what the patterns match, generously: `*` may cross directories)."""
    from config_audit.policy.globs import overlaps

    base = change.path.rpartition("/")[0]
    settings = auditor.settings
    prefix = gitrepo.repo_relative(settings.root, top) or "."
    globs = [
        (g if prefix == "." else f"{prefix}/{g}").replace("**/", "*").replace("**", "*")
        for g in settings.recognizer_globs
    ]
    if settings.config_path is not None:
        globs.append(gitrepo.repo_relative(settings.config_path, top) or CONFIG_NAME)

    def lines(data: bytes | None) -> set[str]:
        text = (data or b"").decode("utf-8", "surrogateescape")
        return {x.strip() for x in text.splitlines() if x.strip() and not x.startswith("#")}

    touched = []
    for line in sorted(lines(before) ^ lines(after)):
        pattern = line.split()[0].lstrip("/")
        if "/" not in line.split()[0]:
            pattern = "*" + pattern  # a bare name matches at any depth
        full = f"{base}/{pattern}" if base else pattern
        if any(overlaps(full.replace("**", "*"), g) for g in globs):
            touched.append(line)
    return touched


def settings_event(
    change: FileChange,
    reader: BlobReader,
    source: str,
    top: Path,
    commit: str | None,
    author: Evidence,
    *,
    auditor: Auditor,
) -> ChangeEvent:
    """One trust-material change as an event: `settings_layout` says what happened to the
    file (moved, removed, symlinked, a second one, a trust file) when not an edit in place."""
    config = auditor.settings.config_path
    rel = gitrepo.repo_relative(config, top) if config is not None else None
    trust = trust_paths(auditor, top)
    before = reader.read(change.old_blob)
    after = reader.read(change.new_blob)
    extra: dict[str, object] = {"settings_file": True, "mode": change.new_mode}
    layout = None
    kind = trust.get(change.old_path or "") or trust.get(change.new_path or "")
    if change.path.rsplit("/", 1)[-1] == ATTRIBUTES and kind is None:
        layout = "attributes"  # export-ignore, filters, eol: what is deployed, not what we read
        extra["attribute_lines"] = attribute_lines(change, before, after, auditor, top)
    elif kind is not None:
        layout = "trust_file"
        extra["trust_file"] = kind
        if change.new_path not in trust or change.new_mode not in REGULAR:
            after = None  # moved away, deleted or made a link: what it held no longer counts
    elif rel is not None and change.old_path == rel and change.new_path is None:
        layout = "removed"
    elif rel is not None and change.old_path == rel and change.new_path != rel:
        layout, after = "moved", None
        extra["moved_to"] = change.new_path
    elif rel is not None and change.new_path == rel and change.new_mode not in REGULAR:
        layout, after = "not_regular", None  # never parse a link's text as settings
    elif rel is not None and change.new_path == rel:
        before = before if change.old_path == rel else None  # edited, or created in place
    else:
        layout = "second"  # another settings file: a second truth, whichever a tool finds
        before = None
    if layout is not None:
        extra["settings_layout"] = layout
    return ChangeEvent(
        path=change.path,
        before=before,
        after=after,
        source=source,
        repository=str(top),
        commit=commit,
        author=author,
        extra=extra,
    )


@contextmanager
def policy_in_force(
    auditor: Auditor, parent: str | None, top: Path, reader: BlobReader | None = None
) -> Iterator[None]:
    """Judge a change under the policy of its parent commit, not the one it brings: otherwise a
    commit could make its author an owner and weaken a protected recognizer in one go."""
    settings = auditor.settings
    current = auditor.policy
    if settings.config_path is None:
        yield
        return
    try:
        rel = gitrepo.repo_relative(settings.config_path, top)
        data = None if rel is None or parent is None else _read_at(parent, rel, top, reader)
        if data is not None and rel is not None and parent is not None:
            auditor.policy = policy_of(data, _directory_at(data, parent, rel, top, reader))
        elif rel is not None:
            # Adoption: the parent (or a root commit's nothing) had no settings file, so no
            # audited past protects anything yet; the trust files the adopting commit adds
            # are not a weakening of it. From the next commit on, this commit's policy judges.
            auditor.policy = parse_policy({})
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
    paths = _directory_paths_of(data)
    if not paths:
        return None
    base = PurePosixPath(rel).parent
    return tuple((p, _read_at(parent, str(base / p), top, reader)) for p in paths)


@lru_cache(maxsize=16)
def _directory_paths_of(settings_bytes: bytes) -> tuple[str, ...]:
    """Sorted `policy.directory` paths of a settings file's bytes: a range asks once per commit
    and rarely holds more than a few versions (parsing one took ~5 ms, half a commit's work)."""
    return tuple(sorted(directory_paths(policy_section(settings_bytes)).values()))


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
