"""Assemble an `Auditor` from settings: validator, policy, log and key. I/O lives here."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from config_audit.errors import SigningKeyError, UsageError
from config_audit.settings import Settings

if TYPE_CHECKING:
    from config_audit.audit.pipeline import Auditor
    from config_audit.ledger.log import Ledger
    from config_audit.ledger.signing import Signer
    from config_audit.validate import Validator

log = logging.getLogger(__name__)


DEFAULT_TIMEOUT_S = 20.0


def validation_timeout(settings: Settings, override: float | None = None) -> float:
    """Seconds a file may take in Presidio: the command line's, else `validation.timeout_s`
    (a positive number: `parse_settings` refuses anything else, so it is not checked twice)."""
    if override is not None:
        return override
    return float(settings.validation.get("timeout_s", DEFAULT_TIMEOUT_S))


WARM_IDLE_ENV = "CONFIG_AUDIT_WARM_IDLE_S"  # overrides `validation.warm_idle_s`; 0 disables


def warm_idle(settings: Settings, environ: Mapping[str, str] | None = None) -> float:
    """Seconds the warm validator lingers unused: the environment's, else
    `validation.warm_idle_s`, else 15 minutes; 0 means no warm validator."""
    env = os.environ if environ is None else environ
    value: object = settings.validation.get("warm_idle_s", 900.0)
    if env.get(WARM_IDLE_ENV, "").strip():
        try:
            value = float(env[WARM_IDLE_ENV])
        except ValueError:
            value = env[WARM_IDLE_ENV]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise UsageError(
            f"validation.warm_idle_s: expected seconds (0 disables), got {value!r}",
            advice="e.g. validation: {warm_idle_s: 900}",
        )
    return float(value)


def warm_dir(git_common_dir: Path) -> Path:
    """Where a repository's warm validator lives: one per repository, shared by worktrees."""
    return git_common_dir / "config-audit" / "warm"


def build_validator(
    settings: Settings,
    *,
    timeout_s: float | None = None,
    cache_dir: Path | None = None,
    warm_dir: Path | None = None,
    start_warm: bool = False,
) -> Validator:
    """The one way every door builds its Presidio validator: settings' bounds and samples.
    With `warm_dir` (the repository's), loads go to its warm server when one answers
    (`start_warm`: start it if absent); a `--timeout` of the command line stays in-process
    (a server keyed on the settings' bound would restart for it)."""
    # Imported here: the validate package costs ~30 ms that a cached verdict never needs.
    from config_audit.validate import ValidationLimits, Validator

    limits = ValidationLimits(timeout_s=validation_timeout(settings, timeout_s))
    idle_s = warm_idle(settings) if warm_dir is not None else 0.0
    if warm_dir is not None and idle_s > 0 and timeout_s is None:
        from config_audit.validate.warm_client import WarmValidator

        return WarmValidator(
            directory=warm_dir,
            settings_digest=repr(settings),
            start=start_warm,
            idle_s=idle_s,
            limits=limits,
            samples_path=settings.samples_path,
            cache_dir=cache_dir,
            presidio=settings.presidio,
        )
    return Validator(
        limits=limits,
        samples_path=settings.samples_path,
        cache_dir=cache_dir,
        presidio=settings.presidio,
    )


@contextmanager
def open_auditor(
    settings: Settings,
    *,
    log_path: Path | None,
    presidio: bool = True,
    require_key: bool = True,
    cache_dir: Path | None = None,
    prestart: bool = False,
    environ: Mapping[str, str] | None = None,
    warm_dir: Path | None = None,
) -> Iterator[Auditor]:
    """An Auditor with a warm validator (closed on exit) and, when a key is found, a signed log."""
    env = os.environ if environ is None else environ
    created: list[Validator] = []

    def make_validator() -> Validator:
        validator = build_validator(
            settings,
            cache_dir=cache_dir / "loads" if cache_dir is not None else None,
            warm_dir=warm_dir,
            start_warm=warm_dir is not None,
        )
        created.append(validator)
        return validator

    if presidio and prestart:  # Presidio's import (~1 s) overlaps the rest of our work
        make_validator().prestart()
    try:
        signer, ledger = _signer_and_ledger(settings, log_path, require_key, env)
    except BaseException:
        for validator in created:
            validator.close()
        raise
    # Imported here: `validate` builds only a validator, and the pipeline (records, verdict
    # cache, policy) costs it ~10 ms it never uses.
    from config_audit.audit.pipeline import Auditor

    auditor = Auditor(
        settings,
        validator=created[0] if created else None,
        validator_factory=make_validator if presidio else None,
        ledger=ledger,
        signer=signer,
        environ=env,
        cache_dir=cache_dir,
    )
    try:
        yield auditor
    finally:
        auditor.close()
        for validator in created:
            validator.close()


def _signer_and_ledger(
    settings: Settings, log_path: Path | None, require_key: bool, env: Mapping[str, str]
) -> tuple[Signer | None, Ledger | None]:
    from config_audit.ledger.keys import load_signer
    from config_audit.ledger.log import Ledger

    signer = None
    try:
        signer = load_signer(path=settings.signing_key_path, environ=env)
    except SigningKeyError as exc:
        if require_key:
            raise
        log.warning("no change record is written: %s", exc.diagnostics())
    ledger = Ledger(log_path) if log_path is not None and signer is not None else None
    return signer, ledger
