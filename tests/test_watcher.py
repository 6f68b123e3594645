"""The watcher with real watchdog observers on temporary trees: every editor save style,
moves, deletes, new directories, symlinks, unreadable files, git attribution, a burst."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config_audit.alerts.dispatch import AlertDispatcher
from config_audit.audit.watch import WatchDaemon
from tests.test_watcher_support import (
    check_chain,
    file_records,
    make_daemon,
    no_leaks,
    recognizer,
    records,
    sha,
    wait_for,
)

__all__ = ["no_leaks"]


class Collect:
    """An alert channel that keeps what it is sent."""

    name = "collect"

    def __init__(self) -> None:
        self.alerts: list[object] = []

    def send(self, alert: object) -> None:
        self.alerts.append(alert)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "recognizers").mkdir()
    (tmp_path / "recognizers" / "a.yaml").write_text(recognizer(0.5))
    return tmp_path


@pytest.fixture
def running(tree: Path) -> Iterator[WatchDaemon]:
    daemon = make_daemon(tree)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def settle(daemon: WatchDaemon) -> None:
    """Wait until the observer has delivered and the debouncer has audited everything."""
    time.sleep(0.4)
    deadline, stable, seen = time.monotonic() + 30, 0, -1
    while stable < 3 and time.monotonic() < deadline:  # idle, and no new record for ~0.75 s
        wait_for(daemon.watcher.idle, timeout=15)
        count = len(records(daemon.options.log_path))
        stable, seen = (stable + 1, seen) if count == seen else (0, count)
        time.sleep(0.25)


def eventually(daemon: WatchDaemon, path: str, check: Callable[[dict[str, Any]], bool]) -> None:
    """Poll until the latest record for `path` satisfies `check` (events are late under load)."""

    def ok() -> bool:
        got = file_records(daemon.options.log_path, path)
        return bool(got) and check(got[-1])

    wait_for(ok, timeout=30)


def last(daemon: WatchDaemon, path: str) -> dict[str, object]:
    got = file_records(daemon.options.log_path, path)
    assert got, f"no record for {path}"
    return got[-1]


def test_baseline_then_plain_edit(running: WatchDaemon, tree: Path) -> None:
    log = running.options.log_path
    assert [r["source"] for r in records(log)][:2] == ["watcher-start", "watcher"]
    assert last(running, "recognizers/a.yaml")["extra"] == {"detected_by": "baseline"}
    (tree / "recognizers" / "a.yaml").write_text(recognizer(0.3))
    settle(running)
    rec = last(running, "recognizers/a.yaml")
    assert rec["after_sha256"] == sha(recognizer(0.3))
    assert [c["kind"] for c in rec["changes"]] == ["pattern.score_lowered"]
    assert rec["author"]["assurance"] == "unattributed"
    assert {"host", "file_owner", "watcher_user", "observed_at"} <= set(rec["author"])


def test_atomic_save_and_backup_rename_save(running: WatchDaemon, tree: Path) -> None:
    target = tree / "recognizers" / "a.yaml"
    tmp = tree / "recognizers" / ".a.yaml.tmp123"  # editor temp: not a recognizer file
    tmp.write_text(recognizer(0.4))
    os.replace(tmp, target)
    settle(running)
    assert last(running, "recognizers/a.yaml")["after_sha256"] == sha(recognizer(0.4))
    # vim: rename the original to a~, write a new file, delete the backup; plus a swap file.
    (tree / "recognizers" / ".a.yaml.swp").write_bytes(b"\0swap")
    os.rename(target, tree / "recognizers" / "a.yaml~")
    target.write_text(recognizer(0.6))
    os.unlink(tree / "recognizers" / "a.yaml~")
    os.unlink(tree / "recognizers" / ".a.yaml.swp")
    settle(running)
    paths = {r["path"] for r in records(running.options.log_path) if r["path"]}
    assert paths == {"recognizers/a.yaml"}, "temp, backup and swap files are never audited"
    rec = last(running, "recognizers/a.yaml")
    assert rec["after_sha256"] == sha(recognizer(0.6))
    assert rec["before_sha256"] == sha(recognizer(0.4))


def test_move_in_out_delete_recreate(running: WatchDaemon, tree: Path) -> None:
    outside = tree / "elsewhere"
    outside.mkdir()
    (outside / "b.yaml").write_text(recognizer(0.7))
    os.rename(outside / "b.yaml", tree / "recognizers" / "b.yaml")  # moved in
    settle(running)
    assert last(running, "recognizers/b.yaml")["after_sha256"] == sha(recognizer(0.7))
    os.rename(tree / "recognizers" / "b.yaml", outside / "b.yaml")  # moved out
    settle(running)
    gone = last(running, "recognizers/b.yaml")
    assert gone["after_sha256"] is None and gone["before_sha256"] == sha(recognizer(0.7))
    assert any(c["kind"] == "recognizer.removed" for c in gone["changes"])
    (tree / "recognizers" / "a.yaml").unlink()
    settle(running)
    assert last(running, "recognizers/a.yaml")["after_sha256"] is None
    (tree / "recognizers" / "a.yaml").write_text(recognizer(0.9))
    settle(running)
    back = last(running, "recognizers/a.yaml")
    assert back["before_sha256"] is None and back["after_sha256"] == sha(recognizer(0.9))


def test_new_directory_after_start_and_directory_moves(running: WatchDaemon, tree: Path) -> None:
    staged = tree / "staging" / "team"
    staged.mkdir(parents=True)
    (staged / "c.yaml").write_text(recognizer(0.8))
    os.rename(tree / "staging" / "team", tree / "recognizers" / "team")  # a whole dir moves in
    (tree / "recognizers" / "fresh").mkdir()
    (tree / "recognizers" / "fresh" / "d.yaml").write_text(recognizer(0.55))
    eventually(
        running, "recognizers/team/c.yaml", lambda r: r["after_sha256"] == sha(recognizer(0.8))
    )
    eventually(
        running, "recognizers/fresh/d.yaml", lambda r: r["after_sha256"] == sha(recognizer(0.55))
    )
    os.rename(tree / "recognizers" / "team", tree / "staging" / "team")  # and out again
    eventually(running, "recognizers/team/c.yaml", lambda r: r["after_sha256"] is None)


def test_symlink_escape_is_a_finding_and_never_read(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    channel = Collect()
    daemon = make_daemon(tree, alerts=AlertDispatcher([channel]))
    daemon.start()
    try:
        secret = tmp_path_factory.mktemp("outside") / "secret.yaml"
        secret.write_text("password: hunter2\n")
        (tree / "recognizers" / "evil.yaml").symlink_to(secret)
        (tree / "recognizers" / "ok.yaml").symlink_to(tree / "recognizers" / "a.yaml")
        settle(daemon)
    finally:
        daemon.stop()
    evil = last(daemon, "recognizers/evil.yaml")
    assert evil["after_sha256"] is None and evil["changes"] == []
    assert evil["validation"]["valid"] is False
    assert "outside the watched tree" in evil["validation"]["findings"][0]["message"]
    assert "hunter2" not in daemon.options.log_path.read_text()
    inside = last(daemon, "recognizers/ok.yaml")  # a link inside the tree is followed
    assert inside["after_sha256"] == sha(recognizer(0.5))
    kinds = {a.kind for a in channel.alerts}  # type: ignore[attr-defined]
    assert "symlink-escape" in kinds


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_recorded_then_carries_on(running: WatchDaemon, tree: Path) -> None:
    target = tree / "recognizers" / "a.yaml"
    target.chmod(0)
    os.utime(target)
    settle(running)
    rec = last(running, "recognizers/a.yaml")
    assert rec["validation"]["valid"] is False and "cannot read" in str(rec["validation"])
    target.chmod(0o644)
    target.write_text(recognizer(0.45))
    settle(running)
    rec = last(running, "recognizers/a.yaml")
    assert rec["after_sha256"] == sha(recognizer(0.45))
    assert rec["before_sha256"] == sha(recognizer(0.5)), "diffed against the last readable"


def test_fifo_is_unreadable_finding_not_a_hang(running: WatchDaemon, tree: Path) -> None:
    os.mkfifo(tree / "recognizers" / "pipe.yaml")
    eventually(running, "recognizers/pipe.yaml", lambda r: True)
    rec = last(running, "recognizers/pipe.yaml")
    assert rec["validation"]["valid"] is False and "not a regular file" in str(rec["validation"])
    (tree / "recognizers" / "a.yaml").write_text(recognizer(0.45))  # and it carries on
    eventually(running, "recognizers/a.yaml", lambda r: r["after_sha256"] == sha(recognizer(0.45)))


def test_content_matching_a_commit_is_attributed(tmp_path: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org"}
    env |= {"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    git("init", "-q")
    (tmp_path / "recognizers").mkdir()
    (tmp_path / "recognizers" / "a.yaml").write_text(recognizer(0.5))
    git("add", "recognizers/a.yaml")
    git("commit", "-q", "-m", "v1")
    first = git("rev-parse", "HEAD")
    daemon = make_daemon(tmp_path)
    daemon.start()
    try:
        (tmp_path / "recognizers" / "a.yaml").write_text(recognizer(0.2))  # out of band
        settle(daemon)
        oob = last(daemon, "recognizers/a.yaml")
        (tmp_path / "recognizers" / "a.yaml").write_text(recognizer(0.5))  # back to v1
        settle(daemon)
        restored = last(daemon, "recognizers/a.yaml")
    finally:
        daemon.stop()
    assert oob["author"]["assurance"] == "unattributed" and "commit" not in oob["author"]
    assert restored["author"]["assurance"] == "git-commit-match"
    assert restored["author"]["commit"] == first == restored["commit"]
    assert restored["author"]["author_email"] == "ada@example.org"


def test_burst_3000_writes_30_files_nothing_lost(tmp_path: Path) -> None:
    """3,000 writes in ~10 s across 30 files: each file's final content is recorded."""
    (tmp_path / "recognizers").mkdir()
    daemon = make_daemon(tmp_path, watch={"debounce_s": 0.5, "max_delay_s": 2})
    daemon.start()
    files = [tmp_path / "recognizers" / f"f{i:02d}.yaml" for i in range(30)]
    final: dict[str, str] = {}
    try:
        start = time.monotonic()
        for n in range(3000):
            path = files[n % 30]
            text = recognizer(round(0.1 + (n % 89) / 100, 2)) + f"# write {n}\n"
            if n % 3 == 0:  # a third of the saves are atomic renames
                tmp = path.with_name(f".{path.name}.{n}.tmp")
                tmp.write_text(text)
                os.replace(tmp, path)
            else:
                path.write_text(text)
            final[f"recognizers/{path.name}"] = text
            time.sleep(max(0.0, start + (n + 1) * 10 / 3000 - time.monotonic()))
        settle(daemon)
    finally:
        daemon.stop()
    log = daemon.options.log_path
    for path, text in final.items():
        assert file_records(log, path)[-1]["after_sha256"] == sha(text), path
    assert check_chain(tmp_path, log) == len(records(log))


