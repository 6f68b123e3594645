"""Export and shipping throughput on 100,000 real signed records.

Export: records/s per format, and the ratio against `jq -c . log.jsonl` on the same file.
Ship: records/s to a local rsyslog over TCP (octet counting), with lost and duplicated counts.
Usage: .venv/bin/python bench/bench_export.py [--records N]
"""

from __future__ import annotations

import argparse
import io
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_export_support import fixed_signer, simple_bodies

from config_audit.ledger.archive import read_sequence
from config_audit.ledger.entries import Entry
from config_audit.ledger.log import seal
from config_audit.ledger.records import GENESIS_HASH
from config_audit.siem.export import FORMAT_NAMES, export_entries, renderer
from config_audit.siem.ship import Shipper, SyslogTcp


def ensure_tools() -> None:
    root = Path(__file__).resolve().parent.parent
    if not shutil.which("jq") or not shutil.which("rsyslogd"):
        subprocess.run([str(root / "scripts" / "install-test-deps.sh")], check=False)


def write_log(path: Path, count: int) -> None:
    """The ledger's own sealing and signing, written in bulk (no per-record fsync)."""
    signer, prev = fixed_signer(), GENESIS_HASH
    with path.open("wb") as fh:
        for seq, body in enumerate(simple_bodies(count), 1):
            _, line, prev = seal(body, signer, seq=seq, prev_hash=prev)
            fh.write(line + b"\n")


def bench_export(log: Path, count: int) -> None:
    start = time.perf_counter()
    subprocess.run(["jq", "-c", ".", str(log)], check=True, stdout=subprocess.DEVNULL)
    jq = time.perf_counter() - start
    print(f"jq -c . : {count / jq:>10,.0f} records/s ({jq:.2f}s)")
    for fmt in FORMAT_NAMES:
        sink = io.BytesIO()
        start = time.perf_counter()
        n = export_entries(read_sequence(log), renderer(fmt, host="bench"), sink)
        took = time.perf_counter() - start
        assert n == count
        print(f"{fmt:<10}: {n / took:>10,.0f} records/s ({took:.2f}s), {jq / took:.2f}x jq speed")


def bench_ship(log: Path, count: int, work: Path) -> None:
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    conf = work / "rsyslog.conf"
    conf.write_text(
        f'global(workDirectory="{work}" maxMessageSize="256k")\nmodule(load="imtcp")\n'
        f'input(type="imtcp" port="0" listenPortFileName="{work}/port" ruleset="r")\n'
        'template(name="raw" type="string" string="%rawmsg%\\n")\n'
        f'ruleset(name="r") {{ action(type="omfile" file="{work}/received.log" template="raw") }}\n'
    )
    proc = subprocess.Popen([rsyslogd, "-n", "-f", str(conf), "-i", str(work / "pid")])
    try:
        while not (work / "port").exists() or not (work / "port").read_text().strip():
            time.sleep(0.02)
        port = int((work / "port").read_text())
        shipper = Shipper(
            log, SyslogTcp(f"tcp://127.0.0.1:{port}", host=socket.gethostname()), batch=1000
        )
        start = time.perf_counter()
        sent = shipper.ship_once()
        took = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    seen: dict[int, int] = {}
    for line in (work / "received.log").read_bytes().splitlines():
        entry = Entry.from_line(line.split("\ufeff".encode(), 1)[1])
        seen[entry.record["seq"]] = seen.get(entry.record["seq"], 0) + 1
    lost = count - len(seen)
    duplicated = sum(v - 1 for v in seen.values())
    print(
        f"ship rsyslog: {sent / took:>10,.0f} records/s ({took:.2f}s), "
        f"sent {sent}, lost {lost}, duplicated {duplicated}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    count = parser.parse_args().records
    ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        log = work / "log.jsonl"
        start = time.perf_counter()
        write_log(log, count)
        print(
            f"generated {count} signed records in {time.perf_counter() - start:.1f}s "
            f"({log.stat().st_size / 1e6:.0f} MB)"
        )
        bench_export(log, count)
        bench_ship(log, count, work)


if __name__ == "__main__":
    main()
