"""A pushed range, read at a cost that grows with the commits worth auditing.

`%G?` in a `git log` format makes git run gpg (or ssh-keygen) on every signed commit it lists:
on a history of web-signed merges that is most of CI's time, though only the commits touching
audited files need their signature checked. So the range is listed without signature formats,
and the signatures of the commits that matter are read afterwards, in one git process.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from config_audit.git.repo import FileChange, parse_raw_diff, run_git


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author_name: str
    author_email: str
    author_time: str
    committer_name: str
    committer_email: str
    subject: str
    signature_status: str  # git's %G?: G good, B bad, U unknown validity, N none, E can't check...
    signer: str  # %GS
    signing_key: str  # %GK
    fingerprint: str  # %GF


NO_FLUSH = {"GIT_FLUSH": "0"}  # for a git process whose whole output is read at once
INFO_FORMAT = "%H%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%s%x00%G?%x00%GS%x00%GK%x00%GF%x00%P"


def signers_config(allowed_signers: Path | None) -> list[str]:
    return ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []


def parse_info(text: str) -> tuple[CommitInfo, list[str]]:
    parts = text.strip("\n").split("\0")
    parts += [""] * (12 - len(parts))
    return CommitInfo(*parts[:11]), parts[11].split()


def commit_info_and_parents(
    commit: str, *, cwd: Path | None = None, allowed_signers: Path | None = None
) -> tuple[CommitInfo, list[str]]:
    out = run_git(
        [*signers_config(allowed_signers), "log", "-1", f"--format={INFO_FORMAT}", commit], cwd=cwd
    )
    return parse_info(out.decode("utf-8", errors="replace"))


def diffs(
    pairs: list[tuple[str, str | None]], *, cwd: Path | None = None
) -> list[list[FileChange]]:
    """Files each commit changed against the parent named beside it (None: its only parent, or
    the empty tree for a root commit), in the order asked; one git process for all of them."""
    if not pairs:
        return []
    lines = [f"{c} {p}" if p else c for c, p in pairs]
    out = run_git(
        # --always: a header for every line, even an empty diff, so output and input pair up.
        ["diff-tree", "--stdin", "--always", "--root", "-r", "--raw", "-z", "-M", "--no-abbrev"],
        cwd=cwd,
        input=("\n".join(lines) + "\n").encode(),
        env=NO_FLUSH,
    )
    result: list[list[FileChange]] = []
    fields = out.split(b"\0")
    i = 0
    while i < len(fields):
        field_ = fields[i]
        if not field_:
            i += 1
            continue
        if not field_.startswith(b":"):  # a commit's header: paths are consumed below, by count
            result.append([])
            i += 1
            continue
        status = field_.decode().lstrip(":").split()[4][0]
        count = 3 if status in ("R", "C") else 2
        if result:
            result[-1].extend(parse_raw_diff(b"\0".join(fields[i : i + count]) + b"\0"))
        i += count
    return result


def changes_of_commits(
    commits: list[str], *, cwd: Path | None = None, first_parents: dict[str, str] | None = None
) -> dict[str, list[FileChange]]:
    """Files each commit changed against its first parent (root: against the empty tree);
    one git process for all of them. Merges are left out unless `first_parents` names their
    first parent (then: the merge against it, what the target branch had)."""
    against = first_parents or {}
    return dict(zip(commits, diffs([(c, against.get(c)) for c in commits], cwd=cwd), strict=True))


@dataclass(frozen=True)
class PathFilter:
    """Changed paths that make a commit a candidate for the audit: a superset of what it audits,
    cheap enough to test on every commit of a long range. Case is ignored throughout (ASCII
    only: a path with any other byte always counts, see `list_range`)."""

    under: tuple[str, ...] = ()  # the path itself or anything below it
    named: tuple[str, ...] = ()  # a path whose last component is one of these
    anything: bool = False  # every path (a glob without a literal directory to start from)

    def needles(self) -> list[bytes]:
        """Substrings of the output around every path the filter takes (`anything` aside): a
        prefix right after the NUL or newline before its path, a name anywhere."""
        under = [os.fsencode(p).lower() for p in self.under]
        return (
            [b"\0" + p for p in under]
            + [b"\n" + p for p in under]
            + [os.fsencode(n).lower() for n in self.named]
        )

    def regex(self) -> re.Pattern[bytes]:
        """The whole of one such path in lower-cased `git log -z --name-only` output, where
        each path follows a NUL (the first of a commit: a NUL and a newline) and ends at one."""
        alternatives = [re.escape(os.fsencode(p).lower()) + rb"(?:/[^\0]*)?" for p in self.under]
        alternatives += [rb"(?:[^\0]*/)?" + re.escape(os.fsencode(n).lower()) for n in self.named]
        return re.compile(rb"\0\n?(?:" + b"|".join(alternatives or [rb"(?!)"]) + rb")(?=\0|\Z)")


@dataclass(frozen=True)
class RangeListing:
    """base..head as git listed it: every commit (oldest first), the commits just outside it,
    and the commits with a changed path the filter took (first-parent diffs for merges)."""

    commits: list[str]
    boundary: list[str]  # parents of range commits outside the range (the base among them)
    candidates: list[tuple[str, list[str]]]  # with their parents, in range order
    parts: list[bytes] = field(repr=False)  # git's output, one part per commit

    def changed(self) -> list[tuple[str, list[str]]]:
        """Every range commit that changes any path, with its parents (a slower question)."""
        return [_commit(p) for p in self.parts if p[:1] != b"-" and _paths(p).strip(b"\0")]


# An empty field (two NULs) opens each commit: a path is never empty, so no file name can forge
# a commit header, whatever bytes it holds. %m is "-" for a boundary commit, ">" otherwise.
LISTING_FORMAT = "%x00%m%H %P"
_RANGE, _BOUNDARY = re.compile(rb"\0\0>([0-9a-f]+)"), re.compile(rb"\0\0-([0-9a-f]+)")


def list_range(
    base: str | None, head: str, *, paths: PathFilter, cwd: Path | None = None
) -> RangeListing:
    """base..head in one git process that lists every commit's changed paths (merges: against
    their first parent; a root commit: against the empty tree) and reads no signature. Python
    finds the filter's substrings in git's output at C speed and looks closer only at the
    commits holding one: an unaudited commit costs its share of git's diff, nothing per path."""
    spec = [f"{base}..{head}"] if base else [head]
    args = ["log", "--no-show-signature", "--topo-order", "--reverse", "--boundary", "--root"]
    args += ["--no-renames", "--diff-merges=first-parent", "--ignore-submodules=none"]
    args += ["--name-only", "-z"]
    # --no-show-signature: log.showSignature in a user's config would run gpg on every commit;
    # diff.ignoreSubmodules would hide a submodule put at an audited path.
    # GIT_FLUSH=0: git would otherwise flush after every commit, 13,000 reads for 20,000 commits.
    out = run_git([*args, f"--format={LISTING_FORMAT}", *spec, "--"], cwd=cwd, env=NO_FLUSH)
    data = b"\0" + out
    parts = data.split(b"\0\0")[1:]  # each: mark, sha, parents [NUL, LF, paths NUL-separated]
    commits = [sha.decode() for sha in _RANGE.findall(data)]
    boundary = [sha.decode() for sha in _BOUNDARY.findall(data)]
    listing = RangeListing(commits, boundary, [], parts)
    return replace(
        listing, candidates=listing.changed() if paths.anything else _candidates(parts, paths)
    )


