"""What a glob added inside a CI range costs (issue 11): ci over 4,000 docs commits and 2
recognizer edits whose first commit changes the settings, once adding no glob (listed once with
the base's filter) and once adding `extra/*.yaml` (listed again with the union, each audited
commit's parent settings read). Both sides are measured alternately in the same run.

Run: .venv/bin/python bench/bench_ci_globs.py [runs]

Last measured (2 CPUs shared with other test runs, medians after a warm-up): load 3-4.5, 4 runs:
1.55 s vs 2.19 s, ratio 1.42; load 2-2.7, 3 runs: 1.52 s vs 1.97 s, ratio 1.30. The difference
is the second listing and diffs of the whole range, paid only by a range that adds a glob.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo  # noqa: E402
from tests.test_ci_scale import filler  # noqa: E402

GLOBS = "recognizers: ['recognizers/**/*.yaml', 'recognizers/**/*.yml'{extra}]\n"


def build(tmp: Path, *, widen: bool) -> tuple[Repo, str]:
    repo = make_repo(tmp, hooks=False)
    repo.write("extra/custom.yaml", RECOGNIZERS)
    assert repo.commit("base").returncode == 0
    base = repo.head()
    cfg = repo.path / ".config-audit.yaml"  # a settings change either way
    cfg.write_text(cfg.read_text() + GLOBS.format(extra=", 'extra/*.yaml'" if widen else ""))
    assert repo.commit("first").returncode == 0
    for i in range(2):
        filler(repo, 2000, f"f{i}")
        weaker = RECOGNIZERS.replace("score: 0.8", f"score: 0.{7 - i}")
        repo.write("recognizers/custom.yaml", weaker)
        assert repo.commit(f"edit {i}").returncode == 0
    return repo, base


def run(repo: Repo, base: str) -> float:
    start = time.perf_counter()
    out = repo.run(
        "ci", "--base", base, "--log", str(repo.path.parent / "ci.jsonl"), "--format", "json"
    )
    assert out.returncode in (0, 1), out.stderr
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        plain, wide = build(Path(a), widen=False), build(Path(b), widen=True)
        run(*plain), run(*wide)  # warm-up
        p, w = [], []
        for _ in range(runs):
            p.append(run(*plain))
            w.append(run(*wide))
    print(f"no glob added: median {statistics.median(p):.2f} s {[round(x, 2) for x in p]}")
    print(f"glob added:    median {statistics.median(w):.2f} s {[round(x, 2) for x in w]}")
    print(f"ratio {statistics.median(w) / statistics.median(p):.2f}")


if __name__ == "__main__":
    main()
