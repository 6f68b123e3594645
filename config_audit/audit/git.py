"""The git front door: staged changes, single commits and pushed ranges through `Auditor.audit`."""

from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from config_audit.audit.git_evidence import commit_requested_signing, sequencer_evidence
from config_audit.audit.git_settings import policy_in_force, settings_changes, settings_event
from config_audit.audit.pipeline import Auditor
from config_audit.errors import GitError
from config_audit.git import history, precommit
from config_audit.git import notes as gitnotes
from config_audit.git import repo as gitrepo
from config_audit.git.attribution import attribution_findings, author_evidence, pending_evidence
from config_audit.git.history import CommitInfo
from config_audit.git.precommit import NOT_RUN
from config_audit.git.repo import EMPTY_TREE, BlobReader, FileChange
from config_audit.model import AuditResult, ChangeEvent, Evidence, Finding, Severity
from config_audit.recognizers.globs import matches_globs as any_glob_matches

NOTES_REF = "config-audit"
log = logging.getLogger(__name__)


def matches_globs(path: str, globs: Sequence[str]) -> bool:
    """Git-style globs: `**/` spans directories, `*` stays inside one."""
    if path in getattr(globs, "excluded", ()):
        return False
    return any_glob_matches(path, globs)


def relevant(change: FileChange, globs: Sequence[str]) -> bool:
    return any(
        p is not None and matches_globs(p, globs) for p in (change.old_path, change.new_path)
    )


class RepoGlobs(list[str]):
    """Recognizer globs relative to the repository root, minus the samples file."""

    excluded: frozenset[str] = frozenset()
    deployed: tuple[str, ...] | None = None  # None: every audited file is deployed


def deployed(path: str, globs: Sequence[str]) -> bool:
    """Whether Presidio reads `path` (the settings' `deployed:`, default every audited file)."""
    named = getattr(globs, "deployed", None)
    return named is None or any_glob_matches(path, named)


def repo_globs(auditor: Auditor, top: Path) -> RepoGlobs:
    """Recognizer globs relative to the repository root (the config may live in a subdirectory)."""
    settings = auditor.settings
    prefix = gitrepo.repo_relative(settings.root, top) or "."
    globs = RepoGlobs(g if prefix == "." else f"{prefix}/{g}" for g in settings.recognizer_globs)
    samples = gitrepo.repo_relative(settings.samples_path, top) if settings.samples_path else None
    if samples is not None:
        globs.excluded = frozenset({samples})
    if settings.deployed is not None:
        globs.deployed = tuple(g if prefix == "." else f"{prefix}/{g}" for g in settings.deployed)
    return globs


REGULAR = ("100644", "100755")
LINK, SUBMODULE = "120000", "160000"


def link_target(path: str, text: bytes) -> str | None:
    """The repository path a symlink at `path` points to; None when it leaves the tree."""
    link = text.decode("utf-8", errors="surrogateescape")
    if not link or link.startswith("/") or "\0" in link:
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
    return None if target == ".." or target.startswith("../") else target


def version_of(
    reader: BlobReader, path: str, blob: str, mode: str, rev: str | None, top: Path
) -> tuple[bytes | None, str | None]:
    """What Presidio would read at `path` (blob of `mode` as of `rev`, "" the index), and why it
    cannot be audited. A symlink is never parsed as YAML: it is audited as its target."""
    if mode == SUBMODULE:
        return None, f"{path} is a submodule: its content is not in this repository"
    data = reader.read(blob)
    if mode != LINK or data is None:
        return data, None
    target = link_target(path, data)
    if target is None or rev is None:
        return None, f"{path} is a symlink to {data!r}, outside the repository"
    target_mode = gitrepo.entry_mode(rev, target, cwd=top)
    if target_mode not in REGULAR:
        why = "dangling" if target_mode is None else f"to a {target_mode} entry"
        return None, f"{path} is a symlink {why} ({target})"
    return reader.read_at(rev, target), None


def linked_changes(
    changes: Sequence[FileChange], globs: Sequence[str], rev: str, top: Path
) -> list[FileChange]:
    """Changes to files outside the globs that a symlink at an audited path points to, as
    changes of the link's path: Presidio reads the target, so a target edit is an edit."""
    others = [c for c in changes if not relevant(c, globs)]
    if not others:
        return []
    links = {p: b for p, b in gitrepo.symlinks(rev, cwd=top).items() if matches_globs(p, globs)}
    if not links:
        return []
    targets: dict[str, list[str]] = {}
    with BlobReader(top) as reader:
        for path, blob in links.items():
            target = link_target(path, reader.read(blob) or b"")
            if target is not None:
                targets.setdefault(target, []).append(path)
    out = []
    for c in others:
        for link in dict.fromkeys(
            targets.get(c.old_path or "", []) + targets.get(c.new_path or "", [])
        ):
            target = c.new_path if c.new_path in targets else c.old_path
            old = c.old_blob if c.old_path == target else gitrepo.ZERO
            new = c.new_blob if c.new_path == target else gitrepo.ZERO
            out.append(FileChange("M", link, link, old, new))
    return out


