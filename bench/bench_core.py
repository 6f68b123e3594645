"""Core speed figures: CLI start-up and the semantic diff of two 1,000-recognizer files.

    .venv/bin/python bench/bench_core.py

Baselines are measured in the same run (machines here are noisy): `python -c pass` for start-up.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TOOL = str(BIN / "config-audit")


def timed(args: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def generated(n: int, seed: int) -> str:
    rng = random.Random(seed)
    lines = ["supported_languages: [en, de]", "global_regex_flags: 26", "recognizers:"]
    for i in range(n):
        lines += [
            f"  - name: Recognizer {i}",
            f"    supported_entity: ENTITY_{i % 50}",
            f"    supported_languages: [{{language: en, context: [w{i}, x{rng.randint(0, 3)}]}}, de]",
            "    patterns:",
            f"      - {{name: p{i}, regex: 'ID{i}-\\d{{{rng.randint(3, 9)}}}', score: {rng.randint(1, 9) / 10}}}",
            f"      - {{name: q{i}, regex: 'Q{i}-[A-Z]{{{rng.randint(2, 4)}}}', score: 0.5}}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    runs = 15
    baseline = timed([sys.executable, "-c", "pass"], runs)
    help_time = timed([TOOL, "--help"], runs)
    print(f"python -c pass         : {baseline * 1000:7.1f} ms (baseline)")
    print(f"config-audit --help    : {help_time * 1000:7.1f} ms  (target < 150 ms)")
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp, "old.yaml"), Path(tmp, "new.yaml")
        old.write_text(generated(1000, 1))
        new.write_text(generated(1000, 2))
        diff_time = timed([TOOL, "diff", str(old), str(new), "--format", "json"], 5)
        same = timed([TOOL, "diff", str(old), str(old)], 5)
        from config_audit.recognizers.diff import diff_sets
        from config_audit.recognizers.parse import parse_bytes

        start = time.perf_counter()
        a = parse_bytes(old.read_bytes(), path="old").recognizers
        b = parse_bytes(new.read_bytes(), path="new").recognizers
        parsed = time.perf_counter()
        changes = diff_sets(a, b)
        done = time.perf_counter()
    print(f"diff 1,000 vs 1,000 recognizers (2,000 instances each), whole CLI: {diff_time:.3f} s "
          f"(target < 1 s); {len(changes)} changes")
    print(f"  in-process: parse both {parsed - start:.3f} s, diff {done - parsed:.3f} s")
    print(f"diff of a file with itself, whole CLI: {same:.3f} s")


if __name__ == "__main__":
    main()
