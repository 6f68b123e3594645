"""Which events raise alerts: small rules over audit results, configured in `.config-audit.yaml`.

alerts:
  channels: [{type: log}, {type: syslog, address: udp://127.0.0.1:514}]
  throttle: {max_per_window: 20, window_s: 60}
  rules:                       # every rule is on unless set to false
    protected_weakening: true  # weakening change to a protected entity (policy)
    weakening_change: true
    recognizer_removed: true   # removed or disabled
    invalid_file: true         # seen by a hook, CI or the watcher
    out_of_band_edit: true
    policy_violation: true
    burst: {max_changes: 500, window_s: 60}
    verify_failure: true
    coverage_gap: true
"""

from __future__ import annotations

import fnmatch
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from config_audit.alerts.alert import Alert
from config_audit.alerts.dispatch import AlertDispatcher, alerts_for_result, record_ref
from config_audit.errors import UsageError
from config_audit.model import AuditResult, Impact
from config_audit.settings import Settings

RULES = (
    "protected_weakening",
    "weakening_change",
    "recognizer_removed",
    "invalid_file",
    "out_of_band_edit",
    "policy_violation",
    "burst",
    "verify_failure",
    "coverage_gap",
    "access_review",
)
KIND_OF_RULE = {
    "protected_weakening": "protected-weakening",
    "weakening_change": "weakening-change",
    "recognizer_removed": "recognizer-removed",
    "invalid_file": "invalid-file",
    "out_of_band_edit": "out-of-band-edit",
    "policy_violation": "policy-violation",
    "burst": "burst",
    "verify_failure": "verify-failure",
    "coverage_gap": "watcher-gap",
    "access_review": "access-review",
}
REMOVALS = frozenset({"recognizer.removed", "recognizer.disabled", "file.removed"})


@dataclass(frozen=True)
class AlertRules:
    enabled: frozenset[str] = frozenset(RULES)
    protected: frozenset[str] = frozenset()
    burst_max: int = 500
    burst_window_s: float = 60.0

    @classmethod
    def from_settings(cls, alerts: Mapping[str, Any], policy: Mapping[str, Any]) -> AlertRules:
        raw = alerts.get("rules") or {}
        if not isinstance(raw, dict):
            raise UsageError("alerts.rules must be a mapping of rule name to true/false")
        unknown = sorted(set(raw) - set(RULES))
        if unknown:
            raise UsageError(f"unknown alert rule(s) {unknown}", advice=f"rules: {list(RULES)}")
        enabled = frozenset(r for r in RULES if raw.get(r, True) is not False)
        burst_raw = raw.get("burst")
        burst: dict[str, Any] = burst_raw if isinstance(burst_raw, dict) else {}
        protected = frozenset(str(e) for e in policy.get("protected_entities") or [])
        return cls(
            enabled, protected, int(burst.get("max_changes", 500)), float(burst.get("window_s", 60))
        )

    def allows(self, kind: str) -> bool:
        return any(KIND_OF_RULE[r] == kind for r in self.enabled) or kind in (
            "symlink-escape",
            "throttled",
            "versions-coalesced",  # a flood of versions: some were not audited one by one
        )

    def for_result(self, result: AuditResult, *, baseline: bool = False) -> list[Alert]:
        """The alerts one audited change raises under these rules."""
        out = [
            a
            for a in alerts_for_result(result, out_of_band=not baseline, weakening=not baseline)
            if self.allows(a.kind)
        ]
        if baseline:
            return out
        seq, digest = record_ref(result.record)
        path = result.event.path
        weak = [c for c in result.changes if c.impact is Impact.WEAKENS]
        hit = sorted(
            {
                e
                for c in weak
                for e in c.entities
                if any(fnmatch.fnmatchcase(e, p) for p in self.protected)
            }
        )
        if hit and "protected_weakening" in self.enabled:
            out.append(
                Alert(
                    "protected-weakening",
                    "critical",
                    f"weakening change to protected entities {hit}",
                    path,
                    seq,
                    digest,
                )
            )
        removed = sorted({c.kind for c in result.changes if c.kind in REMOVALS})
        if removed and "recognizer_removed" in self.enabled:
            count = sum(c.kind in REMOVALS for c in result.changes)
            out.append(
                Alert(
                    "recognizer-removed",
                    "critical",
                    f"{count} recognizer(s) removed or disabled ({', '.join(removed)})",
                    path,
                    seq,
                    digest,
                )
            )
        if result.violations and "policy_violation" in self.enabled:
            codes = sorted({f.code for f in result.violations})
            out.append(
                Alert(
                    "policy-violation",
                    "critical",
                    f"policy violation ({', '.join(codes)}) by "
                    f"{result.event.author.who or 'unknown author'}",
                    path,
                    seq,
                    digest,
                )
            )
        return out