def events_for(
    changes: Sequence[FileChange],
    reader: BlobReader,
    globs: Sequence[str],
    *,
    source: str,
    repository: str,
    commit: str | None,
    author: Evidence,
    revs: tuple[str | None, str | None] = (None, None),
) -> list[ChangeEvent]:
    """`revs`: where the before and after versions live ("" the index), for symlink targets."""
    events = []
    top = Path(repository)
    for ch in changes:
        if not relevant(ch, globs):
            continue
        extra: dict[str, object] = {"renamed_from": ch.old_path} if ch.status == "R" else {}
        before = after = None
        errors = []
        if ch.old_path and matches_globs(ch.old_path, globs):
            before, error = version_of(reader, ch.old_path, ch.old_blob, ch.old_mode, revs[0], top)
        if ch.new_path and matches_globs(ch.new_path, globs):
            after, error = version_of(reader, ch.new_path, ch.new_blob, ch.new_mode, revs[1], top)
            errors += [error] if error else []
        if {ch.old_mode, ch.new_mode} - {*REGULAR, "000000"}:
            extra["mode"] = {"before": ch.old_mode, "after": ch.new_mode}
        if errors:
            extra["unauditable"] = errors
        event = ChangeEvent(ch.path, before, after, source, repository, commit, author, extra)
        renamed = ch.status == "R" and ch.old_path and before is not None and after is not None
        if renamed and ch.old_path and not deployed(ch.old_path, globs):
            # A draft moved: nothing Presidio reads is gone. Where it lands deployed, it is new.
            if deployed(ch.path, globs):
                event = replace(event, before=None)
            events.append(event)
            continue
        if renamed and ch.old_path:
            # Presidio reads the file at its path: a rename (a case change too) removes the
            # deployed file, and the new path is a file of its own (the loader falls back to
            # its defaults where the old one was configured).
            extra["renamed_from"] = ch.old_path
            events.append(replace(event, before=None))
            gone = {**extra, "renamed_to": ch.new_path}
            del gone["renamed_from"]
            events.append(replace(event, path=ch.old_path, after=None, extra=gone))
            continue
        events.append(event)
    return events


def audit_staged(
    auditor: Auditor, *, cwd: Path | None = None, reader: BlobReader | None = None
) -> list[AuditResult]:
    """pre-commit: audit what the index would commit (not the working tree). `reader`: the
    hook run's, when it has one open (else one for this audit)."""
    top = gitrepo.toplevel(cwd)
    globs = repo_globs(auditor, top)
    staged = gitrepo.staged_changes(top)
    settings_files = settings_changes(auditor, staged, top)
    changes = [c for c in staged if relevant(c, globs) and c not in settings_files]
    changes += linked_changes(staged, globs, "", top)
    if not changes and not settings_files:
        return []
    if changes and auditor.validator is not None:
        auditor.validator.prestart()  # Presidio's import overlaps reading the index
    name, email = gitrepo.ident("GIT_AUTHOR_IDENT", cwd=top)
    will_sign = (gitrepo.config_get("commit.gpgsign", cwd=top) or "").lower() == "true"
    will_sign = will_sign or commit_requested_signing()
    author = pending_evidence(name, email, will_sign=will_sign)
    with nullcontext(reader) if reader is not None else BlobReader(top) as blobs:
        events = events_for(
            changes,
            blobs,
            globs,
            source="pre-commit",
            repository=str(top),
            commit=None,
            author=author,
            revs=("HEAD", ""),
        )
        for settings_file in settings_files:
            events.append(
                settings_event(
                    settings_file, blobs, "pre-commit", top, None, author, auditor=auditor
                )
            )
        base = "HEAD" if gitrepo.rev_exists("HEAD", cwd=top) else None
        with policy_in_force(auditor, base, top, blobs):
            results = [_judged(auditor, event) for event in events]
    if auditor.cache_dir is not None and not any(r.blocked for r in results):
        audited = changes + settings_files
        try:
            precommit.remember(auditor.cache_dir, top, audited)
        except OSError as exc:  # evidence only: the commit is not blocked for it
            log.warning("could not note that pre-commit passed: %s", exc)
    return results


def _judged(auditor: Auditor, event: ChangeEvent) -> AuditResult:
    """pre-commit's verdict; a blocked attempt is recorded too (it is evidence)."""
    audit = auditor.audit_policy if event.extra.get("settings_file") else auditor.audit
    result = audit(event, write=False)
    return audit(event) if result.blocked else result


@dataclass
class CommitAudit:
    commit: str
    info: CommitInfo
    results: list[AuditResult] = field(default_factory=list)
    attribution: list[Finding] = field(default_factory=list)
    hook_record: bool = False
    hook_note_invalid: bool = False  # a note is there, but no trusted record of this commit
    pre_commit_skipped: bool = False  # the hook record says pre-commit did not run

    @property
    def blocked(self) -> bool:
        return any(r.blocked for r in self.results) or any(
            f.severity is Severity.ERROR for f in self.attribution
        )


