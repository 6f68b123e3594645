"""A pushed range, read at a cost that grows with the commits worth auditing.

`%G?` in a `git log` format makes git run gpg (or ssh-keygen) on every signed commit it lists:
on a history of web-signed merges that is most of CI's time, though only the commits touching
audited files need their signature checked. So the range is listed without signature formats,
and the signatures of the commits that matter are read afterwards, in one git process.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def changes_of_commits(
    commits: list[str], *, cwd: Path | None = None, first_parents: dict[str, str] | None = None
) -> dict[str, list[FileChange]]:
    """Files each commit changed against its first parent (root: against the empty tree);
    one git process for all of them. Merges are left out unless `first_parents` names their
    first parent (then: the merge against it, what the target branch had)."""
    if not commits:
        return {}
    against = first_parents or {}
    lines = [f"{c} {against[c]}" if c in against else c for c in commits]
    out = run_git(
        ["diff-tree", "--stdin", "--root", "-r", "--raw", "-z", "-M", "--no-abbrev"],
        cwd=cwd,
        input=("\n".join(lines) + "\n").encode(),
    )
    result: dict[str, list[FileChange]] = {c: [] for c in commits}
    fields = out.split(b"\0")
    i, current = 0, None
    while i < len(fields):
        field = fields[i]
        if not field:
            i += 1
            continue
        if not field.startswith(b":"):
            current = field.decode().strip()
            i += 1
            continue
        meta = field.decode().lstrip(":").split()
        status = meta[4][0]
        count = 3 if status in ("R", "C") else 2
        chunk = b"\0".join(fields[i : i + count]) + b"\0"
        if current is not None:
            result.setdefault(current, []).extend(parse_raw_diff(chunk))
        i += count
    return result


# INFO_FORMAT with its four signature fields left empty: nothing for git to verify.
LISTING_FORMAT = (
    INFO_FORMAT.replace("%G?", "").replace("%GS", "").replace("%GK", "").replace("%GF", "")
)
NOT_READ = ""  # signature_status of a listed commit whose signature was not read


def list_range(
    base: str | None, head: str, *, cwd: Path | None = None
) -> list[tuple[CommitInfo, list[str]]]:
    """Every commit in base..head, oldest first, with its parents; signatures not read."""
    spec = [f"{base}..{head}"] if base else [head]
    out = run_git(
        ["log", "--reverse", "--topo-order", f"--format=%x1e{LISTING_FORMAT}", *spec], cwd=cwd
    )
    records = out.decode("utf-8", errors="replace").split("\x1e")
    return [parse_info(r) for r in records if r.strip()]


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
