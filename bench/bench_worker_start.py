"""Benchmark: the validation worker's start-up, `python -m config_audit.validate.worker` (how it
was started before issue 16) against `python <bundle>` (validate/bundle.py, how it starts now).

Interleaved fresh processes; prints medians of wall time and of the child's CPU time (user+sys,
much less sensitive to other load on the machine) from spawn to its ready lines.

    .venv/bin/python bench/bench_worker_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from config_audit.validate.bundle import worker_bundle


def start(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds from spawn to the hello and imports lines."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CONFIG_AUDIT_WORKER_TMPDIR": tmp,
            "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
            "TLDEXTRACT_CACHE": "",
        }
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tmp,
        )
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdout.readline()
        proc.stdout.readline()
        wall = time.perf_counter() - started
        proc.stdin.close()
        proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    bundle = str(worker_bundle())
    module: list[tuple[float, float]] = []
    bundled: list[tuple[float, float]] = []
    for _ in range(args.runs):
        module.append(start([sys.executable, "-m", "config_audit.validate.worker"]))
        bundled.append(start([sys.executable, bundle]))
    for i, what in ((0, "wall"), (1, "CPU ")):
        m = statistics.median(x[i] for x in module)
        b = statistics.median(x[i] for x in bundled)
        print(f"{what}: -m worker {m:.3f} s   bundle {b:.3f} s   ratio {b / m:.3f}")
    print(f"runs: {args.runs}, load: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
