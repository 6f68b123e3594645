"""The warm validator (issue 15.2), every figure a ratio to a baseline measured in the same run.

    .venv/bin/python bench/bench_warm.py [--runs 7]

Baseline: a fresh `python -c "import presidio_analyzer"` (wall time). Interleaved with it, each
run: a commit touching one recognizer file (a new version each time, so no cached verdict) with
the repository's warm validator running, and `config-audit validate` of that file. Goals: commit
<= 0.3x, validate <= 0.2x. For reference the same two without a warm validator
(CONFIG_AUDIT_WARM_IDLE_S=0, as before), and a commit touching no recognizer file both ways
(the shims never start Python for it: it must not change).

The commit case runs both hooks through the repository's hook runner once the first in-process
hook started it (`config_audit.hookrunner`): each hook is a fork of a process that has imported
the tool, so what is left is the client (~15 ms), git, and the hook's own work (~40-50 ms each).

Last measured (quiet machine, load 0.6, --runs 7), wave 2 session 3:
  import presidio_analyzer 1390 ms; commit, warm 200 ms (0.14x, goal 0.3; before the hook
  runner 494-528 ms, 0.36x); validate, warm 192 ms (0.14x, goal 0.2); commit with no server
  1757 ms (1.26x); a commit touching no recognizer file 18 ms either way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gitfixtures import RECOGNIZERS, make_repo  # noqa: E402


def wall(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def presidio_import() -> None:
    env = {**os.environ, "TLDEXTRACT_CACHE": "", "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    subprocess.run([sys.executable, "-c", "import presidio_analyzer"], env=env, check=True)


def wait_warm(repo) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        shown = repo.run("server", "status")
        if shown.returncode == 0 and "(starting)" not in shown.stdout:
            return
        time.sleep(0.2)
    raise SystemExit("the warm validator did not become warm")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        repo = make_repo(Path(tmp))
        warm_env = {**repo.env, "CONFIG_AUDIT_WARM_IDLE_S": "900"}
        cold_env = {**repo.env, "CONFIG_AUDIT_WARM_IDLE_S": "0"}
        repo.env = warm_env
        assert repo.commit("initial").returncode == 0  # starts the warm validator
        wait_warm(repo)
        target = repo.path / "recognizers" / "custom.yaml"
        counter = [0]

        def commit(env: dict[str, str]) -> Callable[[], None]:
            def run() -> None:
                counter[0] += 1
                target.write_text(RECOGNIZERS.replace("[employee]", f"[employee, w{counter[0]}]"))
                repo.env = env
                done = repo.commit(f"c{counter[0]}")
                assert done.returncode == 0, done.stderr

            return run

        def validate(env: dict[str, str]) -> Callable[[], None]:
            def run() -> None:
                repo.env = env
                done = repo.run("validate", "recognizers/custom.yaml")
                assert done.returncode == 0, done.stdout + done.stderr

            return run

        def readme(env: dict[str, str]) -> Callable[[], None]:
            def run() -> None:
                with open(repo.path / "README.md", "a") as fh:
                    fh.write("x\n")
                repo.env = env
                assert repo.commit("docs").returncode == 0

            return run

        cases = {
            "import presidio_analyzer": presidio_import,
            "commit, one recognizer file, warm": commit(warm_env),
            "validate one file, warm": validate(warm_env),
            "commit, one recognizer file, no server": commit(cold_env),
            "validate one file, no server": validate(cold_env),
            "commit, no recognizer file, warm on": readme(warm_env),
            "commit, no recognizer file, warm off": readme(cold_env),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):  # interleaved: load changes hit every case alike
            for name, fn in cases.items():
                times[name].append(wall(fn))
        repo.env = warm_env
        served = repo.run("server", "status").stdout.strip()
        repo.run("server", "stop")
    load = os.getloadavg()
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base = med["import presidio_analyzer"]
    print(f"warm validator, median of {runs} interleaved runs; load average {load[0]:.2f}")
    goals = {"commit, one recognizer file, warm": 0.3, "validate one file, warm": 0.2}
    for name, value in med.items():
        goal = f"  (goal <= {goals[name]})" if name in goals else ""
        print(f"  {name:40s} {value * 1000:8.1f} ms  {value / base:5.2f}x{goal}")
    print(f"  server after the runs: {served}")


if __name__ == "__main__":
    main()
