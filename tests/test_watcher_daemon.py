"""`config-audit watch` as a real process: signals, restarts, gaps, one instance per log."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_watcher_support import (
    PYTHON,
    check_chain,
    file_records,
    no_leaks,
    recognizer,
    records,
    sha,
    wait_for,
    write_config,
)

__all__ = ["no_leaks"]


class Daemon:
    def __init__(self, root: Path, *args: str) -> None:
        self.root = root
        self.err = root / f"stderr-{time.monotonic_ns()}.txt"
        with self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [PYTHON, "-m", "config_audit", "-v", "watch", "--no-presidio", *args],
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "CONFIG_AUDIT_CRASH_DIR": str(root)},
            )

    def wait_ready(self) -> Daemon:
        wait_for(lambda: "watching" in self.stderr() or self.proc.poll() is not None, 60)
        assert self.proc.poll() is None, self.stderr()
        return self

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(30)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    write_config(tmp_path, watch={"heartbeat_s": 1})
    (tmp_path / "recognizers" / "a.yaml").write_text(recognizer(0.5))
    yield tmp_path


def log_of(root: Path) -> Path:
    return root / "state" / "log.jsonl"


def test_clean_stop_then_edits_while_down_are_a_gap(root: Path) -> None:
    pidfile = root / "watch.pid"
    daemon = Daemon(root, "--pidfile", str(pidfile)).wait_ready()
    assert pidfile.read_text().strip() == str(daemon.proc.pid)
    wait_for(lambda: any(r["source"] == "heartbeat" for r in records(log_of(root))), 30)
    assert daemon.stop() == 0
    assert not pidfile.exists()
    stopped = records(log_of(root))[-1]
    assert stopped["source"] == "watcher-stop"
    (root / "recognizers" / "a.yaml").write_text(recognizer(0.2))  # while nobody watches
    (root / "recognizers" / "new.yaml").write_text(recognizer(0.9))
    daemon = Daemon(root).wait_ready()
    assert daemon.stop() == 0
    start = next(r for r in records(log_of(root))[::-1] if r["source"] == "watcher-start")
    assert start["extra"]["previous_stop"] == "clean"
    assert start["extra"]["gap_from"] == stopped["time"]
    for path in ("recognizers/a.yaml", "recognizers/new.yaml"):
        rec = file_records(log_of(root), path)[-1]
        assert rec["extra"]["coverage_gap"] == {"from": stopped["time"], "to": start["time"]}
    assert check_chain(root, log_of(root)) == len(records(log_of(root)))


def test_kill_9_shows_as_unclean_gap_from_last_heartbeat(root: Path) -> None:
    daemon = Daemon(root).wait_ready()
    beats = lambda: [r for r in records(log_of(root)) if r["source"] == "heartbeat"]  # noqa: E731
    wait_for(lambda: len(beats()) >= 2, 30)
    daemon.stop(signal.SIGKILL)
    # The kill may land between the last heartbeat record and the state save that follows it:
    # the gap then starts at the heartbeat before (overstated, never understated).
    last_two = [b["time"] for b in beats()[-2:]]
    (root / "recognizers" / "a.yaml").write_text(recognizer(0.1))
    daemon = Daemon(root).wait_ready()
    assert daemon.stop() == 0
    start = [r for r in records(log_of(root)) if r["source"] == "watcher-start"][-1]
    assert start["extra"]["previous_stop"] == "unclean"
    assert start["extra"]["gap_from"] in last_two
    rec = file_records(log_of(root), "recognizers/a.yaml")[-1]
    assert rec["extra"]["coverage_gap"]["from"] == start["extra"]["gap_from"]
    assert rec["after_sha256"] == sha(recognizer(0.1))


def test_sigterm_during_a_burst_leaves_a_verifiable_log(root: Path) -> None:
    files = [root / "recognizers" / f"b{i}.yaml" for i in range(10)]
    daemon = Daemon(root).wait_ready()
    done = threading.Event()

    def burst() -> None:
        n = 0
        while not done.is_set():
            files[n % 10].write_text(recognizer(0.5) + f"# {n}\n")
            n += 1
            time.sleep(0.002)

    writer = threading.Thread(target=burst)
    writer.start()
    try:
        time.sleep(1.5)
        assert daemon.stop() == 0
    finally:
        done.set()
        writer.join()
    assert records(log_of(root))[-1]["source"] == "watcher-stop"
    check_chain(root, log_of(root))
    daemon = Daemon(root).wait_ready()  # whatever was not audited yet is found at start
    assert daemon.stop() == 0
    for path in files:
        rec = file_records(log_of(root), f"recognizers/{path.name}")[-1]
        assert rec["after_sha256"] == sha(path.read_text())
    assert check_chain(root, log_of(root)) == len(records(log_of(root)))
    verify = subprocess.run(
        [PYTHON, "-m", "config_audit", "verify", "--log", str(log_of(root))],
        cwd=root,
        capture_output=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_one_instance_per_log_and_missing_key(root: Path) -> None:
    first = Daemon(root).wait_ready()
    try:
        second = subprocess.run(
            [PYTHON, "-m", "config_audit", "watch", "--no-presidio"],
            cwd=root,
            capture_output=True,
            timeout=30,
            check=False,
        )
    finally:
        assert first.stop() == 0
    assert second.returncode == 2
    assert b"another watcher" in second.stderr and str(first.proc.pid).encode() in second.stderr
    (root / "key.pem").unlink()
    no_key = subprocess.run(
        [PYTHON, "-m", "config_audit", "watch", "--no-presidio"],
        cwd=root,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert no_key.returncode == 2 and b"signing key" in no_key.stderr


def test_sighup_reloads_globs(root: Path) -> None:
    daemon = Daemon(root).wait_ready()
    try:
        (root / "recognizers" / "c.yml.txt").write_text(recognizer(0.4))
        write_config(root, recognizers=["recognizers/**/*.yaml", "recognizers/*.yml.txt"])
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: file_records(log_of(root), "recognizers/c.yml.txt"), 30)
    finally:
        assert daemon.stop() == 0
    assert "configuration reloaded" in daemon.stderr()


def settings_records(log: Path) -> list[dict[str, object]]:
    return [r for r in records(log) if (r.get("extra") or {}).get("settings_file")]


def test_an_edit_of_its_own_settings_is_recorded_judged_and_then_in_force(root: Path) -> None:
    # Protected NW_* entities; the watcher's settings lose the protection while it runs.
    write_config(root, watch={"heartbeat_s": 30}, policy={"protected_entities": ["NW_*"]})
    daemon = Daemon(root).wait_ready()
    try:
        assert settings_records(log_of(root)) == []  # the first version is the trust root
        write_config(root, watch={"heartbeat_s": 30}, policy={"protected_entities": []})
        wait_for(lambda: settings_records(log_of(root)), 30)
        rec = settings_records(log_of(root))[-1]
        assert rec["path"] == ".config-audit.yaml"
        kinds = {c["kind"] for c in rec["changes"]}  # type: ignore[index,union-attr]
        assert any(k.startswith("policy.") for k in kinds), kinds
        assert rec["policy"]["verdict"] == "violation", rec["policy"]  # type: ignore[index]
        # ... and the new policy is the one in force afterwards (no restart, no SIGHUP).
        wait_for(lambda: "configuration reloaded" in daemon.stderr(), 30)
    finally:
        assert daemon.stop() == 0
    check_chain(root, log_of(root))


def test_a_settings_edit_while_it_was_down_is_judged_at_start(root: Path) -> None:
    write_config(root, watch={"heartbeat_s": 30}, policy={"protected_entities": ["NW_*"]})
    assert Daemon(root).wait_ready().stop() == 0
    # Narrow what is watched while nobody watches, then restart.
    write_config(
        root, watch={"heartbeat_s": 30}, policy={"protected_entities": ["NW_*"]},
        recognizers=["nowhere/*.yaml"],
    )
    assert Daemon(root).wait_ready().stop() == 0
    rec = settings_records(log_of(root))[-1]
    assert rec["extra"]["detected_by"] == "start-up-scan"  # type: ignore[index]
    kinds = {c["kind"] for c in rec["changes"]}  # type: ignore[index,union-attr]
    assert "coverage.globs_removed" in kinds, kinds
    assert rec["policy"]["verdict"] == "violation"  # type: ignore[index]
