"""Issue 11's watcher attacks with real watchdog observers on temporary trees: transient weak
versions (15), files leaving coverage (7), new files behind a swapped directory (14)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from config_audit.alerts.dispatch import AlertDispatcher
from config_audit.audit.watch import WatchDaemon
from tests.test_watcher import Collect, settle
from tests.test_watcher_support import (
    file_records,
    make_daemon,
    no_leaks,
    recognizer,
    records,
    sha,
)

__all__ = ["no_leaks"]
PROTECTED = {"protected_entities": ["ZIP"], "people": {"alice": ["alice@x.example"]}}
A = "recognizers/a.yaml"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "recognizers").mkdir()
    (tmp_path / "recognizers" / "a.yaml").write_text(recognizer(0.8))
    return tmp_path


@pytest.fixture
def channel() -> Collect:
    return Collect()


@pytest.fixture
def slow(tree: Path, channel: Collect) -> Iterator[WatchDaemon]:
    """A long debounce window: what happens inside it is what attack 15 hides in."""
    daemon = make_daemon(
        tree,
        alerts=AlertDispatcher([channel]),
        policy=PROTECTED,
        watch={"debounce_s": 2.0, "max_delay_s": 10.0},
    )
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def alert_kinds(channel: Collect) -> set[str]:
    return {a.kind for a in channel.alerts}  # type: ignore[attr-defined]


def test_attack15_weak_version_reverted_within_the_debounce_window_is_recorded(
    slow: WatchDaemon, tree: Path, channel: Collect
) -> None:
    target = tree / A
    settle(slow)
    target.write_text(recognizer(0.1))  # closed: a reader could load it now
    time.sleep(0.3)  # the observer delivers the close (ms); still well inside the 2 s window
    target.write_text(recognizer(0.8))  # reverted before the debounce fires
    settle(slow)
    recs = file_records(slow.options.log_path, A)
    weakened = [r for r in recs if r["extra"].get("detected_by") == "closed-version"]
    assert weakened, [r["extra"] for r in recs]
    assert [c["kind"] for c in weakened[0]["changes"]] == ["pattern.score_lowered"]
    assert weakened[0]["policy"]["violations"], weakened[0]["policy"]
    # and the revert is the next record: the log holds the whole story, in order
    assert recs[-1]["after_sha256"] == recs[0]["after_sha256"]
    assert recs[-1]["before_sha256"] == weakened[0]["after_sha256"]
    assert {"protected-weakening", "weakening-change"} <= alert_kinds(channel)


def test_attack15_renamed_into_place_and_back_is_recorded(slow: WatchDaemon, tree: Path) -> None:
    target = tree / A
    settle(slow)
    staged = tree / "recognizers" / ".a.yaml.tmp"  # not a recognizer file itself
    staged.write_text(recognizer(0.2))
    os.replace(staged, target)
    time.sleep(0.3)
    staged.write_text(recognizer(0.8))
    os.replace(staged, target)
    settle(slow)
    seen = [r["after_sha256"] for r in file_records(slow.options.log_path, A)]
    assert sha(recognizer(0.2)) in seen, seen


def test_attack15_a_flood_is_bounded_and_says_how_much_it_coalesced(
    slow: WatchDaemon, tree: Path, channel: Collect
) -> None:
    target = tree / A
    settle(slow)
    before = len(file_records(slow.options.log_path, A))
    for i in range(1000):
        target.write_text(recognizer(0.8) + f"# version {i}\n")
    target.write_text(recognizer(0.8))  # and back to the audited content
    settle(slow)
    all_recs = records(slow.options.log_path)
    recs = file_records(slow.options.log_path, A)[before:]
    notes = [r for r in all_recs if r["extra"].get("versions_coalesced")]
    coalesced = sum(r["extra"]["versions_coalesced"] for r in notes)
    # each flush audits at most 16 versions one by one; the flood spans a few flushes at most
    assert len(recs) <= 4 * 17, len(recs)
    # the rest were counted (the observer reads at delivery, so some reads saw the same bytes
    # twice and were one version): nothing is dropped without a note
    assert notes and coalesced >= 500, (coalesced, len(recs))
    assert "versions-coalesced" in alert_kinds(channel)


def test_attack7_files_leaving_coverage_on_reload_are_recorded(
    tree: Path, channel: Collect
) -> None:
    (tree / "recognizers" / "keep").mkdir()
    (tree / "recognizers" / "keep" / "k.yaml").write_text(recognizer(0.8))
    daemon = make_daemon(tree, alerts=AlertDispatcher([channel]), policy=PROTECTED)
    daemon.start()
    try:
        settle(daemon)
        config = tree / ".config-audit.yaml"
        raw = yaml.safe_load(config.read_text())
        raw["recognizers"] = ["recognizers/keep/*.yaml"]  # narrows: a.yaml leaves the watch
        config.write_text(yaml.safe_dump(raw))
        daemon.reload()
        settle(daemon)
        (tree / A).write_text(recognizer(0.1))  # now unwatched: the record above is the trace
        settle(daemon)
    finally:
        daemon.stop()
    left = file_records(daemon.options.log_path, A)[-1]
    assert left["extra"]["coverage"] == "left" and left["after_sha256"] is None
    assert [c["kind"] for c in left["changes"]] == ["coverage.file_left"]
    assert left["changes"][0]["impact"] == "weakens" and left["changes"][0]["entities"] == ["ZIP"]
    assert left["policy"]["violations"]  # judged by the policy before the reload
    assert "protected-weakening" in alert_kinds(channel)
    settings = [r for r in records(daemon.options.log_path) if r["path"] == ".config-audit.yaml"]
    assert "coverage.globs_removed" in {c["kind"] for c in settings[-1]["changes"]}


@pytest.mark.parametrize("where", ["beside", "outside"])
def test_attack7_a_file_moved_out_of_coverage_left_it(
    tree: Path, tmp_path_factory: pytest.TempPathFactory, channel: Collect, where: str
) -> None:
    daemon = make_daemon(tree, alerts=AlertDispatcher([channel]), policy=PROTECTED)
    daemon.start()
    outside = tmp_path_factory.mktemp("outside") / "a.yaml"
    try:
        settle(daemon)
        if where == "beside":
            os.rename(tree / A, tree / "recognizers" / "a.yaml.off")  # no glob covers it
        else:
            os.rename(tree / A, outside)  # inotify reports a deletion: same record, no target
        settle(daemon)
    finally:
        daemon.stop()
    rec = file_records(daemon.options.log_path, A)[-1]
    if where == "beside":
        assert rec["extra"]["moved_to"] == "recognizers/a.yaml.off"
    assert rec["extra"]["coverage"] == "left"
    kinds = {c["kind"] for c in rec["changes"]}
    assert "coverage.file_left" in kinds and kinds & {"file.removed", "recognizer.removed"}
    assert rec["policy"]["violations"]
    assert "recognizer-removed" in alert_kinds(channel)


def test_attack14_new_files_behind_a_swapped_directory_are_escapes(
    tree: Path, tmp_path_factory: pytest.TempPathFactory, channel: Collect
) -> None:
    """Behaviour made explicit: the link's swap is seen at once (what the directory held is an
    escape); a file that appears behind the link later is listed, never read, by the next full
    scan and recorded as an escape and alerted (inotify cannot see outside the tree)."""
    sub = tree / "recognizers" / "sub"
    sub.mkdir()
    (sub / "x.yaml").write_text(recognizer(0.8))
    daemon = make_daemon(tree, alerts=AlertDispatcher([channel]))
    daemon.start()
    try:
        settle(daemon)
        elsewhere = tmp_path_factory.mktemp("elsewhere")
        (elsewhere / "x.yaml").write_text(recognizer(0.1))
        shutil.rmtree(sub)
        sub.symlink_to(elsewhere, target_is_directory=True)
        settle(daemon)
        (elsewhere / "new.yaml").write_text(recognizer(0.1))  # no event reaches us
        (elsewhere / "deep").mkdir()  # bounded: outside the tree, one level is listed
        (elsewhere / "deep" / "z.yaml").write_text(recognizer(0.1))
        assert daemon.reconcile({"detected_by": "full-scan"}) >= 1
    finally:
        daemon.stop()
    new = file_records(daemon.options.log_path, "recognizers/sub/new.yaml")
    assert new and new[-1]["after_sha256"] is None, new
    assert "outside the watched tree" in new[-1]["validation"]["findings"][0]["message"]
    assert new[-1]["extra"] == {"detected_by": "full-scan"}
    assert not file_records(daemon.options.log_path, "recognizers/sub/deep/z.yaml")
    escapes = [a for a in channel.alerts if a.kind == "symlink-escape"]  # type: ignore[attr-defined]
    assert any(a.path == "recognizers/sub/new.yaml" for a in escapes)  # type: ignore[attr-defined]


def test_version_buffer_coalesces_and_caps_by_path_and_rate() -> None:
    from config_audit.watch.state import Observation
    from config_audit.watch.versions import VersionBuffer

    now = [0.0]
    buffer = VersionBuffer(per_path=3, rate=2.0, burst=4, clock=lambda: now[0])
    seen = [Observation("file", f"v{i}".encode(), 2) for i in range(10)]
    buffer.add("a", seen[0])
    buffer.add("a", seen[0])  # the same content again: one version, nothing coalesced
    for version in seen[1:5]:
        buffer.add("a", version)  # per-path cap 3: two of these are counted
    taken = buffer.take("a")
    assert [v.data for v in taken.versions] == [b"v0", b"v1", b"v2"] and taken.coalesced == 2
    buffer.add("b", seen[5])  # one token left of the burst of 4
    assert buffer.full("c")  # none left: a caller need not even read the file
    now[0] += 1.0  # two more a second
    buffer.add("c", seen[6])
    buffer.add("c", seen[7])
    buffer.add("c", seen[8])
    assert buffer.take("c").coalesced == 1 and len(buffer.take("b").versions) == 1
