"""Benchmark: config-audit validation vs a bare script using Presidio's own loader.

Runs both as fresh processes, interleaved, N times each, in the same run, and prints medians:

  bare      python: import presidio; RecognizerRegistryProvider(conf_file).create_recognizer_registry;
            AnalyzerEngine(no_op); one analyze per language
  validate  python: Validator().load(file) (parent start + warm worker spawn + load + checks)

Then 50 loads in one Validator (one worker, so one Presidio import).

    .venv/bin/python bench/bench_validate.py [--runs 7] [FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = r"""
import os, sys
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
os.environ["TLDEXTRACT_CACHE"] = ""
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider
reg = RecognizerRegistryProvider(conf_file=sys.argv[1]).create_recognizer_registry()
nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "no_op", "models": [
    {"lang_code": l, "model_name": "no_op"} for l in reg.supported_languages]}).create_engine()
engine = AnalyzerEngine(registry=reg, nlp_engine=nlp, supported_languages=reg.supported_languages)
for lang in reg.supported_languages:
    engine.analyze(text="John's card 4111111111111111, mail a@example.co.uk", language=lang)
"""

OURS = r"""
import sys
from pathlib import Path
from config_audit.model import ConfigFormat
from config_audit.validate import Validator
samples = Path(sys.argv[2]) if len(sys.argv) > 2 else None
with Validator(samples_path=samples) as v:
    result = v.load(Path(sys.argv[1]).read_bytes(), path=sys.argv[1], fmt=ConfigFormat.REGISTRY)
assert result.valid, result.findings
"""

MANY = r"""
import json, sys, time
from pathlib import Path
from config_audit.model import ConfigFormat
from config_audit.validate import Validator
data = Path(sys.argv[1]).read_bytes()
t0 = time.perf_counter()
with Validator() as v:
    first = None
    for i in range(50):
        t = time.perf_counter()
        # a different version each time, as a hook or watcher would see
        r = v.load(data + f"# version {i}\n".encode(), path=f"v{i}.yaml", fmt=ConfigFormat.REGISTRY)
        assert r.valid, r.findings
        if first is None:
            first = time.perf_counter() - t
    workers = v.workers_started
total = time.perf_counter() - t0
print(json.dumps({"total_s": total, "first_s": first, "rest_mean_s": (total - first) / 49,
                  "workers_started": workers}))
"""


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ROOT / "recognizers" / "registry.yaml"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    samples = str(ROOT / "recognizers" / "samples.yaml")
    timed([py, "-c", BARE, args.file])  # warm the OS page cache for both
    bare, ours, ours_samples = [], [], []
    for _ in range(args.runs):
        bare.append(timed([py, "-c", BARE, args.file]))
        ours.append(timed([py, "-c", OURS, args.file]))
        ours_samples.append(timed([py, "-c", OURS, args.file, samples]))
    b, o, s = (statistics.median(x) for x in (bare, ours, ours_samples))
    print(f"file: {args.file}  runs: {args.runs} (medians, fresh processes, interleaved)")
    print(f"  bare presidio load+analyze : {b:.3f} s   {[round(x, 3) for x in bare]}")
    print(f"  Validator.load             : {o:.3f} s   ratio {o / b:.2f}x")
    print(f"  Validator.load + samples   : {s:.3f} s   ratio {s / b:.2f}x")
    out = subprocess.run(
        [py, "-c", MANY, args.file], check=True, cwd=ROOT, capture_output=True, text=True
    )
    many = json.loads(out.stdout)
    print(
        f"  50 files in one Validator  : {many['total_s']:.2f} s total, first {many['first_s']:.3f} s"
        f" (incl. worker start), then {many['rest_mean_s'] * 1000:.1f} ms/file;"
        f" workers started (Presidio imports): {many['workers_started']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
