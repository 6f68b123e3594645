"""Bench: verify of N records vs Ed25519-verifying the same N signatures alone; append latency.

    .venv/bin/python bench/bench_ledger.py [--records 100000] [--appends 300]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from config_audit.ledger.log import Ledger, seal
from config_audit.ledger.records import GENESIS_HASH, SIGNING_DOMAIN, build_record_body, split_line
from config_audit.ledger.signing import Ed25519Signer, TrustedKey, TrustedKeys
from config_audit.ledger.verify.log import check_log


def body(i: int) -> dict[str, object]:
    return build_record_body(
        source="ci",
        path=f"recognizers/r{i % 13}.yaml",
        commit=f"{i:040x}",
        changes=[
            {
                "kind": "pattern.score_lowered",
                "impact": "weakens",
                "recognizer": f"Rec{i % 50} [en]",
                "summary": "score 0.8 -> 0.3",
                "entities": ["EMAIL_ADDRESS"],
                "before": "0.8",
                "after": "0.3",
                "level": "declared",
            }
        ],
        validation={"valid": True, "presidio_version": "2.2.366", "findings": []},
        policy={"verdict": "pass", "violations": []},
        author={"claimed_author": "dev <dev@example.com>", "assurance": "claimed"},
        now=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=i),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=300)
    args = parser.parse_args()
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    trusted = TrustedKeys([TrustedKey(signer.key_id, signer.public_key, "bench")])
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        t = time.perf_counter()
        prev, out = GENESIS_HASH, []
        for i in range(1, args.records + 1):
            _, line, prev = seal(body(i), signer, seq=i, prev_hash=prev)
            out.append(line + b"\n")
        log.write_bytes(b"".join(out))
        print(f"generated {args.records} records in {time.perf_counter() - t:.1f}s "
              f"({log.stat().st_size / 1e6:.1f} MB)")  # fmt: skip

        # Baseline: only the Ed25519 verifications, payloads prepared beforehand, one core.
        public = Ed25519PublicKey.from_public_bytes(signer.public_key)
        pairs = []
        for line in out:
            record, signed = split_line(line[:-1])
            pairs.append((base64.b64decode(record["signature"]), SIGNING_DOMAIN + signed))
        # Other processes share the machine: interleave the runs and keep each one's best.
        sig_runs, full_runs, single_runs = [], [], []
        for _ in range(2):
            t = time.perf_counter()
            for signature, payload in pairs:
                public.verify(signature, payload)
            sig_runs.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = check_log(log, trusted)
            full_runs.append(time.perf_counter() - t)
            assert report.ok, report.findings[:3]
            t = time.perf_counter()
            assert check_log(log, trusted, workers=1).ok
            single_runs.append(time.perf_counter() - t)
        sig_only, full, single = min(sig_runs), min(full_runs), min(single_runs)
        print(f"Ed25519 verify only, {args.records} signatures: {sig_only:.2f}s")
        print(f"config-audit verify (auto workers):   {full:.2f}s  ratio {full / sig_only:.2f}x")
        print(f"config-audit verify (1 process):      {single:.2f}s  ratio {single / sig_only:.2f}x")

        ledger = Ledger(Path(tmp) / "append.jsonl")
        times = []
        for i in range(args.appends):
            t = time.perf_counter()
            ledger.append(body(i), signer)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"durable append ({args.appends}x, lock+fsync): median {statistics.median(times):.2f} ms, "
              f"p95 {times[int(len(times) * 0.95)]:.2f} ms")  # fmt: skip
        # Checkpoint refresh after an append (hooks, CI and the watcher's heartbeat do this):
        # the first reads the whole log, later ones only the new records.
        from config_audit.ledger.treehead import refresh_checkpoint

        t = time.perf_counter()
        refresh_checkpoint(log, signer)
        first = time.perf_counter() - t
        again = []
        for i in range(20):
            Ledger(log).append(body(args.records + 1 + i), signer)
            t = time.perf_counter()
            refresh_checkpoint(log, signer)
            again.append((time.perf_counter() - t) * 1000)
        print(f"checkpoint refresh of {args.records} records: first {first:.2f}s, then median "
              f"{statistics.median(again):.2f} ms per append")  # fmt: skip
        print(json.dumps({"verify_s": round(full, 3), "sig_only_s": round(sig_only, 3),
                          "ratio": round(full / sig_only, 3),
                          "append_median_ms": round(statistics.median(times), 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