def test_full_scan_catches_what_the_event_stream_dropped(tree: Path) -> None:
    daemon = make_daemon(tree)
    daemon.start()
    try:
        daemon.watcher.stop()  # simulate a dead event stream (inotify overflow, lost watch)
        (tree / "recognizers" / "a.yaml").write_text(recognizer(0.35))
        assert daemon.reconcile({"detected_by": "full-scan"}) == 1
    finally:
        daemon.stop()
    rec = last(daemon, "recognizers/a.yaml")
    assert rec["extra"] == {"detected_by": "full-scan"}
    assert rec["after_sha256"] == sha(recognizer(0.35))


def test_observer_death_is_noticed_and_repaired(running: WatchDaemon, tree: Path) -> None:
    running.watcher._stop_observer()  # the emitter threads die silently
    assert not running.watcher.healthy()
    (tree / "recognizers" / "a.yaml").write_text(recognizer(0.25))
    running.check_observer()
    assert running.watcher.healthy()
    rec = last(running, "recognizers/a.yaml")
    assert rec["extra"] == {"detected_by": "observer-restart"}
    (tree / "recognizers" / "a.yaml").write_text(recognizer(0.26))
    settle(running)
    assert last(running, "recognizers/a.yaml")["after_sha256"] == sha(recognizer(0.26))


