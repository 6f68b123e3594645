"""What our own imports cost on the paths that wait for Presidio (issue 15.3), from `-X importtime`.

    .venv/bin/python bench/bench_imports.py [--runs 7]

Each path runs --runs times as a fresh process; a module's cost is its smallest self time over
the runs (a single run under load is noise). Printed per path: total import time, the part that
is ours (config_audit.*), Presidio and its dependencies, and the rest; then our ten costliest
modules. Paths:

  worker      the validation worker's start (`python -m config_audit.validate.worker`, EOF on
              stdin: import Presidio, answer hello, exit), against a bare `import presidio_analyzer`
  validate    `config-audit validate FILE` (the warm validator runs: its client's imports;
              without one, the parent's while its worker imports Presidio)
  pre-commit  `config-audit hook pre-commit` with one staged recognizer file, warm server
  post-commit `config-audit hook post-commit` after it (cached verdict)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gitfixtures import RECOGNIZERS, make_repo  # noqa: E402

PRESIDIO_FAMILY = ("presidio", "spacy", "thinc", "pydantic", "regex", "tldextract", "phonenumbers")


def importtime(args: list[str], *, cwd: Path, env: dict[str, str], runs: int) -> dict[str, int]:
    """Module -> smallest self time (us) over `runs` runs of `python -X importtime ARGS`."""
    best: dict[str, int] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *args],
            cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cum, name = line.removeprefix("import time:").split("|", 2)
            module = name.strip()
            best[module] = min(best.get(module, 1 << 62), int(self_us))
    return best


def report(label: str, best: dict[str, int], baseline: dict[str, int] | None = None) -> None:
    ours = {m: t for m, t in best.items() if m.split(".")[0] == "config_audit"}
    family = {m: t for m, t in best.items() if m.split(".")[0].startswith(PRESIDIO_FAMILY)}
    total = sum(best.values())
    extra = ""
    if baseline is not None:
        beyond = sum(t for m, t in best.items() if m not in baseline)
        extra = f", beyond a bare Presidio import {beyond / 1000:.1f} ms"
    print(
        f"{label:12s} imports {total / 1000:7.1f} ms: ours {sum(ours.values()) / 1000:6.1f} ms, "
        f"Presidio and deps {sum(family.values()) / 1000:7.1f} ms{extra}"
    )
    for module, cost in sorted(ours.items(), key=lambda kv: -kv[1])[:10]:
        print(f"    {cost / 1000:6.1f} ms  {module}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"load average {os.getloadavg()[0]:.2f}; smallest self time of {runs} runs per module")
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "CONFIG_AUDIT_WORKER_TMPDIR": tmp, "TLDEXTRACT_CACHE": ""}
        bare = importtime(["-c", "import presidio_analyzer"], cwd=work, env=env, runs=runs)
        report("bare import", bare)
        worker = importtime(["-m", "config_audit.validate.worker"], cwd=work, env=env, runs=runs)
        report("worker", worker, bare)
        repo = make_repo(work)
        repo.env["CONFIG_AUDIT_WARM_IDLE_S"] = "900"
        assert repo.commit("initial").returncode == 0  # starts the warm validator
        deadline = time.monotonic() + 120  # let its worker finish importing (no CPU contention)
        while time.monotonic() < deadline:
            shown = repo.run("server", "status")
            if shown.returncode == 2 or (shown.returncode == 0 and "starting" not in shown.stdout):
                break  # 2: a version without the warm validator
            time.sleep(0.2)
        hook_env = {**repo.env}
        file = ["recognizers/custom.yaml"]
        validate = ["-m", "config_audit", "validate", *file]
        report("validate", importtime(validate, cwd=repo.path, env=hook_env, runs=runs))
        target = repo.path / "recognizers" / "custom.yaml"
        target.write_text(RECOGNIZERS.replace("[employee]", "[employee, staff]"))
        repo.git("add", "-A")
        pre = ["-m", "config_audit", "hook", "pre-commit"]
        report("pre-commit", importtime(pre, cwd=repo.path, env=hook_env, runs=runs))
        assert repo.git("commit", "-qm", "c", "--no-verify", check=False).returncode == 0
        post = ["-m", "config_audit", "hook", "post-commit"]
        report("post-commit", importtime(post, cwd=repo.path, env=hook_env, runs=runs))
        repo.run("server", "stop")


if __name__ == "__main__":
    main()
