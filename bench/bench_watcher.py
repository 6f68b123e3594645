"""Watcher speed: edit-to-record latency (validation warm) and idle cost over 1,000 files.

    .venv/bin/python bench/bench_watcher.py [--edits 30] [--idle-s 30] [--files 1000]

Latency: an in-process daemon with a warm Presidio validator and the default 0.5 s debounce;
each edit is timed from the end of the write to its record being on disk (polling the log).
Idle: `config-audit watch` as a real process over N files, CPU (utime+stime, incl. children)
over the idle window and peak RSS. Targets: p95 < debounce + 500 ms; < 1 % CPU; < 150 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_watcher_support import make_daemon, recognizer, sha, write_config


def latency(edits: int) -> dict[str, float]:
    from config_audit.validate import Validator

    with tempfile.TemporaryDirectory() as tmp, Validator(samples_path=None) as validator:
        root = Path(tmp)
        (root / "recognizers").mkdir()
        files = [root / "recognizers" / f"r{i}.yaml" for i in range(5)]
        for f in files:
            f.write_text(recognizer(0.5))
        daemon = make_daemon(root, validator=validator, watch={"debounce_s": 0.5})
        daemon.start()  # the baseline warms the validator
        log = daemon.options.log_path
        samples = []
        try:
            for n in range(edits):
                text = recognizer(round(0.3 + (n % 50) / 100, 2)) + f"# edit {n}\n"
                digest = sha(text).encode()
                files[n % len(files)].write_text(text)
                t0 = time.perf_counter()
                while digest not in log.read_bytes()[-8192:]:
                    time.sleep(0.002)
                samples.append(time.perf_counter() - t0)
        finally:
            daemon.stop()
    samples.sort()
    return {
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": samples[max(0, round(0.95 * len(samples)) - 1)] * 1000,
        "max_ms": samples[-1] * 1000,
    }


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])  # utime stime cutime cstime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle(files: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_config(root, watch={"debounce_s": 0.5})
        for i in range(files):
            d = root / "recognizers" / f"team{i % 20}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"r{i}.yaml").write_text(recognizer(0.5))
        err = root / "stderr.txt"
        with err.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "config_audit", "-v", "watch", "--no-presidio"],
                cwd=root,
                stderr=fh,
                stdout=subprocess.DEVNULL,
            )
        try:
            t0 = time.perf_counter()
            while "watching" not in err.read_text():
                if proc.poll() is not None:
                    raise SystemExit(err.read_text())
                time.sleep(0.05)
            startup = time.perf_counter() - t0
            time.sleep(1)
            hz = os.sysconf("SC_CLK_TCK")
            c0, w0 = cpu_ticks(proc.pid), time.perf_counter()
            time.sleep(seconds)
            c1, w1 = cpu_ticks(proc.pid), time.perf_counter()
            rss = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return {
        "startup_with_baseline_s": startup,
        "cpu_percent": 100 * (c1 - c0) / hz / (w1 - w0),
        "rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    lat = latency(args.edits)
    print(
        f"edit-to-record (debounce 0.5 s, Presidio warm, {args.edits} edits): "
        f"median {lat['median_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms, max {lat['max_ms']:.0f} ms"
        f"  [target p95 < 1000 ms]"
    )
    cost = idle(args.files, args.idle_s)
    print(
        f"idle over {args.files} files for {args.idle_s:.0f} s: "
        f"CPU {cost['cpu_percent']:.2f} % of one core, RSS {cost['rss_mb']:.0f} MB "
        f"(start-up incl. baseline {cost['startup_with_baseline_s']:.1f} s)"
        f"  [targets < 1 %, < 150 MB]"
    )


if __name__ == "__main__":
    main()
