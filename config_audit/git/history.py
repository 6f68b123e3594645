"""A pushed range, read at a cost that grows with the commits worth auditing.

`%G?` in a `git log` format makes git run gpg (or ssh-keygen) on every signed commit it lists:
on a history of web-signed merges that is most of CI's time, though only the commits touching
audited files need their signature checked. So the range is listed without signature formats,
and the signatures of the commits that matter are read afterwards, in one git process.
"""

from __future__ import annotations

from pathlib import Path

from config_audit.git.repo import INFO_FORMAT, CommitInfo, _parse_info, _signers_config, run_git

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
    return [_parse_info(r) for r in records if r.strip()]


def signatures_of(
    commits: list[str], *, cwd: Path | None = None, allowed_signers: Path | None = None
) -> dict[str, CommitInfo]:
    """The full facts, signature verified by git, of just these commits: one git process."""
    if not commits:
        return {}
    out = run_git(
        [
            *_signers_config(allowed_signers),
            "log",
            "--no-walk=unsorted",
            "--stdin",
            f"--format=%x1e{INFO_FORMAT}",
        ],
        cwd=cwd,
        input=("\n".join(commits) + "\n").encode(),
    )
    infos = (_parse_info(r)[0] for r in out.decode("utf-8", errors="replace").split("\x1e"))
    return {info.sha: info for info in infos if info.sha}
