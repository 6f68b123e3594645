"""`make bench`: every benchmark, one after the other (each prints its own figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = ["bench_core.py", "bench_validate.py", "bench_git.py", "bench_ledger.py",
           "bench_watcher.py", "bench_export.py", "bench_ci_scale.py", "bench_warm.py",
           "bench_imports.py", "bench_watch_flood.py", "bench_ci_globs.py", "bench_worker_start.py"]

if __name__ == "__main__":
    failed = []
    for name in BENCHES:
        print(f"\n===== {name}", flush=True)
        if subprocess.run([sys.executable, str(HERE / name)]).returncode != 0:
            failed.append(name)
    sys.exit(f"failed: {failed}" if failed else 0)