@dataclass(frozen=True)
class CommitFacts:
    """What git says about one commit, fetched in bulk for a range (see `audit_range`)."""

    info: CommitInfo
    parents: list[str]
    changes: list[FileChange]
    noted: bool
    against: dict[str, list[FileChange]] = field(default_factory=dict)  # a merge: other parents


def commit_facts(commit: str, *, top: Path, allowed_signers: Path | None) -> CommitFacts:
    """The same facts for a single commit (hooks)."""
    info, parents = history.commit_info_and_parents(
        commit, cwd=top, allowed_signers=allowed_signers
    )
    return CommitFacts(
        info,
        parents,
        gitrepo.commit_changes(commit, parent=parents[0] if parents else EMPTY_TREE, cwd=top),
        gitnotes.read_note(commit, ref=NOTES_REF, cwd=top) is not None,
    )


def audit_commit(
    auditor: Auditor,
    commit: str,
    *,
    top: Path,
    reader: BlobReader,
    source: str,
    allowed_signers: Path | None = None,
    extra: dict[str, object] | None = None,
    write_notes: bool = True,
    facts: CommitFacts | None = None,
    in_range: frozenset[str] = frozenset(),
    links_possible: bool = True,
    globs: Sequence[str] | None = None,
) -> CommitAudit:
    """Audit the recognizer files one commit changed; records are written, notes attached.
    `in_range`: the other commits of the range (a merge bringing their versions is not new).
    `links_possible=False`: no tree of the range has a symlink at an audited path (the range
    proved it once), so no commit's tree is listed to look for one. `globs`: those auditing
    this commit (a range's: its parent's and the base's), else the settings' in force."""
    globs = globs if globs is not None else repo_globs(auditor, top)
    facts = facts or commit_facts(commit, top=top, allowed_signers=allowed_signers)
    changes = facts.changes
    if len(facts.parents) > 1:  # facts.changes of a merge: against its first parent
        changes = merge_changes(
            commit, facts.parents, in_range, top, first=facts.changes, against=facts.against
        )
    settings_files = settings_changes(auditor, changes, top)
    linked = linked_changes(changes, globs, commit, top) if links_possible else []
    changes = [c for c in changes if relevant(c, globs) and c not in settings_files] + linked
    info = facts.info
    audit = CommitAudit(commit, info)
    if not changes and not settings_files:
        return audit
    audit.hook_record = facts.noted
    if source == "post-commit" and auditor.cache_dir is not None:
        audited = changes + settings_files
        evidence = precommit.evidence(auditor.cache_dir, top, audited)
        if evidence == NOT_RUN:  # git's sequencer never runs pre-commit: say why, not "skipped"
            evidence = sequencer_evidence(commit, facts.parents, top)
        extra = {**(extra or {}), "pre_commit": evidence}
    author = author_evidence(info)
    events = events_for(
        changes,
        reader,
        globs,
        source=source,
        repository=str(top),
        commit=commit,
        author=author,
        revs=(facts.parents[0] if facts.parents else None, commit),
    )
    first = changes[0].path if changes else settings_files[0].path
    audit.attribution = attribution_findings(info, path=first)
    if audit.attribution:  # a bad or mismatched signature is evidence: the record keeps it
        extra = {**(extra or {}), "attribution": [f.to_dict() for f in audit.attribution]}
    with policy_in_force(auditor, facts.parents[0] if facts.parents else None, top, reader):
        for event in events:
            if extra:
                event = ChangeEvent(**{**event.__dict__, "extra": {**event.extra, **extra}})
            audit.results.append(auditor.audit(event))
        for settings_file in settings_files:
            event = settings_event(
                settings_file, reader, source, top, commit, author, auditor=auditor
            )
            if extra:
                event = ChangeEvent(**{**event.__dict__, "extra": {**event.extra, **extra}})
            audit.results.append(auditor.audit_policy(event))
    records = [r.record for r in audit.results if r.record is not None]
    if write_notes and records:
        note = b"".join(json.dumps(r, sort_keys=True).encode() + b"\n" for r in records)
        try:
            gitnotes.add_note(commit, note, ref=NOTES_REF, cwd=top)
        except GitError as exc:  # notes are a travelling copy; the log holds the record
            log.warning("could not attach the record to %s as a git note: %s", commit[:12], exc)
    return audit


def merge_changes(
    commit: str,
    parents: Sequence[str],
    audited: frozenset[str],
    top: Path,
    *,
    first: Sequence[FileChange] | None = None,
    against: Mapping[str, Sequence[FileChange]] | None = None,
) -> list[FileChange]:
    """A merge against its first parent (what the target branch had), minus the paths where it
    is another parent's version that the range audits itself. `first`, `against`: diffs read."""
    if first is None:
        first = gitrepo.commit_changes(commit, parent=parents[0], cwd=top)
    changes = list(first)
    for other in parents[1:]:
        if other in audited and changes:
            known = (against or {}).get(other)
            if known is None:  # not read with the range's other diffs
                known = gitrepo.commit_changes(commit, parent=other, cwd=top)
            differs = {c.path for c in known}
            changes = [c for c in changes if c.path in differs]
    return changes
