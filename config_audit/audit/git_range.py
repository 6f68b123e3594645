"""The CI door: every commit of a pushed range, read at a cost that grows with the commits
worth auditing, each judged through `audit_commit` like the hooks' commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from config_audit.audit.git_settings import TrustView
from config_audit.audit.pipeline import Auditor
from config_audit.errors import GitError
from config_audit.git import history
from config_audit.git import notes as gitnotes
from config_audit.git import repo as gitrepo
from config_audit.git.history import CommitInfo
from config_audit.git.precommit import NOT_RUN
from config_audit.git.repo import BlobReader, FileChange

if TYPE_CHECKING:
    from config_audit.ledger.signing import TrustedKeys  # only the CI range verifies notes

from config_audit.audit.git import (
    LINK,
    NOTES_REF,
    CommitAudit,
    CommitFacts,
    audit_commit,
    matches_globs,
    relevant,
    repo_globs,
)

log = logging.getLogger(__name__)


def _versions(
    listed: list[tuple[CommitInfo, list[str]]],
    changed: dict[str, list[FileChange]],
    reader: BlobReader,
    globs: Sequence[str],
) -> list[tuple[bytes, str]]:
    """Every recognizer-file version the range will need, in the order it will need them."""
    out = []
    for info, parents in listed:
        if len(parents) > 1:
            continue  # merges read their own versions
        for change in changed.get(info.sha, []):
            if not relevant(change, globs):
                continue
            for path, blob in (
                (change.old_path, change.old_blob),
                (change.new_path, change.new_blob),
            ):
                if path and matches_globs(path, globs):
                    data = reader.read(blob)
                    if data is not None:
                        out.append((data, change.path))
    return out


@dataclass
class RangeAudit:
    base: str | None
    head: str
    commits: list[CommitAudit]
    notes: list[str]  # what the user should know about the range itself (force push, ...)

    @property
    def blocked(self) -> bool:
        return any(c.blocked for c in self.commits)


def _links_possible(
    base: str | None,
    head: str,
    changed: dict[str, list[FileChange]],
    globs: Sequence[str],
    top: Path,
) -> bool:
    """Whether any tree of base..head can hold a symlink at an audited path: one a commit of
    the range made, or one already in a boundary commit (the range's parents outside it).
    Listing every commit's tree for links cost one git process per commit."""
    if any(LINK in (c.old_mode, c.new_mode) for changes in changed.values() for c in changes):
        return True
    spec = [f"{base}..{head}"] if base else [head]
    out = gitrepo.run_git(["rev-list", "--boundary", *spec], cwd=top).decode()
    boundary = [line[1:] for line in out.split() if line.startswith("-")]
    return any(
        matches_globs(path, globs) for rev in boundary for path in gitrepo.symlinks(rev, cwd=top)
    )


def _worth_auditing(
    auditor: Auditor,
    listed: list[tuple[CommitInfo, list[str]]],
    changed: dict[str, list[FileChange]],
    top: Path,
    *,
    links_possible: bool,
) -> list[str]:
    """Commits worth auditing: those touching recognizer or trust files (a merge: against its
    first parent, a superset of what it brings), and, where a symlink at an audited path may
    exist, any change (it may be the link's target)."""
    globs = repo_globs(auditor, top)
    trust = TrustView(auditor, top)
    out = []
    for info, _parents in listed:
        changes = changed.get(info.sha, [])
        if (
            (links_possible and changes)
            or any(relevant(c, globs) for c in changes)
            or any(c in trust for c in changes)
        ):
            out.append(info.sha)
    return out


def _range_ends(base: str | None, head: str, top: Path, notes: list[str]) -> tuple[str | None, str]:
    """(base, head) as commits: all zeros is a new branch (no base); a base that is not an
    ancestor of head (a force push) is replaced by their merge base, with a note saying so."""
    head_sha = gitrepo.resolve(head, cwd=top)
    base_sha = None
    if base and set(base) != {"0"}:  # all zeros: a new branch was pushed
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
        base_sha = gitrepo.resolve(base, cwd=top)
        if not gitrepo.is_ancestor(base_sha, head_sha, cwd=top):
            mb = gitrepo.merge_base(base_sha, head_sha, cwd=top)
            notes.append(
                f"base {base_sha[:12]} is not an ancestor of head {head_sha[:12]} "
                f"(force push?): auditing from their merge base {str(mb)[:12]}"
            )
            base_sha = mb
    return base_sha, head_sha


def audit_range(
    auditor: Auditor,
    base: str | None,
    head: str,
    *,
    cwd: Path | None = None,
    allowed_signers: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    trusted: TrustedKeys | None = None,
) -> RangeAudit:
    """CI: every commit in base..head that touches recognizer files. With `trusted`, a hook
    record counts only if its note holds a record of that commit signed by a trusted key
    (anyone can `git notes add` a note)."""
    notes_seen_invalid: set[str] = set()
    pre_commit_skipped: set[str] = set()
    top = gitrepo.toplevel(cwd)
    notes: list[str] = []
    base_sha, head_sha = _range_ends(base, head, top, notes)
    # Listed without signatures; only the commits that will be audited get theirs verified.
    listed = history.list_range(base_sha, head_sha, cwd=top)
    shas = [info.sha for info, _ in listed]
    in_range = frozenset(shas)
    firsts = {info.sha: parents[0] for info, parents in listed if len(parents) > 1}
    changed = history.changes_of_commits(shas, cwd=top, first_parents=firsts)
    links_possible = _links_possible(base_sha, head_sha, changed, repo_globs(auditor, top), top)
    audited = _worth_auditing(auditor, listed, changed, top, links_possible=links_possible)
    signed = history.signatures_of(audited, cwd=top, allowed_signers=allowed_signers)
    listed = [(signed.get(info.sha, info), parents) for info, parents in listed]
    hook_notes = gitnotes.note_blobs(NOTES_REF, cwd=top)
    audits = []
    with BlobReader(top) as reader:
        auditor.prefetch(_versions(listed, changed, reader, repo_globs(auditor, top)))
        worth = set(audited)
        for i, (info, parents) in enumerate(listed, 1):
            if info.sha not in worth:  # touches no audited or trust file: nothing to judge
                audits.append(CommitAudit(info.sha, info))
                if on_progress:
                    on_progress(i, len(listed))
                continue
            blob = hook_notes.get(info.sha)
            note = reader.read(blob) if blob else None
            record = gitnotes.hook_record_of(note, info.sha, trusted) if note is not None else None
            facts = CommitFacts(info, parents, changed.get(info.sha, []), record is not None)
            if note is not None and record is None:
                notes_seen_invalid.add(info.sha)
            extra_of = record.get("extra") if record is not None else None
            if isinstance(extra_of, dict) and extra_of.get("pre_commit") == NOT_RUN:
                pre_commit_skipped.add(info.sha)
            audits.append(
                audit_commit(
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
                )
            )
            if on_progress:
                on_progress(i, len(listed))
    for audit in audits:
        audit.hook_note_invalid = audit.commit in notes_seen_invalid
        audit.pre_commit_skipped = audit.commit in pre_commit_skipped
    return RangeAudit(base_sha, head_sha, audits, notes)
