"""Git front-door speed, every ratio against baselines measured in the same run.

    .venv/bin/python bench/bench_git.py [--commits 200]

1. A commit touching no recognizer file: time added by our hooks vs time added by the
   pre-commit framework with one local hook that matches no file (target: ours <= half).
2. A commit touching one recognizer file vs `config-audit validate` of that file (target <= 1.3x).
3. `ci` over N commits that each change a recognizer file: one Presidio import, and the total vs
   the sum of validating each version alone in a warm process (target <= 1.5x). Also shown: the
   bare Presidio import, and the marginal ratio over commits N+1..2N (the import is paid once).
"""

from __future__ import annotations

import argparse
import os
import re
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


def ci_range(tmp: Path, commits: int, template: str, label: str, runs: int = 3) -> None:
    """`ci` over N and 2N commits, and the sum of validating each version alone (warm)."""
    where = Path(tempfile.mkdtemp(dir=tmp))
    repo = make_repo(where, hooks=False)
    repo.write("recognizers/custom.yaml", template)
    assert repo.commit("base").returncode == 0
    base = repo.head()
    versions, tips = [], []
    for i in range(2 * commits):
        text = template.replace("context: [", f"context: [w{i}, ", 1)
        versions.append(text.encode())
        repo.write("recognizers/custom.yaml", text)
        assert repo.commit(f"c{i}").returncode == 0
        tips.append(repo.head())

    def run_ci(n: int) -> tuple[float, int]:
        times, imports = [], 0
        for run in range(runs):
            log = where / f"ci-{n}-{run}.jsonl"
            env = {**repo.env, "CONFIG_AUDIT_LOG_LEVEL": "DEBUG"}
            start = time.perf_counter()
            out = subprocess.run(
                [str(BIN / "config-audit"), "ci", "--base", base, "--head", tips[n - 1],
                 "--log", str(log), "--format", "json"],
                cwd=repo.path, env=env, capture_output=True, text=True, check=False,
            )
            times.append(time.perf_counter() - start)
            assert out.returncode == 0, out.stdout[-2000:]
            assert len(log.read_text().splitlines()) == n
            imports = max(imports, len(re.findall(r"validation worker \d+ started", out.stderr)))
        return statistics.median(times), imports

    t_ci, imports = run_ci(commits)
    t_ci2, _ = run_ci(2 * commits)
    alone = validation_times(versions, memo=False)
    warm = validation_times(versions[:commits], memo=True)
    t_import = presidio_import_time()
    t_alone, t_alone2 = sum(alone[:commits]), sum(alone)
    print(f"3. ci over N={commits} commits, each changing a recognizer file ({label})")
    print(f"   Presidio imports during ci               : {imports}  (target: one)")
    print(f"   config-audit ci, N commits (median of {runs}) : {t_ci:.2f} s")
    print(f"   config-audit ci, 2N commits (median of {runs}): {t_ci2:.2f} s")
    print(f"   sum of validating each version alone      : {t_alone:.2f} s "
          f"({1000 * t_alone / commits:.1f} ms each: parse, lint, load, samples)")
    print(f"   same, versions sharing one warm process   : {sum(warm):.2f} s")
    print(f"   import presidio_analyzer (bare python)    : {t_import:.2f} s")
    print(f"   ratio ci / sum alone                      : {t_ci / t_alone:.2f}  (target <= 1.5)")
    print(f"   ratio (ci - one import) / sum alone       : {(t_ci - t_import) / t_alone:.2f}")
    marginal = (t_ci2 - t_ci) / (t_alone2 - t_alone)
    print(f"   marginal ratio, commits N+1..2N           : {marginal:.2f}")


def validation_times(versions: list[bytes], *, memo: bool) -> list[float]:
    """What `config-audit validate` does for each version, in one warm process, timed each.
    memo=False: no regex verdict carried from one version to the next (each version alone)."""
    from config_audit.audit.check import check_bytes
    from config_audit.model import ConfigFormat
    from config_audit.validate import Validator

    os.environ["CONFIG_AUDIT_WORKER_MEMO"] = "1" if memo else "0"
    times = []
    with Validator() as validator:
        check_bytes(versions[0], path="warm.yaml", fmt=ConfigFormat.ADHOC, validator=validator)
        for data in versions:
            start = time.perf_counter()
            check_bytes(
                data, path="recognizers/custom.yaml", fmt=ConfigFormat.ADHOC, validator=validator
            )
            times.append(time.perf_counter() - start)
        assert validator.workers_started == 1
    del os.environ["CONFIG_AUDIT_WORKER_MEMO"]
    return times


def presidio_import_time() -> float:
    code = "import time; t = time.perf_counter(); import presidio_analyzer; " \
        "print(time.perf_counter() - t)"
    env = {**os.environ, "TLDEXTRACT_CACHE": "", "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    runs = [
        float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout)
        for _ in range(3)
    ]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", choices=["hook", "commit", "ci"], help="run one part")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        if args.only in (None, "hook"):
            no_recognizer_commit(tmp, args.runs * 3)
        if args.only in (None, "commit"):
            recognizer_commit(tmp, args.runs)
        if args.only in (None, "ci"):
            ci_range(tmp, args.commits, RECOGNIZERS, "tests' 2-recognizer fixture")
            real = (ROOT / "bench" / "fixtures" / "fr_recognizers.yaml").read_text("utf-8")
            ci_range(tmp, args.commits, real, "a corpus file: 10 recognizers, 11 patterns")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
