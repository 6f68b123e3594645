"""`.config-audit.yaml`: which files are recognizer files, where the log and keys live, policy.

Found upward from the working directory unless `--config` names it. A missing file means
defaults that serve a repository with `recognizers/`; a malformed one is a configuration error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from config_audit.errors import UsageError, did_you_mean
from config_audit.settings.presidio import PresidioSettings, parse_presidio
from config_audit.settings.waivers import Waivers, parse_waivers

CONFIG_NAME = ".config-audit.yaml"
SIGNING_KEY_ENV = "CONFIG_AUDIT_SIGNING_KEY"  # PEM of the private key (for CI)
SIGNING_KEY_FILE_ENV = "CONFIG_AUDIT_SIGNING_KEY_FILE"  # path of this person's key file


def environ_without_keys(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` for a process that must never sign (the warm validator, the hook runner):
    without the variables that hold or name a signing key."""
    return {k: v for k, v in environ.items() if k not in (SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV)}


KNOWN_KEYS = frozenset(
    {
        "recognizers",
        "samples",
        "formats",
        "log",
        "signing_key",
        "trusted_keys",
        "hash_deny_list",
        "policy",
        "watch",
        "alerts",
        "retention",
        "validation",
        "allowed_signers",
        "findings",
        "accept",
        "strict",
        "review",
        "deployed",
        "ledger",
        "presidio",
    }
)
VALIDATION_KEYS = frozenset({"timeout_s", "warm_idle_s"})
# Sections read lazily elsewhere are checked here too, so a typo fails at load, not never.
SECTION_KEYS = {
    "alerts": frozenset({"channels", "dedup_window_s", "throttle", "rules"}),
    # `remote:`'s own keys are checked where it is read (ledger/upload: credentials are refused
    # there with the AWS-chain advice).
    "retention": frozenset({"keep_days", "local_days", "remote"}),
    "ledger": frozenset({"anchor"}),
}


@dataclass(frozen=True)
class Settings:
    root: Path
    config_path: Path | None
    recognizer_globs: tuple[str, ...] = ("recognizers/**/*.yaml", "recognizers/**/*.yml")
    samples_path: Path | None = None
    format_overrides: tuple[
        tuple[str, str], ...
    ] = ()  # (glob, "adhoc"|"registry"|"analyzer"|"nlp")
    log_path: Path | None = None  # None: each front door picks its default
    signing_key_path: Path | None = None
    trusted_keys_path: Path | None = None
    allowed_signers_path: Path | None = None  # SSH allowed-signers for commit signatures
    hash_deny_list: bool = True  # deny lists can hold personal data: store salted hashes
    policy: Mapping[str, Any] = field(default_factory=dict)
    watch: Mapping[str, Any] = field(default_factory=dict)
    alerts: Mapping[str, Any] = field(default_factory=dict)
    retention: Mapping[str, Any] = field(default_factory=dict)
    validation: Mapping[str, Any] = field(default_factory=dict)
    waivers: Waivers = field(default_factory=Waivers)  # `findings:` severities, `accept:`
    strict: bool = False  # gates block on existing errors too, not only on introduced ones
    review: Mapping[str, Any] = field(default_factory=dict)  # access review (siem.access.model)
    # The paths Presidio reads (globs like `recognizers`); None: every audited file where it is.
    # Renaming a deployed file removes it; renaming another audited file (a draft) does not.
    deployed: tuple[str, ...] | None = None
    anchor_path: Path | None = None  # `ledger: {anchor: PATH}`: a checkpoint kept elsewhere
    presidio: PresidioSettings = field(default_factory=PresidioSettings)  # whose Presidio


def user_signing_key(environ: Mapping[str, str]) -> Path:
    """This person's signing key, outside every repository (so the committed settings name no
    machine's path): $CONFIG_AUDIT_SIGNING_KEY_FILE, else
    $XDG_CONFIG_HOME/config-audit/signing-key.pem (default ~/.config/...)."""
    named = environ.get(SIGNING_KEY_FILE_ENV)
    if named:
        return Path(named).expanduser()
    home = environ.get("HOME") or str(Path.home())
    base = environ.get("XDG_CONFIG_HOME") or str(Path(home) / ".config")
    return Path(base) / "config-audit" / "signing-key.pem"