def _commit(part: bytes) -> tuple[str, list[str]]:
    sha, *parents = part.partition(b"\0")[0][1:].decode().split()
    return sha, parents


def _paths(part: bytes) -> bytes:
    return part.partition(b"\0")[2]


def _candidates(parts: list[bytes], paths: PathFilter) -> list[tuple[str, list[str]]]:
    """Range commits with a changed path `paths` takes: its substrings are found in the joined
    output, and only the commits holding one are matched path by path."""
    starts = list(itertools.accumulate((len(p) + 2 for p in parts[:-1]), initial=0))
    text = b"\0\0".join(parts).lower()
    hits = {bisect.bisect_right(starts, at) - 1 for at in _occurrences(text, paths.needles())}
    if not text.isascii():
        hits |= {i for i, p in enumerate(parts) if not p.isascii()}
    whole = paths.regex()
    return [
        _commit(parts[i])
        for i in sorted(hits)
        if parts[i][:1] != b"-"
        and (not parts[i].isascii() or whole.search(b"\0" + _paths(parts[i]).lower()))
    ]


def _occurrences(text: bytes, needles: list[bytes]) -> Iterator[int]:
    for needle in needles:
        at = text.find(needle)
        while at != -1:
            yield at
            at = text.find(needle, at + 1)


def signatures_of(
    commits: list[str], *, cwd: Path | None = None, allowed_signers: Path | None = None
) -> dict[str, CommitInfo]:
    """The full facts, signature verified by git, of just these commits: one git process."""
    if not commits:
        return {}
    out = run_git(
        [
            *signers_config(allowed_signers),
            "log",
            "--no-walk=unsorted",
            "--stdin",
            f"--format=%x1e{INFO_FORMAT}",
        ],
        cwd=cwd,
        input=("\n".join(commits) + "\n").encode(),
    )
    infos = (parse_info(r)[0] for r in out.decode("utf-8", errors="replace").split("\x1e"))
    return {info.sha: info for info in infos if info.sha}
