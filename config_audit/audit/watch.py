"""The watcher daemon: turns "look at this path" into audited, signed records and alerts.

It wires `watcher` (events, debounce) -> `WatchDaemon.process` (read the file now, attribute,
`Auditor.audit`, remember, alert), `watchstate` (what was last seen, whether the previous run
stopped cleanly) and `alerts`. It records its own start, stop and heartbeats so that any time it
was not watching shows up in the log as a gap.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config_audit.alerts.alert import Alert
from config_audit.alerts.dispatch import AlertDispatcher, Record, record_ref
from config_audit.alerts.rules import AlertRules, AlertSink
from config_audit.audit.pipeline import Auditor
from config_audit.audit.watch_settings import (
    audit_settings_file,
    record_file_left,
    reload_settings,
)
from config_audit.errors import UsageError
from config_audit.git.match import find_commit_with_content
from config_audit.model import Assurance, AuditResult, ChangeEvent, Finding, Severity
from config_audit.settings import Settings
from config_audit.times import format_time
from config_audit.watch.observer import Watcher
from config_audit.watch.state import (
    Observation,
    WatchOptions,
    WatchRoot,
    WatchState,
    file_identity,
    host_evidence,
    observe,
)

logger = logging.getLogger(__name__)


class WatchDaemon:
    """Turns "look at this path" into audited, signed records and alerts."""

    def __init__(
        self,
        settings: Settings,
        roots: list[WatchRoot],
        *,
        auditor: Auditor,
        state: WatchState,
        alerts: AlertDispatcher,
        options: WatchOptions,
        fixed_paths: bool = False,
    ) -> None:
        if auditor.ledger is None or auditor.signer is None:
            raise UsageError("the watcher needs a log and a signing key")
        self.settings = settings
        self.roots = roots
        self.auditor = auditor
        self.state = state
        # The same sink as the hooks and CI: rules, burst detection, the dispatcher.
        self.sink = AlertSink(AlertRules.from_settings(settings.alerts, settings.policy), alerts)
        self.options = options
        self.fixed_paths = fixed_paths  # PATHs given: a reload keeps them
        self.lock = threading.RLock()
        self.batch = False
        self.watcher = self.make_watcher()
        self.recorded = 0
        self.settings_seen = file_identity(self.settings.config_path)

    def make_watcher(self) -> Watcher:
        excluded = [self.options.state_dir, self.options.log_path]
        return Watcher(
            self.roots,
            self.process,
            self.expand_dir,
            delay_s=self.options.debounce_s,
            max_delay_s=self.options.max_delay_s,
            excluded=[p.resolve() for p in excluded],
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Write watcher-start, begin watching, then record what changed while we were down."""
        now = datetime.now(UTC)
        gap_from, clean = self.state.gap_start()
        extra: dict[str, Any] = {
            "previous_stop": "none" if not self.state.existed else "clean" if clean else "unclean",
            "roots": [str(r.directory) for r in self.roots],
            "pid": os.getpid(),
        }
        if gap_from:
            extra["gap_from"] = gap_from
        record = self.append("watcher-start", extra, now)
        if not clean:
            self.alert("watcher-gap", "warning", "watcher stopped uncleanly", None, record)
        self.state.running, self.state.started_at = True, format_time(now)
        self.state.last_heartbeat = None
        self.state.save()
        self.watcher.start()  # events from now on queue up while the scan below runs
        self.audit_settings(
            {"detected_by": "start-up-scan"} if self.state.existed else {"detected_by": "baseline"}
        )
        if not self.state.existed:
            self.reconcile({"detected_by": "baseline"})
        else:
            gap = {"from": gap_from, "to": format_time(now)}
            self.reconcile({"detected_by": "start-up-scan", "coverage_gap": gap})

    def stop(self) -> None:
        """Finish the audit in progress and those pending, then write watcher-stop."""
        self.watcher.stop()
        with self.lock:
            now = datetime.now(UTC)
            self.append("watcher-stop", {"pid": os.getpid(), "recorded": self.recorded}, now)
            self.state.running, self.state.stopped_at = False, format_time(now)
            self.state.save()
            self.publish_checkpoint()
        self.sink.close()

    def heartbeat(self) -> None:
        with self.lock:
            now = datetime.now(UTC)
            self.append("heartbeat", {"files": len(self.state.files)}, now)
            self.state.last_heartbeat = format_time(now)
            self.state.save()
            self.publish_checkpoint()

    def publish_checkpoint(self) -> None:
        """A signed tree head beside the log, so `verify` catches truncation on its own."""
        from config_audit.audit.publish import publish_checkpoint

        assert self.auditor.ledger is not None and self.auditor.signer is not None
        outcome = publish_checkpoint(
            self.auditor.ledger.path,
            self.auditor.signer,
            on_conflict=lambda summary: self.alert(
                "verify-failure", "critical", summary, None, None
            ),
        )
        if outcome.conflict:
            logger.error("%s", outcome.conflict)

    def check_observer(self) -> None:
        if not self.watcher.healthy():
            self.watcher.restart_observer()
            self.reconcile({"detected_by": "observer-restart"})

    def append(self, source: str, extra: dict[str, Any], now: datetime) -> dict[str, Any]:
        who = replace(host_evidence(None, now), assurance=Assurance.NONE)  # no one's change
        with self.lock:
            return self.auditor.record_event(source, author=who, extra=extra, now=now)

    # -- scanning ----------------------------------------------------------------------------

    def locate(self, display: str) -> tuple[WatchRoot, Path] | None:
        path = Path(display)
        path = path if path.is_absolute() else self.settings.root.resolve() / path
        for root in self.roots:
            if root.relative(path) is not None:
                return root, path
        return None

    def expand_dir(self, root: WatchRoot, directory: Path) -> Iterator[Path]:
        """Matching files now under `directory`, and known files that were under it."""
        if directory.is_dir():  # a link too: what it leads to is listed, never read outside
            sub = replace(root, directory=directory)
            for found in sub.walk():
                if root.relative(found) is not None:
                    yield found
        with self.lock:
            known = list(self.state.files) + list(self.state.problems)
        for display in known:
            located = self.locate(display)
            if located and located[0] == root and located[1].is_relative_to(directory):
                yield located[1]

    def reconcile(self, extra: dict[str, Any]) -> int:
        """Look at every watched and every known path; record each that differs."""
        skip = self.watcher.pending() if extra.get("detected_by") == "full-scan" else set()
        targets: dict[Path, WatchRoot] = {}
        for root in self.roots:
            for path in root.walk():
                targets.setdefault(path, root)
        for display in list(self.state.files) + list(self.state.problems):
            located = self.locate(display)
            if located:
                targets.setdefault(located[1], located[0])
        count = 0
        with self.lock:
            self.batch = True  # one state save per scan, not one per file
            try:
                for path, root in sorted(targets.items()):
                    if path not in skip and self.process(root, path, extra=extra) is not None:
                        count += 1
            finally:
                self.batch = False
                self.state.save()
        logger.info("%s: %d of %d files changed", extra.get("detected_by"), count, len(targets))
        return count

    # -- one path ----------------------------------------------------------------------------

    def process(
        self, root: WatchRoot, path: Path, *, extra: Mapping[str, Any] | None = None
    ) -> AuditResult | None:
        """Audit, in order, every version captured since the last look (closed after a write,
        renamed into place) and then what `path` holds now; each that differs from what we
        last saw is recorded and alerted. Versions past the cap are counted in a note."""
        with self.lock:
            display = root.display(path)
            taken = self.watcher.versions.take((root, path))
            extra = dict(extra or {"detected_by": "event"})
            result = None
            seen = observe(path, root.directory)
            versions = list(taken.versions)
            if versions and versions[-1].sha256 == seen.sha256:
                versions.pop()  # the last one closed is what the file holds: the final state
            for version in versions:
                if self.state.changed(display, version):
                    captured = {**extra, "detected_by": "closed-version"}
                    result = self.audit_seen(root, path, version, captured)
            if taken.coalesced:
                extra["versions_coalesced"] = taken.coalesced
            if seen.kind == "missing" and display in self.state.files:
                # Deleted, renamed to where no glob covers, or moved out of the tree (inotify
                # reports that as a deletion): the file left the watch, and Presidio's path.
                result = record_file_left(
                    self, display, extra, removed=True, moved_to=taken.moved_to
                )
            elif self.state.changed(display, seen):
                result = self.audit_seen(root, path, seen, extra)
            elif taken.coalesced:
                result = None
                self.append("watcher", {**extra, "path": display}, datetime.now(UTC))
            if taken.coalesced:
                summary = f"{taken.coalesced} versions of {display} coalesced (not audited singly)"
                record = result.record if result else None
                self.alert("versions-coalesced", "warning", summary, display, record)
            return result

    def audit_seen(
        self, root: WatchRoot, path: Path, seen: Observation, extra: Mapping[str, Any]
    ) -> AuditResult:
        """Audit one observed version of `path` against the last-known one; remember it."""
        display = root.display(path)
        now = datetime.now(UTC)
        before = self.state.content(display)
        author = host_evidence(seen.owner_uid, now)
        if seen.kind == "file":
            assert seen.data is not None
            match = find_commit_with_content(path, seen.data)
            if match:
                author = replace(author, assurance=Assurance.GIT_COMMIT_MATCH, **match)
        event = ChangeEvent(
            path=display,
            before=before,
            after=seen.data,
            source="watcher",
            commit=author.commit,
            author=author,
            extra=dict(extra),
            time=now,
        )
        result = self.audit(event, seen)
        if seen.kind == "file":
            self.state.remember(display, seen, save=not self.batch)
        elif seen.kind == "missing":
            self.state.forget(display)
        else:
            self.state.note_problem(display, seen)
        self.recorded += 1
        self.raise_alerts(result, seen)
        return result

    def audit(self, event: ChangeEvent, seen: Observation) -> AuditResult:
        if seen.kind in ("file", "missing"):
            return self.auditor.audit(event)
        # Unreadable or escaping: the content is unknown, so no diff; the finding is the record.
        if seen.kind == "symlink-escape":
            message = f"symlink points outside the watched tree ({seen.detail}); not read"
            hint = "replace the symlink with the file, or watch the directory it points into"
        else:
            message = f"cannot read file: {seen.detail}"
            hint = "fix the file's permissions; an unreadable config leaks PII"
        finding = Finding("CA100", Severity.ERROR, message, path=event.path, hint=hint)
        judged = self.auditor.audit(event, write=False)
        return self.auditor.record(replace(judged, changes=(), problems=(finding,)))

    def raise_alerts(self, result: AuditResult, seen: Observation) -> None:
        if seen.kind == "symlink-escape":
            summary = "symlink escapes the watched tree"
            self.alert("symlink-escape", "critical", summary, result.event.path, result.record)
            return
        self.sink.on_result(result, baseline=result.event.extra.get("detected_by") == "baseline")

    def alert(
        self, kind: str, severity: str, summary: str, path: str | None, record: Record | None
    ) -> None:
        self.sink.raise_alert(Alert(kind, severity, summary, path, *record_ref(record)))

    # -- the settings file: trust material, audited like a recognizer file ---------------------

    def audit_settings(self, extra: Mapping[str, Any]) -> AuditResult | None:
        """Record a change of the settings file since it was last audited (watch_settings)."""
        return audit_settings_file(self, extra)

    # -- the main loop -----------------------------------------------------------------------

    def run(self, stop: threading.Event, reload: threading.Event | None = None) -> None:
        """Heartbeats, full scans and observer health until `stop` is set."""
        clock = time.monotonic
        next_beat = clock() + self.options.heartbeat_s
        next_scan = clock() + self.options.full_scan_s
        while not stop.wait(1.0):
            if reload is not None and reload.is_set():
                reload.clear()
                self.reload()
            elif file_identity(self.settings.config_path) != self.settings_seen:
                self.reload()  # the watcher watches its own settings: an edit is audited now
            if clock() >= next_beat:
                self.heartbeat()
                next_beat = clock() + self.options.heartbeat_s
            if clock() >= next_scan:
                self.reconcile({"detected_by": "full-scan"})
                next_scan = clock() + self.options.full_scan_s
            self.check_observer()

    def reload(self) -> None:
        """SIGHUP or an edit of the settings file: audited, then applied (watch_settings)."""
        reload_settings(self)