class BurstDetector:
    """Fires once when more than `max_changes` changes land within `window_s`; re-arms after."""

    def __init__(self, rules: AlertRules, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules
        self.clock = clock
        self.times: deque[float] = deque()
        self.fired_at: float | None = None

    def observe(self, count: int = 1) -> Alert | None:
        if "burst" not in self.rules.enabled:
            return None
        now = self.clock()
        self.times.extend([now] * count)
        while self.times and now - self.times[0] > self.rules.burst_window_s:
            self.times.popleft()
        if self.fired_at is not None and now - self.fired_at <= self.rules.burst_window_s:
            return None
        if len(self.times) > self.rules.burst_max:
            self.fired_at = now
            return Alert(
                "burst",
                "critical",
                f"{len(self.times)} recognizer changes within "
                f"{self.rules.burst_window_s:g}s (limit {self.rules.burst_max})",
            )
        return None


class AlertSink:
    """Rules + burst detection + the dispatcher: what every front door holds for alerting."""

    def __init__(self, rules: AlertRules, dispatcher: AlertDispatcher) -> None:
        self.rules = rules
        self.dispatcher = dispatcher
        self.burst = BurstDetector(rules)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertSink:
        return cls(
            AlertRules.from_settings(settings.alerts, settings.policy),
            AlertDispatcher.from_settings(settings.alerts),
        )

    def on_result(self, result: AuditResult, *, baseline: bool = False, burst: bool = True) -> None:
        """Raise the alerts for one audited change; `burst=False` where wall-clock time says
        nothing about how fast changes were made (CI replaying a range)."""
        for alert in self.rules.for_result(result, baseline=baseline):
            self.dispatcher.dispatch(alert)
        if burst and result.changes and not baseline:
            flood = self.burst.observe(len(result.changes))
            if flood is not None:
                self.dispatcher.dispatch(flood)

    def raise_alert(self, alert: Alert) -> None:
        if self.rules.allows(alert.kind):
            self.dispatcher.dispatch(alert)

    def close(self, timeout: float = 30.0) -> None:
        self.dispatcher.close(timeout)


def alert_results(
    settings: Settings, results: list[AuditResult], *, burst: bool = True, one_alert: bool = False
) -> None:
    """Hooks and CI: raise the alerts for `results` when alerting is configured, then drain.
    `one_alert`: `results` are one attempt (a hook run): one alert, folded (see `fold`)."""
    if not settings.alerts or not results:
        return
    sink = AlertSink.from_settings(settings)
    try:
        if one_alert:
            folded = fold([a for r in results for a in sink.rules.for_result(r)])
            if folded is not None:
                sink.dispatcher.dispatch(folded)
            return
        for result in results:
            sink.on_result(result, burst=burst)
    finally:
        sink.close(timeout=15)


# Which alert of an attempt leads when they are folded into one: who broke a rule first.
PRIORITY = (
    "policy-violation",
    "protected-weakening",
    "recognizer-removed",
    "invalid-file",
    "weakening-change",
    "out-of-band-edit",
)


def fold(alerts: list[Alert]) -> Alert | None:
    """One alert for what one attempt raised: the leading alert's kind and the highest
    severity, the others named in its summary (kinds and summaries only: never content)."""
    if len(alerts) <= 1:
        return alerts[0] if alerts else None
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    ordered = sorted(alerts, key=lambda a: rank.get(a.kind, len(PRIORITY)))
    lead = ordered[0]
    also = list(dict.fromkeys(f"{a.kind}: {a.summary}" for a in ordered[1:]))
    paths = sorted({a.path for a in alerts if a.path})
    more = f" (+{len(paths) - 1} more file(s))" if len(paths) > 1 else ""
    severity = max((a.severity for a in alerts), key=("info", "warning", "critical").index)
    return Alert(
        lead.kind,
        severity,
        f"{lead.summary}{more}; also " + "; ".join(also),
        lead.path,
        lead.record_seq,
        lead.record_hash,
    )
