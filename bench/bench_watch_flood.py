"""Watcher cost under a flood of versions of one file (issue 11, attack 15): bounded records.

    .venv/bin/python bench/bench_watch_flood.py [--versions 100 1000 10000] [--presidio]

An in-process daemon (debounce 0.5 s, max delay 5 s) over one recognizer file; each run writes N
distinct versions as fast as it can, then the audited content again, and waits until the log is
quiet. Reported per N: records for the file, versions counted in `versions_coalesced` notes,
seconds from the last write to a quiet log, and that time as a ratio to a single edit measured
in the same run (the baseline), so load on the machine cancels out. Bounded means the records
and the settle ratio stay flat as N grows; only the observer's reads grow with N (until the
per-path cap is hit, after which versions are counted, not read).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_watcher_support import file_records, make_daemon, recognizer, records

PATH = "recognizers/a.yaml"


def quiet(daemon: Any, *, still_s: float = 1.0, timeout_s: float = 120.0) -> None:
    """Until nothing is pending and no record was added for `still_s`."""
    deadline = time.monotonic() + timeout_s
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = len(records(daemon.options.log_path))
        if now_count != count or not daemon.watcher.idle():
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= still_s:
            return
        time.sleep(0.05)
    raise TimeoutError("the log never went quiet")


def run(versions: list[int], validator: Any) -> list[dict[str, float]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "recognizers").mkdir()
        target = root / PATH
        target.write_text(recognizer(0.8))
        daemon = make_daemon(
            root, validator=validator, watch={"debounce_s": 0.5, "max_delay_s": 5.0}
        )
        daemon.start()
        try:
            quiet(daemon)
            t0 = time.perf_counter()
            target.write_text(recognizer(0.7))  # the baseline: one ordinary edit
            quiet(daemon, still_s=0.0)
            baseline = time.perf_counter() - t0
            target.write_text(recognizer(0.8))
            quiet(daemon)
            for n in versions:
                before = len(file_records(daemon.options.log_path, PATH))
                seen = len(records(daemon.options.log_path))
                for i in range(n):
                    target.write_text(recognizer(0.8) + f"# version {i}\n")
                target.write_text(recognizer(0.8))
                t0 = time.perf_counter()
                quiet(daemon, still_s=0.0)
                settle = time.perf_counter() - t0
                notes = records(daemon.options.log_path)[seen:]
                out.append(
                    {
                        "versions": n,
                        "records": len(file_records(daemon.options.log_path, PATH)) - before,
                        "coalesced": sum(
                            int((r.get("extra") or {}).get("versions_coalesced") or 0)
                            for r in notes
                        ),
                        "settle_s": settle,
                        "baseline_s": baseline,
                        "ratio": settle / baseline,
                    }
                )
                quiet(daemon)
        finally:
            daemon.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--presidio", action="store_true", help="validate with a warm Presidio")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (1 min)")
    if args.presidio:
        from config_audit.validate import Validator

        with Validator(samples_path=None) as validator:
            rows = run(args.versions, validator)
    else:
        rows = run(args.versions, None)
    print("versions  records  coalesced  settle_s  baseline_s  settle/baseline")
    for r in rows:
        print(
            f"{r['versions']:>8}  {r['records']:>7}  {r['coalesced']:>9}  {r['settle_s']:>8.2f}"
            f"  {r['baseline_s']:>10.2f}  {r['ratio']:>15.2f}"
        )


if __name__ == "__main__":
    main()
