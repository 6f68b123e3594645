"""The CI door: every commit of a pushed range, read at a cost that grows with the commits
worth auditing, each judged through `audit_commit` like the hooks' commits."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from config_audit.audit.git_globs import RangeGlobs
from config_audit.audit.git_settings import ATTRIBUTES, TrustView
from config_audit.audit.pipeline import Auditor
from config_audit.errors import GitError
from config_audit.git import history
from config_audit.git import notes as gitnotes
from config_audit.git import repo as gitrepo
from config_audit.git.history import CommitInfo
from config_audit.git.precommit import NOT_RUN
from config_audit.git.repo import BlobReader, FileChange
from config_audit.settings import CONFIG_NAME

if TYPE_CHECKING:
    from config_audit.ledger.signing import TrustedKeys  # only the CI range verifies notes

from config_audit.audit.git import (
    LINK,
    NOTES_REF,
    CommitAudit,
    CommitFacts,
    RepoGlobs,
    audit_commit,
    matches_globs,
    relevant,
    repo_globs,
)

log = logging.getLogger(__name__)


def _versions(
    audited: list[tuple[str, list[str]]],
    changed: dict[str, list[FileChange]],
    reader: BlobReader,
    globs_of: dict[str, RepoGlobs],
) -> list[tuple[bytes, str]]:
    """Every recognizer-file version the range will need, in the order it will need them
    (read in few round trips to git, and kept by the reader for the audit itself)."""
    wanted = []
    for sha, parents in audited:
        if len(parents) > 1:
            continue  # merges read their own versions
        globs = globs_of[sha]
        for change in changed.get(sha, []):
            if relevant(change, globs):
                wanted += [
                    (change.path, blob)
                    for path, blob in (
                        (change.old_path, change.old_blob),
                        (change.new_path, change.new_blob),
                    )
                    if path and matches_globs(path, globs)
                ]
    reader.read_many([blob for _, blob in wanted])
    return [(data, path) for path, blob in wanted if (data := reader.read(blob)) is not None]


@dataclass
class RangeAudit:
    base: str | None
    head: str
    commits: list[CommitAudit]  # the commits worth auditing (the others touch nothing audited)
    notes: list[str]  # what the user should know about the range itself (force push, ...)
    scanned: int  # commits in the range, audited or not

    @property
    def blocked(self) -> bool:
        return any(c.blocked for c in self.commits)


def path_filter(globs: Sequence[str], trust: TrustView) -> history.PathFilter:
    """What git's listing must find: every path a glob can match (from its literal leading
    directories on; case-insensitively, like the glob rule) and every trust file, wherever."""
    under = [trust.rel] if trust.rel else []
    under += list(trust.trust)
    for glob in globs:
        literal = list(
            itertools.takewhile(lambda s: "*" not in s and "?" not in s, glob.split("/"))
        )
        if not literal:  # `**/*.yaml`: any path may be one
            return history.PathFilter(anything=True)
        under.append("/".join(literal))
    return history.PathFilter(under=tuple(under), named=(CONFIG_NAME, ATTRIBUTES))


def _links_possible(
    boundary: list[str], changed: dict[str, list[FileChange]], globs: Sequence[str], top: Path
) -> bool:
    """Whether any tree of the range can hold a symlink at an audited path: one a commit of
    the range made there, or one already in a boundary commit (the range's parents outside
    it). Every tree of the range is a boundary tree plus the range's changes, and a change at
    an audited path is in `changed` (the candidates' diffs), so nothing else can hold one."""
    if any(
        LINK in (c.old_mode, c.new_mode) and relevant(c, globs)
        for changes in changed.values()
        for c in changes
    ):
        return True
    return any(
        matches_globs(path, globs) for rev in boundary for path in gitrepo.symlinks(rev, cwd=top)
    )


def _worth_auditing(
    scope: RangeGlobs,
    trust: TrustView,
    candidates: list[tuple[str, list[str]]],
    changed: dict[str, list[FileChange]],
    *,
    links_possible: bool,
) -> list[tuple[str, list[str]]]:
    """Commits worth auditing: those touching recognizer files (by the globs in force at their
    parent and the base's) or trust files (a merge: against its first parent, a superset of
    what it brings), and, where a symlink at an audited path may exist, any change (it may be
    the link's target)."""
    out = []
    for sha, parents in candidates:
        changes = changed.get(sha, [])
        if (
            (links_possible and changes)
            or any(c in trust for c in changes)
            or any(relevant(c, scope.base) for c in changes)
            # the parent's settings read only where a glob the range adds could matter
            or (
                scope.widened
                and any(relevant(c, scope.widest) for c in changes)
                and any(relevant(c, scope.of(parents)) for c in changes)
            )
        ):
            out.append((sha, parents))
    return out


def _range_ends(base: str | None, head: str, top: Path) -> tuple[str | None, str]:
    """(base, head) as commits: all zeros is a new branch (no base)."""
    head_sha = gitrepo.resolve(head, cwd=top)
    if not base or set(base) == {"0"}:  # all zeros: a new branch was pushed
        return None, head_sha
    if not gitrepo.rev_exists(base, cwd=top):
        if gitrepo.is_shallow(top):
            raise GitError(
                f"base '{base}' is not in this shallow clone",
                advice="fetch enough history: `git fetch --deepen=200` or "
                "`git fetch --unshallow` (actions/checkout: fetch-depth: 0)",
            )
        raise GitError(
            f"unknown base revision '{base}'",
            advice="was it force-pushed away? pass --base with the merge base",
        )
    return gitrepo.resolve(base, cwd=top), head_sha


def _listing(
    base: str | None, head: str, paths: history.PathFilter, top: Path, notes: list[str]
) -> tuple[str | None, history.RangeListing]:
    """The range listed; a base that is not an ancestor of head (a force push) is replaced by
    their merge base, with a note saying so. The base is an ancestor exactly when it is one of
    the range's boundary commits (or head itself), so the listing answers without a walk."""
    listing = history.list_range(base, head, cwd=top, paths=paths)
    if base is None or base == head or base in listing.boundary:
        return base, listing
    mb = gitrepo.merge_base(base, head, cwd=top)
    notes.append(
        f"base {base[:12]} is not an ancestor of head {head[:12]} "
        f"(force push?): auditing from their merge base {str(mb)[:12]}"
    )
    return mb, history.list_range(mb, head, cwd=top, paths=paths)


def _changes(
    commits: list[tuple[str, list[str]]], in_range: frozenset[str], top: Path
) -> tuple[dict[str, list[FileChange]], dict[tuple[str, str], list[FileChange]]]:
    """Each commit's changes against its first parent, and each merge's against its other
    parents in the range (what `merge_changes` compares): one git process for all."""
    pairs: list[tuple[str, str | None]] = [(c, ps[0] if len(ps) > 1 else None) for c, ps in commits]
    others = [(c, p) for c, ps in commits if len(ps) > 1 for p in ps[1:] if p in in_range]
    found = history.diffs([*pairs, *others], cwd=top)
    first = {c: found[i] for i, (c, _) in enumerate(pairs)}
    return first, {pair: found[len(pairs) + i] for i, pair in enumerate(others)}


def _candidates(
    listing: history.RangeListing,
    ends: tuple[str | None, str],
    scope: RangeGlobs,
    trust: TrustView,
    top: Path,
) -> tuple[
    list[tuple[str, list[str]]],
    dict[str, list[FileChange]],
    dict[tuple[str, str], list[FileChange]],
    bool,
]:
    """The commits to look at, their diffs, and whether a symlink may sit at an audited path.
    Listed with the base's globs; only if a settings version of the range adds a glob is the
    range listed again with every glob it ever has (the cost stays with what is audited)."""
    in_range = frozenset(listing.commits)
    changed, merged = _changes(listing.candidates, in_range, top)
    if scope.widen(changed.values(), listing.boundary):
        listing = history.list_range(*ends, cwd=top, paths=path_filter(scope.widest, trust))
        changed, merged = _changes(listing.candidates, in_range, top)
    candidates = listing.candidates
    links_possible = _links_possible(listing.boundary, changed, scope.widest, top)
    if links_possible:  # any change may be a link's target: every commit changing anything
        candidates = listing.changed()
        changed, merged = _changes(candidates, in_range, top)
    return candidates, changed, merged, links_possible


def audit_range(
    auditor: Auditor,
    base: str | None,
    head: str,
    *,
    cwd: Path | None = None,
    allowed_signers: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    trusted: TrustedKeys | None = None,
    while_waiting: Callable[[], None] | None = None,
) -> RangeAudit:
    """CI: every commit in base..head that touches recognizer files. With `trusted`, a hook
    record counts only if its note holds a record of that commit signed by a trusted key
    (anyone can `git notes add` a note). Git lists the range once; only the commits that
    change an audited or trust path are diffed, signature-checked and judged. `while_waiting`
    runs once the range is listed and signatures checked, before the first verdict: the
    worker is usually still importing Presidio then, so whatever the caller needs afterwards
    (its report's imports) costs nothing there."""
    top = gitrepo.toplevel(cwd)
    notes: list[str] = []
    trust = TrustView(auditor, top)
    globs = repo_globs(auditor, top)
    base_sha, head_sha = _range_ends(base, head, top)
    base_sha, listing = _listing(base_sha, head_sha, path_filter(globs, trust), top, notes)
    in_range = frozenset(listing.commits)
    with BlobReader(top) as reader:
        scope = RangeGlobs(globs, trust.rel, top, reader)
        candidates, changed, merged, links_possible = _candidates(
            listing, (base_sha, head_sha), scope, trust, top
        )
        worth = _worth_auditing(scope, trust, candidates, changed, links_possible=links_possible)
        globs_of = {sha: scope.of(parents) for sha, parents in worth}
        # Versions first: their parsing and linting run while git checks the signatures.
        auditor.prefetch(_versions(worth, changed, reader, globs_of))
        signed = history.signatures_of(
            [c for c, _ in worth], cwd=top, allowed_signers=allowed_signers
        )
        if while_waiting is not None:
            while_waiting()
        audits = _audit_commits(
            auditor,
            [(signed[sha], parents) for sha, parents in worth],
            changed,
            merged,
            reader=reader,
            top=top,
            allowed_signers=allowed_signers,
            in_range=in_range,
            links_possible=links_possible,
            on_progress=on_progress,
            trusted=trusted,
            globs_of=globs_of,
        )
    return RangeAudit(base_sha, head_sha, audits, notes, scanned=len(listing.commits))


def _audit_commits(
    auditor: Auditor,
    audited: list[tuple[CommitInfo, list[str]]],
    changed: dict[str, list[FileChange]],
    merged: dict[tuple[str, str], list[FileChange]],
    *,
    reader: BlobReader,
    top: Path,
    allowed_signers: Path | None,
    in_range: frozenset[str],
    links_possible: bool,
    on_progress: Callable[[int, int], None] | None,
    trusted: TrustedKeys | None,
    globs_of: dict[str, RepoGlobs],
) -> list[CommitAudit]:
    """Each commit worth auditing through `audit_commit`, with its hook note's evidence."""
    hook_notes = gitnotes.note_blobs(NOTES_REF, cwd=top)
    audits = []
    for i, (info, parents) in enumerate(audited, 1):
        blob = hook_notes.get(info.sha)
        note = reader.read(blob) if blob else None
        record = gitnotes.hook_record_of(note, info.sha, trusted) if note is not None else None
        others = {p: merged[(info.sha, p)] for p in parents[1:] if (info.sha, p) in merged}
        facts = CommitFacts(info, parents, changed.get(info.sha, []), record is not None, others)
        audit = audit_commit(
            auditor,
            info.sha,
            top=top,
            reader=reader,
            source="ci",
            allowed_signers=allowed_signers,
            write_notes=False,
            facts=facts,
            in_range=in_range,
            links_possible=links_possible,
            globs=globs_of[info.sha],
        )
        audit.hook_note_invalid = note is not None and record is None
        extra_of = record.get("extra") if record is not None else None
        audit.pre_commit_skipped = (
            isinstance(extra_of, dict) and extra_of.get("pre_commit") == NOT_RUN
        )
        audits.append(audit)
        if on_progress:
            on_progress(i, len(audited))
    return audits
