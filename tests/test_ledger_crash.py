"""Crash safety: writers SIGKILLed at random moments never lose an acknowledged record."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from config_audit.ledger.keys import generate_key
from config_audit.ledger.log import Ledger
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.lines import LineCheck
from config_audit.ledger.verify.log import check_log_bytes

PADS = [10, 1000, 16_000]

WRITER = r"""
import os, sys
from pathlib import Path
from config_audit.ledger.log import Ledger
from config_audit.ledger.records import build_record_body
from config_audit.ledger.keys import load_signer
signer = load_signer(path=Path(sys.argv[2]), environ={})
ledger = Ledger(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
big = "x" * int(sys.argv[3])  # large records make a kill inside write() likely
while True:
    record = ledger.append(build_record_body(source="manual", path="p.yaml",
                                             extra={"pad": big}), signer)
    print(record["seq"], flush=True)  # only after append returned: acknowledged
"""


def spawn(log: Path, key: Path, pad: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log), str(key), str(pad)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc  # started now, awaited later: its start-up overlaps the previous run


def test_sigkill_at_random_moments_200_times(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "key.pem", owner="crash-test")
    trusted = TrustedKeys([key.trusted])
    log = tmp_path / "log.jsonl"
    rng = random.Random(1234)
    acknowledged: set[int] = set()
    cache: dict[bytes, LineCheck] = {}
    spare = spawn(log, key.path, rng.choice(PADS))
    for _ in range(200):
        proc, spare = spare, spawn(log, key.path, rng.choice(PADS))
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged.update(int(x) for x in out.split())
        Ledger(log).recover()  # what the next writer does on open
        data = log.read_bytes() if log.exists() else b""
        report = check_log_bytes(data, trusted, cache=cache)
        assert report.ok, report.to_dict()
        seqs = {json.loads(line)["seq"] for line in data.splitlines()}
        assert acknowledged <= seqs
        assert seqs == set(range(1, len(seqs) + 1))
    spare.kill()
    spare.communicate()
    assert len(acknowledged) > 200
