"""How many git processes one hook run costs (issue 15: they are most of a warm commit's time).

Real git underneath: a `git` on git's exec path that notes who ran it and execs the real one
(git puts its exec path first on a hook's PATH, so a wrapper only on PATH would be bypassed).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo

# The figures after issue 15 (before: 15 and 23). Lower is welcome; higher is a regression.
MOST = {"pre-commit": 5, "post-commit": 7}


def counting_git(tmp: Path) -> tuple[dict[str, str], Path]:
    """An exec path whose `git` logs its parent's command line, then runs the real git."""
    real = Path(
        subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout.strip()
    )
    real_git = real / "git"
    exec_path = tmp / "git-exec"
    exec_path.mkdir()
    for entry in real.iterdir():
        if entry.name != "git":
            (exec_path / entry.name).symlink_to(entry)
    log = tmp / "git-calls.log"
    wrapper = exec_path / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\t%s\\n" "$(tr "\\0" " " </proc/$PPID/cmdline)" "$*" >> {log}\n'
        f'exec {real_git} "$@"\n'
    )
    wrapper.chmod(0o755)
    return {"GIT_EXEC_PATH": str(exec_path), "PATH": f"{exec_path}:"}, log


def per_hook(log: Path) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    calls = []
    for line in log.read_text().splitlines():
        parent, _, args = line.partition("\t")
        for name in MOST:
            if f"hook {name}" in parent:  # run by the hook's Python, not by its shell shim
                counts[name] += 1
                calls.append(f"{name}: git {args}")
    return counts, calls


def commit_counted(repo: Repo, tmp: Path, message: str) -> tuple[Counter[str], list[str]]:
    extra, log = counting_git(tmp)
    saved = repo.env
    repo.env = {**saved, **extra, "PATH": extra["PATH"] + saved["PATH"]}
    try:
        done = repo.commit(message)
    finally:
        repo.env = saved
    assert done.returncode == 0, done.stderr
    return per_hook(log)


def test_a_commit_of_one_recognizer_file_costs_few_git_processes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    assert repo.commit("initial").returncode == 0
    records = len(repo.log.read_text().splitlines())
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    counts, calls = commit_counted(repo, tmp_path, "context")
    assert set(counts) == set(MOST), calls  # both hooks ran and asked git
    for name, most in MOST.items():
        assert counts[name] <= most, "\n".join(c for c in calls if c.startswith(name))
    # and the work was done: the change recorded, its note attached
    assert len(repo.log.read_text().splitlines()) > records
    note = repo.git("notes", "--ref=config-audit", "show", "HEAD", check=False)
    assert note.returncode == 0 and note.stdout.strip()
