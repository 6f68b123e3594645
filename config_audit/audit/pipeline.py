"""The one pipeline every front door calls: parse -> diff -> validate -> policy -> record.

Hooks, CI and the watcher turn what they see into a `ChangeEvent` and call `Auditor.audit`, so
behaviour cannot drift between them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config_audit.audit.verdicts import Verdict, VerdictCache, sha256_hex
from config_audit.errors import ConfigAuditError
from config_audit.model import (
    AuditResult,
    Change,
    ChangeEvent,
    Evidence,
    Finding,
    Severity,
    ValidationReport,
)
from config_audit.policy.directory import read_files_under
from config_audit.policy.rules import Policy, parse_policy
from config_audit.settings import Settings

if TYPE_CHECKING:
    from config_audit.audit.check import CheckedFile
    from config_audit.ledger.log import Ledger
    from config_audit.ledger.signing import Signer
    from config_audit.validate import Validator

log = logging.getLogger(__name__)
SALT_ENV = "CONFIG_AUDIT_DENY_LIST_SALT"
UNAUDITABLE_HINT = "commit the recognizer file itself, or a symlink to a file in the repository"


class Auditor:
    """Holds the warm validator, the policy and the log for a run over many events."""

    def __init__(
        self,
        settings: Settings,
        *,
        validator: Validator | None = None,
        validator_factory: Callable[[], Validator] | None = None,
        policy: Policy | None = None,
        ledger: Ledger | None = None,
        signer: Signer | None = None,
        environ: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.cache_dir = cache_dir  # verdicts keyed by content, shared by pre- and post-commit
        # Created on first use: a post-commit that reuses pre-commit's verdict never imports it.
        self._validator = validator
        self._validator_factory = validator_factory
        self.policy = policy if policy is not None else policy_beside(settings)
        self.ledger = ledger
        self.signer = signer
        self.environ = os.environ if environ is None else environ
        # A range audit sees each version twice (after of one commit, before of the next).
        self._checked: dict[tuple[str, str], Future[CheckedFile]] = {}
        self._lock = threading.Lock()
        self._prefetcher: ThreadPoolExecutor | None = None
        self._closing = threading.Event()

    @property
    def validator(self) -> Validator | None:
        if self._validator is None and self._validator_factory is not None:
            self._validator = self._validator_factory()
        return self._validator

    @property
    def validates(self) -> bool:
        """Whether files are loaded into Presidio (without starting anything)."""
        return self._validator is not None or self._validator_factory is not None

    def check(self, data: bytes | None, path: str) -> CheckedFile | None:
        if data is None:
            return None
        return self._submit(data, path).result()

    def prefetch(self, versions: list[tuple[bytes, str]]) -> None:
        """Validate these versions in the background, in order: parse and lint all of them while
        the worker imports Presidio, then load each, so the worker loads the next version while
        this thread diffs, signs and appends the previous one (CI ranges)."""
        pending: list[tuple[bytes, str, Future[CheckedFile]]] = []
        with self._lock:
            for data, path in versions:
                key = (path, hashlib.sha256(data).hexdigest())
                if key not in self._checked:
                    future: Future[CheckedFile] = Future()
                    self._checked[key] = future
                    pending.append((data, path, future))
        if not pending:
            return
        if self._prefetcher is None:
            self._prefetcher = ThreadPoolExecutor(1, thread_name_prefix="config-audit-prefetch")
        self._prefetcher.submit(self._run_prefetch, pending)

    def _run_prefetch(self, pending: list[tuple[bytes, str, Future[CheckedFile]]]) -> None:
        from config_audit.audit.check import format_for, load_into_presidio, prepare

        prepared = []
        for data, path, future in pending:
            if self._closing.is_set():
                future.cancel()
                continue
            fmt = format_for(path, self.settings.format_overrides)
            try:
                prepared.append((data, prepare(data, path=path, fmt=fmt), future))
            except BaseException as exc:
                future.set_exception(exc)
        for data, checked, future in prepared:
            if self._closing.is_set():
                future.cancel()
                continue
            try:
                if self.validator is not None:
                    checked = load_into_presidio(checked, data, self.validator)
                future.set_result(checked)
            except BaseException as exc:
                future.set_exception(exc)

    def close(self) -> None:
        """Stop prefetching (an interrupted run must not wait for the whole range)."""
        self._closing.set()
        if self._prefetcher is not None:
            self._prefetcher.shutdown(wait=True, cancel_futures=True)
            self._prefetcher = None

    def _submit(self, data: bytes, path: str) -> Future[CheckedFile]:
        from config_audit.audit.check import check_bytes, format_for

        key = (path, hashlib.sha256(data).hexdigest())
        with self._lock:
            future = self._checked.get(key)
            if future is not None:
                return future  # done, or being prefetched
            if len(self._checked) > 4096:
                self._checked = {k: f for k, f in self._checked.items() if not f.done()}
            future = Future()
            self._checked[key] = future
        fmt = format_for(path, self.settings.format_overrides)
        try:
            future.set_result(check_bytes(data, path=path, fmt=fmt, validator=self.validator))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def audit(self, event: ChangeEvent, *, write: bool = True) -> AuditResult:
        """Judge one change; append a signed record when a ledger and signer are set."""
        # Parsing, linting and diffing are imported only when a verdict is not cached:
        # post-commit reuses pre-commit's, and pays ~30 ms less per commit.
        cache = self.verdicts
        verdict = cache.get(event.path, event.before, event.after) if cache else None
        if verdict is None:
            from config_audit.audit.check import compare_versions

            before = self.check(event.before, event.path)
            after = self.check(event.after, event.path)
            changes, problems = compare_versions(before, after)
            verdict = Verdict(
                changes,
                before.report if before else None,
                after.report if after else None,
                problems,
            )
            if cache:
                cache.put(
                    event.path, event.before, event.after, verdict, salt=self.deny_list_salt()
                )
        # Policy depends on who made the change, so it is never cached; nor are waivers (they
        # expire) nor what is existing (it depends on both versions).
        violations = self.policy.check(verdict.changes, author=event.author, path=event.path)
        before_report, after_report = self._waived(verdict.before, verdict.after, event)
        unauditable = tuple(  # a link out of the tree, a submodule: what would Presidio read?
            Finding("CA005", Severity.ERROR, str(why), path=event.path, hint=UNAUDITABLE_HINT)
            for why in event.extra.get("unauditable") or ()
        )
        result = AuditResult(
            event,
            tuple(verdict.changes),
            before_report,
            after_report,
            tuple(verdict.problems) + unauditable,
            tuple(violations),
            strict=self.settings.strict,
        )
        return self._recorded(result, write)

    def _waived(
        self, before: ValidationReport | None, after: ValidationReport | None, event: ChangeEvent
    ) -> tuple[ValidationReport | None, ValidationReport | None]:
        from config_audit.settings.waivers import apply_waivers, mark_existing

        waivers = self.settings.waivers
        if before is not None:
            before = apply_waivers(
                before, waivers, path=event.path, source=event.before, parent=event.before
            )
        if after is not None:
            after = apply_waivers(
                after, waivers, path=event.path, source=event.after, parent=event.before or b""
            )
            after = mark_existing(after, before)
        return before, after

    def audit_policy(self, event: ChangeEvent, *, write: bool = True) -> AuditResult:
        """A change to the settings file: the policy's own changes, judged by `self.policy`
        (the caller sets the policy in force before the change)."""
        from config_audit.policy.diff import (
            attributes_changes,
            diff_coverage,
            diff_policies,
            layout_changes,
            settings_of,
        )
        from config_audit.settings.presidio import diff_presidio, interpreter_changed

        changes: list[Change] = []
        problems: tuple[Finding, ...] = ()
        layout = event.extra.get("settings_layout")
        try:
            if layout is not None:  # moved, removed, a link, a second file, a trust file
                changes = layout_changes(
                    str(layout), event.before, event.after, self.policy.protected
                )
            if layout == "attributes":
                lines = [str(x) for x in event.extra.get("attribute_lines") or ()]
                changes = attributes_changes(lines, self.policy.protected)
            if event.extra.get("trust_file") == "presidio.python":  # any edit, not only lines added
                changes = interpreter_changed(event.path, self.policy.protected)
            if layout not in ("trust_file", "second", "attributes"):
                old, new = settings_of(event.before), settings_of(event.after)
                changes += diff_policies(old[0].policy, new[0].policy) + diff_coverage(old, new)
                changes += diff_presidio(old[1], new[1], self.policy.protected)
        except ConfigAuditError as exc:
            problems = (
                Finding(
                    "CA504",
                    Severity.ERROR,
                    f"settings file does not load: {exc}",
                    path=event.path,
                    hint=exc.advice or "fix .config-audit.yaml",
                ),
            )
        violations = self.policy.check(changes, author=event.author, path=event.path)
        result = AuditResult(event, tuple(changes), None, None, problems, tuple(violations))
        return self._recorded(result, write)

    def record(self, result: AuditResult) -> AuditResult:
        """Append the signed record of a judged result a door completed (the watcher's
        unreadable file: findings of its own, no diff). The one path to the log for changes."""
        return self._recorded(result, True)

    def record_event(
        self, source: str, *, author: Evidence, extra: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        """A record of no change (the watcher's start, stop and heartbeats), same log, same key."""
        from config_audit.ledger.records import build_record_body

        if self.ledger is None or self.signer is None:
            raise ConfigAuditError("no record log or signing key to record to")
        body = build_record_body(
            source=source, path=None, author=author.to_dict(), extra=dict(extra), now=now
        )
        return self.ledger.append(body, self.signer)

    def _recorded(self, result: AuditResult, write: bool) -> AuditResult:
        """Append the signed record when asked to and a log and key are set."""
        if not write or self.ledger is None or self.signer is None:
            return result
        return replace(result, record=self.ledger.append(self.record_body(result), self.signer))

    @property
    def verdicts(self) -> VerdictCache | None:
        """Only verdicts that include loading into Presidio are worth keeping."""
        if self.cache_dir is None or not self.validates:
            return None
        return VerdictCache(self.cache_dir, self.settings)

    def record_body(self, result: AuditResult) -> dict[str, Any]:
        from config_audit.ledger.records import build_record_body, redact_deny_list_values

        event = result.event
        changes = [_change_dict(c) for c in result.changes]
        if self.settings.hash_deny_list:
            changes = redact_deny_list_values(changes, self.deny_list_salt())
        report = result.after or result.before
        validation = {
            "valid": not result.invalid,
            "presidio_version": report.presidio_version if report else "",
            "presidio_interpreter": report.presidio_interpreter if report else "",
            "python_version": report.python_version if report else "",
            "format": report.format.value if report and report.format else None,
            "findings": [
                _finding_dict(f)
                for f in (*result.problems, *(result.after.findings if result.after else ()))
            ],
            "samples_failed": sorted(
                s.sample_id for s in (result.after.samples if result.after else ()) if not s.ok
            ),
        }
        policy = {
            "verdict": "violation" if result.violations else "pass",
            "violations": [_finding_dict(f) for f in result.violations],
        }
        return build_record_body(
            source=event.source,
            path=event.path,
            repository=event.repository,
            commit=event.commit,
            before_sha256=sha256_hex(event.before),
            after_sha256=sha256_hex(event.after),
            changes=changes,
            validation=validation,
            policy=policy,
            author=event.author.to_dict(),
            extra=dict(event.extra) or None,
            now=event.time,
        )

    def deny_list_salt(self) -> bytes:
        """Per-deployment salt: from the environment, else a 0600 file beside the log."""
        if self.environ.get(SALT_ENV):
            return self.environ[SALT_ENV].encode()
        if self.ledger is None:
            return b"config-audit"
        path = Path(str(self.ledger.path) + ".salt")
        try:
            return path.read_bytes()
        except FileNotFoundError:
            salt = os.urandom(32).hex().encode()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(salt)
            return salt


def _change_dict(change: Change) -> dict[str, Any]:
    data = change.to_dict()
    if change.kind.startswith("deny_list.entries"):
        # Hash each entry on its own, not the JSON text of the list.
        for key in ("before", "after"):
            if data[key] is not None:
                data[key] = json.loads(data[key])
    if data.get("score") is not None and data["score"] != data["score"]:
        data["score"] = None  # NaN is not JSON
    return {k: v for k, v in data.items() if v is not None and v != ()}


def _finding_dict(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    return {k: v for k, v in data.items() if v not in (None, "")}


def policy_beside(settings: Settings, policy: Mapping[str, Any] | None = None) -> Policy:
    """The policy of `settings` (or `policy`), its directory files read beside the settings."""
    raw = settings.policy if policy is None else policy
    return parse_policy(raw, read=read_files_under(settings.root))
