"""Which recognizer globs audit a commit of a CI range: those in force at its parent (as the
policy is, see `policy_in_force`) together with the base's. Otherwise a commit that adds a glob
(an allowed coverage change) would leave a later commit of the same range, weakening a file
that glob covers, unaudited, and the next run would start from the weakened file. A glob that
the range removes keeps auditing until the range ends (its removal is judged on its own, as
`coverage.globs_removed`): the range only ever audits more than its base, never less."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from config_audit.audit.git import RepoGlobs
from config_audit.errors import ConfigAuditError
from config_audit.git import repo as gitrepo
from config_audit.git.repo import BlobReader, FileChange
from config_audit.settings import parse_settings


def union(base: RepoGlobs, other: RepoGlobs | None) -> RepoGlobs:
    """Every path either audits: what either excludes is audited unless both exclude it, and a
    file either deploys is deployed (None, every audited file, wins)."""
    if other is None:
        return base
    out = RepoGlobs(dict.fromkeys([*base, *other]))
    out.excluded = base.excluded & other.excluded
    if base.deployed is not None and other.deployed is not None:
        out.deployed = tuple(dict.fromkeys([*base.deployed, *other.deployed]))
    return out


@lru_cache(maxsize=16)
def _globs_of(data: bytes, rel: str, top: Path) -> RepoGlobs | None:
    """The repository-relative globs a settings file's bytes name (at `rel`); None when they
    are no usable settings (that version is judged as such on its own: the base's globs stay)."""
    try:
        raw = yaml.safe_load(data.decode("utf-8")) or {}
        path = top / rel
        settings = parse_settings(raw, root=path.parent, config_path=path)
    except (yaml.YAMLError, UnicodeDecodeError, ConfigAuditError, TypeError, ValueError):
        return None
    prefix = posixpath.dirname(rel)

    def rooted(globs: Iterable[str]) -> tuple[str, ...]:
        return tuple(f"{prefix}/{g}" if prefix else g for g in globs)

    out = RepoGlobs(rooted(settings.recognizer_globs))
    samples = settings.samples_path
    sample = gitrepo.repo_relative(samples, top) if samples is not None else None
    out.excluded = frozenset({sample}) if sample is not None else frozenset()
    out.deployed = rooted(settings.deployed) if settings.deployed is not None else None
    return out


class RangeGlobs:
    """The globs of each commit of one range. Until `widen` finds a settings version in the
    range that adds a glob, every commit is audited with the base's (no settings read)."""

    def __init__(self, base: RepoGlobs, rel: str | None, top: Path, reader: BlobReader) -> None:
        self.base = base
        self.widest = base  # base ∪ every settings version of the range
        self.widened = False
        self._rel = rel
        self._top = top
        self._reader = reader
        self._at: dict[str, RepoGlobs] = {}

    def widen(self, changed: Iterable[list[FileChange]], boundary: Iterable[str]) -> bool:
        """Look at the settings versions the range can have at a parent: those among the
        candidates' changes (a settings change is trust material: always a candidate) and
        those of its boundary commits (a branch forked before the base starts from an older
        one); True if one adds a glob to the base's."""
        if self._rel is None:
            return False
        blobs = [
            c.new_blob
            for changes in changed
            for c in changes
            if c.new_path == self._rel and c.new_blob != gitrepo.ZERO
        ]
        self._reader.read_many(blobs)
        versions = [self._reader.read(blob) for blob in dict.fromkeys(blobs)]
        versions += [self._reader.read_at(rev, self._rel) for rev in boundary]
        for data in dict.fromkeys(versions):
            found = _globs_of(data, self._rel, self._top) if data is not None else None
            self.widest = union(self.widest, found)
        self.widened = set(self.widest) != set(self.base) or self.widest.excluded != (
            self.base.excluded
        )
        return self.widened

    def of(self, parents: list[str]) -> RepoGlobs:
        """The globs auditing a commit with these parents: its first parent's and the base's."""
        if not self.widened or not parents or self._rel is None:
            return self.base
        parent = parents[0]
        if parent not in self._at:
            data = self._reader.read_at(parent, self._rel)
            found = _globs_of(data, self._rel, self._top) if data is not None else None
            self._at[parent] = union(self.base, found)
        return self._at[parent]