def test_real_validator_marks_an_invalid_file_and_alerts(tree: Path) -> None:
    validate = pytest.importorskip("config_audit.validate")
    channel = Collect()
    with validate.Validator(samples_path=None) as validator:
        daemon = make_daemon(tree, validator=validator, alerts=AlertDispatcher([channel]))
        daemon.start()
        try:
            (tree / "recognizers" / "a.yaml").write_text(recognizer(0))  # never reports
            settle(daemon)
        finally:
            daemon.stop()
    rec = last(daemon, "recognizers/a.yaml")
    assert rec["validation"]["valid"] is False
    assert rec["validation"]["presidio_version"]
    kinds = {a.kind for a in channel.alerts}  # type: ignore[attr-defined]
    assert {"invalid-file", "weakening-change", "out-of-band-edit"} <= kinds
    assert threading.active_count() >= 1


def test_kubernetes_configmap_update_is_recorded_on_the_visible_file(tmp_path: Path) -> None:
    """A ConfigMap volume: `custom.yaml -> ..data/custom.yaml`, `..data -> ..<timestamp>`, and
    an update swaps `..data` atomically. The visible file is recorded (a weakening), at once,
    not at the next full scan; the `..` internals never are."""
    rec = tmp_path / "recognizers"
    (rec / "..2026_01_01").mkdir(parents=True)
    (rec / "..2026_01_01" / "custom.yaml").write_text(recognizer(0.5))
    (rec / "..data").symlink_to("..2026_01_01")
    (rec / "custom.yaml").symlink_to("..data/custom.yaml")
    daemon = make_daemon(tmp_path)
    daemon.start()
    try:
        settle(daemon)
        assert [r["path"] for r in records(daemon.options.log_path) if r["source"] == "watcher"] == [
            "recognizers/custom.yaml"
        ]
        (rec / "..2026_01_02").mkdir()
        (rec / "..2026_01_02" / "custom.yaml").write_text(recognizer(0.1))
        (rec / "..data_tmp").symlink_to("..2026_01_02")
        os.rename(rec / "..data_tmp", rec / "..data")  # what kubelet's AtomicWriter does
        import shutil

        shutil.rmtree(rec / "..2026_01_01")
        eventually(
            daemon,
            "recognizers/custom.yaml",
            lambda r: [c["kind"] for c in r["changes"]] == ["pattern.score_lowered"],
        )
        assert daemon.options.full_scan_s >= 60  # the event did it, not the periodic scan
        settle(daemon)
        paths = [r["path"] for r in records(daemon.options.log_path) if r["source"] == "watcher"]
        assert paths == ["recognizers/custom.yaml"] * 2, paths
    finally:
        daemon.stop()


def test_a_watched_directory_swapped_for_a_link_is_seen_at_once(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Issue 11, attack 14: `rm -r recognizers/sub && ln -s /elsewhere recognizers/sub` made
    # `sub/x.yaml` a regular file read from outside the tree, audited as if it were ours.
    import shutil

    sub = tree / "recognizers" / "sub"
    sub.mkdir()
    (sub / "x.yaml").write_text(recognizer(0.8))
    channel = Collect()
    daemon = make_daemon(tree, alerts=AlertDispatcher([channel]))
    daemon.start()
    try:
        settle(daemon)
        elsewhere = tmp_path_factory.mktemp("elsewhere")
        (elsewhere / "x.yaml").write_text(recognizer(0.1))  # weak, outside the tree
        shutil.rmtree(sub)
        sub.symlink_to(elsewhere, target_is_directory=True)
        settle(daemon)
    finally:
        daemon.stop()
    rec = last(daemon, "recognizers/sub/x.yaml")
    assert rec["after_sha256"] is None, rec  # never read through the link
    assert "outside the watched tree" in rec["validation"]["findings"][0]["message"]
    assert "symlink-escape" in {a.kind for a in channel.alerts}  # type: ignore[attr-defined]
