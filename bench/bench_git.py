"""Git front-door speed, every ratio against baselines measured in the same run.

    .venv/bin/python bench/bench_git.py [--commits 200]

1. A commit touching no recognizer file: time added by our hooks vs time added by the
   pre-commit framework with one local hook that matches no file (target: ours <= half).
2. A commit touching one recognizer file vs `config-audit validate` of that file (target <= 1.3x).
3. `ci` over N commits that each change a recognizer file: one Presidio import, and the total vs
   the sum of validating each version alone in a warm process (target <= 1.5x).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.gitfixtures import RECOGNIZERS, make_repo  # noqa: E402


def clock(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def plain_repo(tmp: Path, name: str, env: dict[str, str]) -> Path:
    path = tmp / name
    path.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "a@b"], ["config", "user.name", "A"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True)
    (path / "README.md").write_text("x\n")
    subprocess.run(["git", "add", "-A"], cwd=path, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=path, env=env, check=True)
    return path


def commit_readme(path: Path, env: dict[str, str]) -> None:
    with open(path / "README.md", "a") as fh:
        fh.write("x\n")
    subprocess.run(["git", "commit", "-qam", "docs"], cwd=path, env=env, check=True,
                   capture_output=True)


def no_recognizer_commit(tmp: Path, runs: int) -> None:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(tmp),
           "PRE_COMMIT_HOME": str(tmp / "pc-home")}
    bare = plain_repo(tmp, "bare", env)
    ours = plain_repo(tmp, "ours", env)
    subprocess.run([str(BIN / "config-audit"), "install-hooks"], cwd=ours, env=env, check=True,
                   capture_output=True)
    framework = plain_repo(tmp, "framework", env)
    (framework / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks:\n      - id: nothing\n        name: nothing\n"
        "        entry: 'true'\n        language: system\n        files: '\\.nomatch$'\n")
    subprocess.run(["git", "add", "-A"], cwd=framework, env=env, check=True)
    subprocess.run([str(BIN / "pre-commit"), "install"], cwd=framework, env=env, check=True,
                   capture_output=True)
    commit_readme(framework, env)  # first run sets up pre-commit's cache
    t_bare = clock(lambda: commit_readme(bare, env), runs)
    t_ours = clock(lambda: commit_readme(ours, env), runs)
    t_fw = clock(lambda: commit_readme(framework, env), runs)
    ours_added, fw_added = t_ours - t_bare, t_fw - t_bare
    print("1. commit touching no recognizer file (median of", runs, "runs)")
    print(f"   git commit, no hooks        : {t_bare * 1000:7.1f} ms")
    print(f"   with our hooks              : {t_ours * 1000:7.1f} ms  (+{ours_added * 1000:.1f} ms)")
    print(f"   with pre-commit framework   : {t_fw * 1000:7.1f} ms  (+{fw_added * 1000:.1f} ms)")
    print(f"   ratio ours/framework added  : {ours_added / fw_added:.2f}  (target <= 0.5)")


def recognizer_commit(tmp: Path, runs: int) -> None:
    (tmp / "one").mkdir()
    repo = make_repo(tmp / "one")
    assert repo.commit("initial").returncode == 0
    target = repo.path / "recognizers" / "custom.yaml"
    n = [0]

    def commit() -> None:
        n[0] += 1
        target.write_text(RECOGNIZERS.replace("[employee]", f"[employee, w{n[0]}]"))
        done = repo.commit(f"c{n[0]}")
        assert done.returncode == 0, done.stderr

    def validate() -> None:
        repo.run("validate", "recognizers/custom.yaml", check=True)

    t_validate = clock(validate, runs)
    t_commit = clock(commit, runs)
    print("2. commit touching one recognizer file (median of", runs, "runs)")
    print(f"   config-audit validate       : {t_validate:.3f} s")
    print(f"   git commit with our hooks   : {t_commit:.3f} s  "
          f"(ratio {t_commit / t_validate:.2f}, target <= 1.3)")


def ci_range(tmp: Path, commits: int) -> None:
    (tmp / "range").mkdir()
    repo = make_repo(tmp / "range", hooks=False)
    assert repo.commit("base").returncode == 0
    base = repo.head()
    versions = []
    for i in range(commits):
        text = RECOGNIZERS.replace("[employee]", f"[employee, w{i}]")
        versions.append(text.encode())
        repo.write("recognizers/custom.yaml", text)
        assert repo.commit(f"c{i}").returncode == 0
    log = tmp / "ci.jsonl"
    start = time.perf_counter()
    out = repo.run("ci", "--base", base, "--log", str(log), "--format", "json")
    t_ci = time.perf_counter() - start
    assert out.returncode == 0, out.stderr
    from config_audit.model import ConfigFormat
    from config_audit.validate import Validator

    with Validator() as validator:
        validator.load(versions[0], path="warm.yaml", fmt=ConfigFormat.ADHOC)  # warm-up
        start = time.perf_counter()
        for data in versions:
            validator.load(data, path="recognizers/custom.yaml", fmt=ConfigFormat.ADHOC)
        t_sum = time.perf_counter() - start
        starts = validator.pool.starts if hasattr(validator, "pool") else None
    print(f"3. ci over {commits} commits, each changing a recognizer file")
    print(f"   config-audit ci (whole run)          : {t_ci:.2f} s")
    print(f"   sum of warm validations of versions  : {t_sum:.2f} s")
    print(f"   ratio                                : {t_ci / t_sum:.2f}  (target <= 1.5)")
    print(f"   records written: {len(log.read_text().splitlines())}; baseline worker starts: {starts}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        no_recognizer_commit(tmp, args.runs * 3)
        recognizer_commit(tmp, args.runs)
        ci_range(tmp, args.commits)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
