"""The watcher's trust material: its own settings file, audited like a recognizer file, and
what a reload does to coverage.

An edit of the settings is judged by the policy of the version last audited (never by the one it
brings). A reload that narrows the globs makes files leave the watch: each is recorded as
`coverage.file_left` (weakens what it protected, judged, alerted), never silently forgotten.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from config_audit.alerts.dispatch import AlertDispatcher
from config_audit.alerts.rules import AlertRules, AlertSink
from config_audit.audit.pipeline import policy_beside
from config_audit.errors import ConfigAuditError, UsageError
from config_audit.model import AuditResult, Change, ChangeEvent, Impact
from config_audit.policy.diff import settings_of
from config_audit.settings import load_settings
from config_audit.watch.state import WatchOptions, file_identity, host_evidence, observe, roots_for

if TYPE_CHECKING:
    from config_audit.audit.watch import WatchDaemon

logger = logging.getLogger(__name__)
# The settings file's entry in the watch state: not a path any root could yield.
SETTINGS_KEY_PREFIX = "settings:"
REMOVALS = frozenset({"file.removed", "recognizer.removed"})


def audit_settings_file(daemon: WatchDaemon, extra: Mapping[str, Any]) -> AuditResult | None:
    """Record a change of the settings file since it was last audited, judged by the policy
    of the version last audited (never by the one it brings), and alert on it."""
    path = daemon.settings.config_path
    if path is None:
        return None
    key = SETTINGS_KEY_PREFIX + str(path)
    with daemon.lock:
        seen = observe(path, path.parent)
        if seen.kind not in ("file", "missing") or not daemon.state.changed(key, seen):
            return None
        before = daemon.state.content(key)
        if before is None and extra.get("detected_by") == "baseline":
            daemon.state.remember(key, seen)  # the first version is the trust root
            return None
        now = datetime.now(UTC)
        event = ChangeEvent(
            path=os.path.relpath(path, daemon.settings.root),
            before=before,
            after=seen.data,
            source="watcher",
            author=host_evidence(seen.owner_uid, now),
            extra={**extra, "settings_file": True},
            time=now,
        )
        auditor = daemon.auditor
        in_force = auditor.policy
        if before is not None:
            # A last audited version that does not load: judge by the running policy.
            with contextlib.suppress(ConfigAuditError):
                in_force = policy_beside(daemon.settings, settings_of(before)[0].policy)
        running, auditor.policy = auditor.policy, in_force
        try:
            result = auditor.audit_policy(event)
        finally:
            auditor.policy = running
        if seen.kind == "file":
            daemon.state.remember(key, seen)
        else:
            daemon.state.forget(key)
        daemon.recorded += 1
        daemon.raise_alerts(result, seen)
        return result


def reload_settings(daemon: WatchDaemon) -> None:
    """SIGHUP or an edit of the settings file: record and judge the change (by the policy
    before it), then re-read it; policy, globs, intervals and alert channels apply now, and
    every file the new globs no longer cover is recorded as having left coverage."""
    daemon.settings_seen = file_identity(daemon.settings.config_path)
    daemon.audit_settings({"detected_by": "reload"})
    try:
        settings = load_settings(daemon.settings.config_path)
        options = WatchOptions.from_settings(settings, os.environ)
        alerts = AlertDispatcher.from_settings(settings.alerts)
    except UsageError as exc:
        logger.error("reload failed, keeping the running configuration: %s", exc.diagnostics())
        return
    if (options.state_dir, options.log_path) != (daemon.options.state_dir, daemon.options.log_path):
        logger.warning("state_dir and log changes take effect at the next start")
        options = replace(
            options, state_dir=daemon.options.state_dir, log_path=daemon.options.log_path
        )
    daemon.watcher.stop()
    daemon.sink.close()
    policy_before = daemon.auditor.policy  # judges the files that leave (the past decides)
    daemon.settings, daemon.options = settings, options
    burst = daemon.sink.burst  # a flood in progress is not forgotten by a reload
    daemon.sink = AlertSink(AlertRules.from_settings(settings.alerts, settings.policy), alerts)
    daemon.sink.burst, burst.rules = burst, daemon.sink.rules
    daemon.auditor.settings = settings
    daemon.auditor.policy = policy_beside(settings)
    if not daemon.fixed_paths:
        daemon.roots = roots_for(settings, ())
    left = [p for p in known_paths(daemon) if daemon.locate(p) is None]
    running, daemon.auditor.policy = daemon.auditor.policy, policy_before
    try:
        for display in left:
            record_file_left(daemon, display, {"detected_by": "reload"}, removed=False)
    finally:
        daemon.auditor.policy = running
    daemon.watcher = daemon.make_watcher()
    daemon.watcher.start()
    daemon.reconcile({"detected_by": "reload-scan"})
    logger.info("configuration reloaded")


def known_paths(daemon: WatchDaemon) -> list[str]:
    """Recognizer files the watcher holds a last-known state or a problem for."""
    with daemon.lock:
        known = dict.fromkeys([*daemon.state.files, *daemon.state.problems])
    return [p for p in known if not p.startswith(SETTINGS_KEY_PREFIX)]


def record_file_left(
    daemon: WatchDaemon,
    display: str,
    extra: Mapping[str, Any],
    *,
    removed: bool,
    moved_to: str | None = None,
) -> AuditResult:
    """A file no longer watched: what it held is no longer vouched for, so every entity it
    served is weakened (`coverage.file_left`), judged by the policy in force, and alerted.
    `removed`: gone from its path too (not only from the globs), so also a removal."""
    with daemon.lock:
        before = daemon.state.content(display)
        now = datetime.now(UTC)
        info = {**extra, "coverage": "left", **({"moved_to": moved_to} if moved_to else {})}
        event = ChangeEvent(
            path=display,
            before=before,
            after=None,
            source="watcher",
            author=host_evidence(None, now),
            extra=info,
            time=now,
        )
        auditor = daemon.auditor
        judged = auditor.audit(event, write=False)
        changes = left_coverage(judged.changes, display, keep_removal=removed)
        violations = auditor.policy.check(changes, author=event.author, path=display)
        result = auditor.record(replace(judged, changes=changes, violations=tuple(violations)))
        daemon.state.forget(display)
        daemon.recorded += 1
        daemon.sink.on_result(result)
        return result


def left_coverage(
    changes: Iterable[Change], display: str, *, keep_removal: bool
) -> tuple[Change, ...]:
    """The removals a file's absence implies, as `coverage.file_left` (the file may still be
    deployed: it is the audit that lost it); a move out of the tree also removed it."""
    changes = tuple(changes)
    entities = tuple(sorted({e for c in changes if c.kind in REMOVALS for e in c.entities}))
    left = Change(
        "coverage.file_left",
        Impact.WEAKENS,
        None,
        f"{display} is no longer watched: later edits of it would go unrecorded",
        entities,
    )
    return (*changes, left) if keep_removal else (left,)