def find_config(start: Path) -> Path | None:
    """The nearest `.config-audit.yaml` at or above `start`."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_settings(config: Path | None = None, *, cwd: Path | None = None) -> Settings:
    """Read settings from `config`, or the nearest config file, or defaults."""
    cwd = cwd or Path.cwd()
    path = config or find_config(cwd)
    if path is None:
        samples = cwd / "recognizers" / "samples.yaml"
        return Settings(
            root=cwd, config_path=None, samples_path=samples if samples.is_file() else None
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UsageError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc}") from None
    return parse_settings(raw, root=path.parent, config_path=path)


def parse_settings(raw: Any, *, root: Path, config_path: Path | None) -> Settings:
    """Pure: a loaded YAML mapping to `Settings`; unknown keys are an error (fail closed)."""
    where = str(config_path or CONFIG_NAME)
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: top level must be a mapping")
    _known_keys(raw, KNOWN_KEYS, where=where, what="key")
    if isinstance(raw.get("validation"), dict):
        _known_keys(
            raw["validation"],
            VALIDATION_KEYS,
            where=where,
            what="validation key",
            more="findings are chosen with top-level 'findings:' (per-code severity) and "
            "'accept:' (reasoned acceptances); ",
        )
    for section, known in SECTION_KEYS.items():
        if isinstance(raw.get(section), dict):
            _known_keys(raw[section], known, where=where, what=f"{section} key")
    strict = _flag(raw, "strict", False, where)

    def opt_path(key: str) -> Path | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise UsageError(f"{where}: '{key}' must be a path string")
        return root / os.path.expanduser(value)

    globs = _recognizer_globs(raw, where)
    formats = raw.get("formats") or {}
    if not isinstance(formats, dict) or not all(
        v in ("adhoc", "registry", "analyzer", "nlp") for v in formats.values()
    ):
        raise UsageError(f"{where}: 'formats' maps globs to adhoc | registry | analyzer | nlp")
    for section in ("policy", "watch", "alerts", "retention", "validation", "review"):
        if not isinstance(raw.get(section) or {}, dict):
            raise UsageError(f"{where}: '{section}' must be a mapping")
    validation = raw.get("validation") or {}  # its keys are checked above
    timeout = validation.get("timeout_s", 20.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise UsageError(f"{where}: 'validation.timeout_s' must be a positive number of seconds")
    hash_deny = _flag(raw, "hash_deny_list", True, where)
    samples = opt_path("samples")
    if samples is None and (root / "recognizers" / "samples.yaml").is_file():
        samples = root / "recognizers" / "samples.yaml"
    return Settings(
        root=root,
        config_path=config_path,
        recognizer_globs=tuple(globs),
        samples_path=samples,
        format_overrides=tuple((str(k), str(v)) for k, v in formats.items()),
        log_path=opt_path("log"),
        signing_key_path=opt_path("signing_key"),
        trusted_keys_path=opt_path("trusted_keys"),
        allowed_signers_path=opt_path("allowed_signers"),
        hash_deny_list=hash_deny,
        policy=raw.get("policy") or {},
        watch=raw.get("watch") or {},
        alerts=raw.get("alerts") or {},
        retention=raw.get("retention") or {},
        validation=raw.get("validation") or {},
        waivers=parse_waivers(raw.get("findings"), raw.get("accept"), where=where),
        strict=strict,
        review=raw.get("review") or {},
        **_deployment(raw, root, where),
        presidio=parse_presidio(raw.get("presidio"), root=root, where=where),
    )


def _flag(raw: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise UsageError(f"{where}: '{key}' must be true or false")
    return value


def _deployment(raw: Mapping[str, Any], root: Path, where: str) -> dict[str, Any]:
    """`deployed:` (the paths Presidio reads) and `ledger.anchor` (a checkpoint kept apart)."""
    deployed = raw.get("deployed")
    if deployed is not None and (
        not isinstance(deployed, list)
        or not all(isinstance(g, str) and g.strip() for g in deployed)
    ):
        raise UsageError(
            f"{where}: 'deployed' must be a list of glob strings (paths Presidio reads)"
        )
    ledger = raw.get("ledger") or {}
    if not isinstance(ledger, dict) or not isinstance(ledger.get("anchor", ""), str):
        raise UsageError(f"{where}: 'ledger' must be a mapping; 'ledger.anchor' a path string")
    anchor = ledger.get("anchor")
    return {
        "deployed": tuple(deployed) if deployed is not None else None,
        "anchor_path": root / os.path.expanduser(anchor) if anchor else None,
    }


def _recognizer_globs(raw: Mapping[str, Any], where: str) -> list[str]:
    globs = raw.get("recognizers", Settings.recognizer_globs)
    if isinstance(globs, str):
        globs = [globs]
    if not isinstance(globs, list | tuple) or not all(isinstance(g, str) for g in globs):
        raise UsageError(f"{where}: 'recognizers' must be a list of glob strings")
    for glob in globs:
        if os.path.isabs(os.path.expanduser(glob)) or not glob.strip():
            raise UsageError(
                f"{where}: 'recognizers' glob {glob!r} is not relative",
                advice="globs are relative to the settings file's directory, "
                "e.g. 'config/presidio/*.yaml'",
            )
    return list(globs)


def _known_keys(
    raw: Mapping[Any, Any], known: frozenset[str], *, where: str, what: str, more: str = ""
) -> None:
    """Fail closed on a key we do not read (a silently ignored setting is a hidden weakening)."""
    unknown = sorted(str(k) for k in set(raw) - known)
    if unknown:
        raise UsageError(
            f"{where}: unknown {what}(s) {unknown}", advice=more + did_you_mean(unknown, known)
        )
