"""Concurrent writers: 4 processes x 500 appends make one valid chain of 2,000 records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from config_audit.ledger.keys import generate_key
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.log import check_log

WRITER = r"""
import sys
from pathlib import Path
from config_audit.ledger.log import Ledger
from config_audit.ledger.records import build_record_body
from config_audit.ledger.keys import load_signer
signer = load_signer(path=Path(sys.argv[2]), environ={})
ledger = Ledger(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    ledger.append(build_record_body(source="ci", path=f"w{sys.argv[4]}/{i}.yaml"), signer)
"""


def test_four_processes_append_one_chain(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "key.pem", owner="concurrency")
    log = tmp_path / "log.jsonl"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(key.path), "500", str(w)])
        for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    report = check_log(log, TrustedKeys([key.trusted]))
    assert report.ok, report.to_dict()
    assert report.lines == 2000
    for w in range(4):
        assert log.read_text().count(f'"path":"w{w}/') == 500
