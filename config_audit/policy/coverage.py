"""What the tool looks at, and how lenient its gate is: changes to the settings that decide
which files are audited, who may vouch, what records hold, and which findings are waived.

Each narrowing weakens every protected entity (judged by the policy in force before the change):
a commit could otherwise narrow the audit, then weaken what fell outside it unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config_audit.model import Change, Impact
from config_audit.policy.rules import POLICY_RECOGNIZER as POLICY
from config_audit.settings import Settings

W, S = Impact.WEAKENS, Impact.STRENGTHENS


def diff_coverage(
    old: tuple[Settings, Mapping[str, Any]], new: tuple[Settings, Mapping[str, Any]]
) -> list[Change]:
    """What the tool looks at: a recognizer glob dropped (or the samples moved away) means
    files, or detection checks, silently leave the audit, which weakens every protected entity;
    a commit could otherwise narrow the globs, then weaken what fell outside them unchecked."""
    (before, raw_a), (after, raw_b) = old, new
    everything = tuple(sorted(str(e) for e in before.policy.get("protected_entities") or []))
    return [
        *_glob_changes(before, after, everything),
        *_format_changes(before, after, everything),
        *_trust_path_changes(raw_a, raw_b, everything),
        *_deployed_changes(before, after, everything),
        *_anchor_changes(raw_a, raw_b, everything),
        *_hashing_changes(before, after, everything),
        *_samples_changes(raw_a, raw_b, everything),
        *diff_waivers(before, after, everything),
    ]


def _glob_changes(before: Settings, after: Settings, everything: tuple[str, ...]) -> list[Change]:
    """Recognizer globs dropped (those files leave the audit), then globs added."""
    out: list[Change] = []
    old_globs, new_globs = set(before.recognizer_globs), set(after.recognizer_globs)
    if old_globs - new_globs:
        out.append(
            Change(
                "coverage.globs_removed",
                W,
                POLICY,
                f"recognizer files matching {sorted(old_globs - new_globs)} are no longer audited",
                everything,
                ", ".join(sorted(old_globs)),
                ", ".join(sorted(new_globs)),
            )
        )
    if new_globs - old_globs:
        out.append(
            Change(
                "coverage.globs_added",
                S,
                POLICY,
                f"recognizer files matching {sorted(new_globs - old_globs)} are now audited",
            )
        )
    return out


def _format_changes(before: Settings, after: Settings, everything: tuple[str, ...]) -> list[Change]:
    """A file read as another format is checked by other rules."""
    if before.format_overrides == after.format_overrides:
        return []
    return [
        Change(
            "coverage.formats_changed",
            W,
            POLICY,
            "format overrides changed",
            everything,
            str(dict(before.format_overrides)),
            str(dict(after.format_overrides)),
        )
    ]


def _trust_path_changes(
    raw_a: Mapping[str, Any], raw_b: Mapping[str, Any], everything: tuple[str, ...]
) -> list[Change]:
    """Who may vouch for hook records and commits: the files named by the raw settings (a
    settings file that did not exist before has no trust paths to loosen)."""
    out: list[Change] = []
    for key in ("trusted_keys", "allowed_signers"):
        if raw_a and raw_a.get(key) != raw_b.get(key):
            out.append(
                Change(
                    "trust.path_changed",
                    W,
                    POLICY,
                    f"{key} {raw_a.get(key)} -> {raw_b.get(key)}",
                    everything,
                    str(raw_a.get(key)),
                    str(raw_b.get(key)),
                )
            )
    return out


def _deployed_changes(
    before: Settings, after: Settings, everything: tuple[str, ...]
) -> list[Change]:
    """Fewer deployed paths: renaming what Presidio reads would no longer count as removal."""
    if before.deployed == after.deployed:
        return []
    wider = after.deployed is None or (
        before.deployed is not None and set(before.deployed) <= set(after.deployed)
    )
    return [
        Change(
            "coverage.deployed_changed",
            S if wider else W,
            POLICY,
            f"deployed paths {before.deployed or 'every audited file'} -> "
            f"{after.deployed or 'every audited file'}",
            () if wider else everything,
        )
    ]


def _anchor_changes(
    raw_a: Mapping[str, Any], raw_b: Mapping[str, Any], everything: tuple[str, ...]
) -> list[Change]:
    """Where `verify` finds the checkpoint the writer cannot rewrite."""
    if raw_a and (raw_a.get("ledger") or {}).get("anchor") != (raw_b.get("ledger") or {}).get(
        "anchor"
    ):
        return [Change("trust.anchor_changed", W, POLICY, "ledger.anchor changed", everything)]
    return []


def _hashing_changes(
    before: Settings, after: Settings, everything: tuple[str, ...]
) -> list[Change]:
    """In clear, deny lists (personal data) would reach every signed record."""
    if before.hash_deny_list == after.hash_deny_list:
        return []
    return [
        Change(
            "records.deny_list_hashing_changed",
            W if not after.hash_deny_list else S,
            POLICY,
            f"hash_deny_list {before.hash_deny_list} -> {after.hash_deny_list}",
            everything if not after.hash_deny_list else (),
        )
    ]


def _samples_changes(
    raw_a: Mapping[str, Any], raw_b: Mapping[str, Any], everything: tuple[str, ...]
) -> list[Change]:
    """Detection samples moved or dropped: their checks silently leave the audit."""
    samples_a, samples_b = raw_a.get("samples"), raw_b.get("samples")
    if samples_a == samples_b:
        return []
    return [
        Change(
            "coverage.samples_changed",
            W if samples_a is not None else S,
            POLICY,
            f"detection samples {samples_a} -> {samples_b}",
            everything if samples_a is not None else (),
            str(samples_a),
            str(samples_b),
        )
    ]


RANK = {"off": 0, "info": 1, "warning": 2, "error": 3}


def diff_waivers(before: Settings, after: Settings, everything: tuple[str, ...]) -> list[Change]:
    """Waivers loosen the gate: an acceptance added or widened (new glob, no or later expiry), a
    severity lowered, `strict` turned off. Each weakens every protected entity, so the owners
    of what is protected must agree, under the policy in force before."""
    out: list[Change] = []
    old_accepts = set(before.waivers.accepts)
    for acc in after.waivers.accepts:
        if acc not in old_accepts:
            scope = f"{acc.code} in {acc.path}" + (f" [{acc.recognizer}]" if acc.recognizer else "")
            until = f" until {acc.expires}" if acc.expires else " with no expiry"
            out.append(
                Change(
                    "waivers.acceptance_added",
                    W,
                    POLICY,
                    f"accepts {scope}{until}: {acc.reason}",
                    everything,
                )
            )
    for acc in old_accepts - set(after.waivers.accepts):
        out.append(Change("waivers.acceptance_removed", S, POLICY, f"no longer accepts {acc.code}"))
    old_levels, new_levels = dict(before.waivers.severities), dict(after.waivers.severities)
    for code in sorted(old_levels.keys() | new_levels.keys()):
        a, b = old_levels.get(code), new_levels.get(code)
        if a == b:
            continue
        # Unset means the tool's own severity; any explicit level below error may lower it.
        lower = RANK.get(b or "error", 3) < RANK.get(a or "error", 3) or (
            a is None and b != "error"
        )
        out.append(
            Change(
                "waivers.severity_changed",
                W if lower else S,
                POLICY,
                f"{code}: {a or 'default'} -> {b or 'default'}",
                everything if lower else (),
                str(a),
                str(b),
            )
        )
    if before.strict and not after.strict:
        out.append(
            Change("waivers.strict_off", W, POLICY, "existing errors no longer block", everything)
        )
    return out
