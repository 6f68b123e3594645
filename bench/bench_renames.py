"""Rename pairing at scale (issue 11, attack 12): a 30,000-recognizer file replaced by the same
recognizers under new names, diffed whole (`config-audit diff`) and in-process.

    .venv/bin/python bench/bench_renames.py [N]

Target: under 2 s for the diff of 30,000 recognizers (the file is ~1.7 MB, under the 2 MB cap).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TOOL = str(BIN / "config-audit")


def generated(n: int, prefix: str) -> str:
    lines = ["recognizers:"]
    for i in range(n):
        lines.append(f"- {{name: {prefix}{i}, supported_entity: E{i % 40}, deny_list: [w{i}]}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    from config_audit.recognizers.diff import diff_sets
    from config_audit.recognizers.parse import parse_bytes

    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp, "old.yaml"), Path(tmp, "new.yaml")
        old.write_text(generated(n, "Old"))
        new.write_text(generated(n, "New"))
        size = new.stat().st_size
        a = parse_bytes(old.read_bytes(), path="old").recognizers
        b = parse_bytes(new.read_bytes(), path="new").recognizers
        start = time.perf_counter()
        changes = diff_sets(a, b)
        in_process = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([TOOL, "diff", str(old), str(new), "--format", "json"], capture_output=True)
        whole = time.perf_counter() - start
    renames = sum(c.kind == "recognizer.renamed" for c in changes)
    print(f"{n:,} recognizers ({size / 1e6:.2f} MB), all renamed: {renames:,} renames paired")
    print(f"  diff_sets in-process: {in_process:.3f} s (target < 2 s)")
    print(f"  config-audit diff, whole CLI (parse, lint, diff, JSON): {whole:.3f} s")


if __name__ == "__main__":
    main()
