"""After the judge: the signed tree head beside the log, published, with one failure policy.

Every door ends a batch of records the same way: refresh the checkpoint beside its log (and, in
the git door, attach a copy as a git note that travels with pushes, out of the log writer's
reach). A log that no longer extends its checkpoint is never re-signed: that is a
`verify-failure` alert here, for every door, and a `conflict` in the outcome the door maps to its
output (the hook warns, since the commit is made already; CI fails the job; the watcher logs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from config_audit.errors import ConfigAuditError
from config_audit.settings import Settings

if TYPE_CHECKING:
    from config_audit.ledger.checkpoint import NoteSigner

logger = logging.getLogger(__name__)
CHECKPOINTS_REF = "config-audit-checkpoints"


@dataclass(frozen=True)
class CheckpointOutcome:
    text: str | None = None  # the checkpoint now beside the log
    conflict: str | None = None  # the log no longer extends its checkpoint: tampering
    error: str | None = None  # written or published only in part (disk, git)

    @property
    def ok(self) -> bool:
        return self.conflict is None and self.error is None


def publish_checkpoint(
    log: Path,
    signer: NoteSigner,
    *,
    on_conflict: Callable[[str], None],
    note: tuple[str, Path] | None = None,
) -> CheckpointOutcome:
    """Refresh the checkpoint beside `log`; with `note` (commit, work tree) also attach it to the
    commit. `on_conflict` raises the door's verify-failure alert."""
    from config_audit.ledger.treehead import CheckpointConflict, refresh_checkpoint

    try:
        text = refresh_checkpoint(log, signer)
    except CheckpointConflict as exc:
        on_conflict(str(exc))
        return CheckpointOutcome(conflict=exc.diagnostics())
    except (OSError, ConfigAuditError) as exc:
        logger.warning("checkpoint not written: %s", exc)
        return CheckpointOutcome(error=f"checkpoint not written: {exc}")
    if note is not None:
        from config_audit.git import notes as gitnotes

        commit, top = note
        try:
            gitnotes.add_note(commit, text.encode("utf-8"), ref=CHECKPOINTS_REF, cwd=top)
        except ConfigAuditError as exc:
            return CheckpointOutcome(text=text, error=f"checkpoint not published: {exc}")
    return CheckpointOutcome(text=text)


def alert_failure(settings: Settings, summary: str) -> None:
    """A failed verification (of the log or its checkpoint) raises a `verify-failure` alert
    when alerts are configured."""
    if not settings.alerts:
        return
    from config_audit.alerts.alert import Alert
    from config_audit.alerts.rules import AlertSink

    sink = AlertSink.from_settings(settings)
    sink.raise_alert(Alert("verify-failure", "critical", summary))
    sink.close(timeout=15)
