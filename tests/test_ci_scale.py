"""`config-audit ci` costs what its audited commits cost (issue 15): commits that touch nothing
audited add no git process and change no verdict. The processes are counted by a `git` on PATH
that notes each call and execs the real git."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo


def filler(repo: Repo, count: int, tag: str) -> None:
    """`count` commits on main that touch only docs/, every fourth a merge of a one-commit side
    branch, written by `git fast-import` (hundreds of `git commit`s would be slow)."""
    tip = repo.head()
    stream, mark = [], 0
    for i in range(count):
        mark += 1
        side = None
        if i % 4 == 3:
            side = f":{mark}"
            stream.append(_commit(f"side-{tag}", mark, f"docs/side-{tag}-{i}.md", tip))
            mark += 1
        stream.append(_commit("main", mark, f"docs/{tag}-{i}.md", tip, merge=side))
        tip = f":{mark}"
    repo.git("fast-import", "--quiet", "--force", input="".join(stream) + "done\n")
    repo.git("reset", "-q", "--hard", "main")


def _commit(branch: str, mark: int, path: str, parent: str, *, merge: str | None = None) -> str:
    lines = [
        f"commit refs/heads/{branch}",
        f"mark :{mark}",
        "author Bob <bob@nw.example> 1767225600 +0000",
        "committer Bob <bob@nw.example> 1767225600 +0000",
        "data 5",
        "docs",
        f"from {parent}",
        *([f"merge {merge}"] if merge else []),
        f"M 100644 inline {path}",
        f"data {len(path) + 1}",
        path,
    ]
    return "\n".join(lines) + "\n"


def history(tmp: Path, unaudited: int) -> tuple[Repo, str]:
    """The same recognizer history (two edits on main, one on a merged branch: the merge is
    looked at, against both parents, and brings nothing the range does not audit itself) with
    `unaudited` docs commits before, between and after them."""
    repo = make_repo(tmp, hooks=False)
    assert repo.commit("base").returncode == 0
    base = repo.head()
    for i in range(2):
        filler(repo, unaudited, f"before{i}")
        repo.write(
            "recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", f"[employee, w{i}]")
        )
        assert repo.commit(f"recognizer v{i}").returncode == 0
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("recognizer on a branch", author="bob").returncode == 0
    repo.git("checkout", "-q", "main")
    filler(repo, unaudited, "between")
    assert repo.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature").returncode == 0
    filler(repo, unaudited, "after")
    return repo, base


def counted_ci(repo: Repo, base: str, tmp: Path) -> tuple[list[str], list[str], dict]:
    """The git calls one `config-audit ci` run makes, the lines it feeds them on stdin (commits
    for `--stdin`: the work each call is given) and its JSON output."""
    calls, fed, wrapper = tmp / "git-calls", tmp / "git-stdin", tmp / "counting-bin"
    wrapper.mkdir()
    git = shutil.which("git")
    (wrapper / "git").write_text(
        f'#!/bin/sh\necho "$*" >> "{calls}"\n'
        f'case "$*" in *--stdin*) tee -a "{fed}" | "{git}" "$@"; exit $?;; esac\n'
        f'exec "{git}" "$@"\n'
    )
    (wrapper / "git").chmod(0o755)
    env = {**repo.env, "PATH": f"{wrapper}:{repo.env['PATH']}"}
    args = ["ci", "--base", base, "--log", str(tmp / "ci.jsonl"), "--format", "json"]
    out = subprocess.run(
        [repo.env["PATH"].split(":")[0] + "/config-audit", *args],
        cwd=repo.path,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    stdin = fed.read_text().splitlines() if fed.exists() else []
    return calls.read_text().splitlines(), stdin, json.loads(out.stdout)


def verdicts(data: dict) -> list[tuple[str, bool, list[str]]]:
    return [
        (f["path"], f["blocked"], sorted(ch["kind"] for ch in f["changes"]))
        for c in data["commits"]
        for f in c["files"]
    ]


def test_ci_gives_git_no_work_per_unaudited_commit(tmp_path: Path) -> None:
    """As many git processes, and as many commits handed to them on stdin (diffs, signatures),
    for 200 more commits that touch nothing audited; the same verdicts."""
    (tmp_path / "small").mkdir()
    (tmp_path / "large").mkdir()
    small, small_base = history(tmp_path / "small", 0)
    large, large_base = history(tmp_path / "large", 40)
    small_calls, small_fed, small_data = counted_ci(small, small_base, tmp_path / "small")
    large_calls, large_fed, large_data = counted_ci(large, large_base, tmp_path / "large")
    assert large_data["commits_scanned"] == small_data["commits_scanned"] + 4 * 40 + 4 * 10
    assert len(small_data["commits"]) == len(large_data["commits"]) == 3
    assert verdicts(small_data) == verdicts(large_data)
    assert len(large_calls) == len(small_calls), (
        Counter(call.split()[0] for call in small_calls),
        Counter(call.split()[0] for call in large_calls),
    )
    assert len(large_fed) == len(small_fed), (small_fed, large_fed)


def test_the_listing_misses_no_commit_that_changes_an_audited_or_trust_path(
    tmp_path: Path,
) -> None:
    """Odd names cannot hide a change from git's listing: a name made to look like a commit
    header, upper case, a Unicode letter the glob rule folds (`ſ` is `s`), trust files deep in
    the tree; a docs-only commit, or one whose first path starts with a newline and the
    prefix, is no candidate."""
    from config_audit.audit.git_range import path_filter
    from config_audit.audit.git_settings import TrustView
    from config_audit.audit.pipeline import Auditor
    from config_audit.git import history
    from config_audit.settings import load_settings

    repo = make_repo(tmp_path, hooks=False)
    assert repo.commit("base").returncode == 0
    base = repo.head()
    made = {}
    cases = {
        "forged header": [
            "\0\0".join(["docs/x", ">" + "0" * 40]).replace("\0", "_"),
            f"\x01>{'a' * 40} {'b' * 40}",
            "recognizers/custom.yaml",
        ],
        "upper case": ["RECOGNIZERS/Extra.YAML"],
        "long s": ["recognizerſ/x.yaml"],
        "newline first": ["\nrecognizers.md"],
        "attributes deep": ["docs/deep/.gitattributes"],
        "second settings": ["sub/dir/.config-audit.yaml"],
        "docs only": ["docs/readme.md"],
    }
    for i, (name, paths) in enumerate(cases.items()):
        for path in paths:
            target = repo.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(RECOGNIZERS.replace("[employee]", f"[employee, w{i}]"))
        assert repo.commit(name).returncode == 0, name
        made[repo.head()] = name
    settings = load_settings(repo.path / ".config-audit.yaml")
    auditor = Auditor(settings)
    paths = path_filter(["recognizers/**/*.yaml"], TrustView(auditor, repo.path))
    listing = history.list_range(base, "HEAD", cwd=repo.path, paths=paths)
    assert listing.commits == list(made) and listing.boundary == [base]
    found = {made[sha] for sha, _ in listing.candidates}
    assert found == set(cases) - {"docs only", "newline first"}, found
