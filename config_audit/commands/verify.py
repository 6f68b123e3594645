"""`config-audit verify`: offline, fail-closed verification of a record log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import click

from config_audit.commands.common import alert_failure, config_option, format_option, settings_from
from config_audit.commands.logopts import (
    from_option,
    log_option,
    record_logs,
    resolve_trusted,
    trusted_keys_option,
)
from config_audit.errors import UsageError, VerificationError
from config_audit.ledger.archive import archive_dir, segment_paths, verify_segment
from config_audit.ledger.checkpoint import checkpoint_path, read_checkpoint_text, verify_checkpoint
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.log import VerifyReport, check_log, check_log_bytes
from config_audit.settings import Settings


@click.command()
@log_option
@from_option
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Signed checkpoint the log must extend (default: <log>.checkpoint if present).",
)
@click.option(
    "--archives",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of sealed archive segments (default: the log's archive directory).",
)
@click.option(
    "--require-checkpoint",
    is_flag=True,
    help="Fail when no checkpoint is found (someone able to truncate the log could delete it).",
)
@trusted_keys_option
@format_option
@config_option
@click.pass_context
def verify(
    ctx: click.Context,
    log_paths: tuple[Path, ...],
    writers: tuple[str, ...],
    checkpoint_file: Path | None,
    archives: Path | None,
    require_checkpoint: bool,
    trusted_keys_path: Path | None,
    output_format: str,
    config_path: Path | None,
) -> None:
    """Verify every record's signature, key window and place in the hash chain.

    Finds edited, inserted, deleted, reordered, duplicated and unparseable records, stripped or
    invalid signatures, unknown, expired or revoked keys and, against a checkpoint, truncation
    and rewritten history. Exit 0 clean, 1 findings, 2 configuration error.

    \b
    Examples:
      config-audit verify --log log.jsonl --trusted-keys .config-audit/trusted-keys.yaml
      config-audit verify --checkpoint /mnt/audit/cp.txt --format json | jq .findings
    """
    settings = settings_from(config_path)
    logs = record_logs(settings, log_paths, writers)
    trusted = resolve_trusted(settings, trusted_keys_path)
    if len(logs) > 1 and (checkpoint_file or archives):
        raise UsageError(
            "--checkpoint and --archives name one log's files: give one --log with them"
        )
    failed = False
    reports = []
    for log in logs:  # each chain verified on its own: their seq numbers are their own
        report = _verify_one(
            settings, log, trusted, checkpoint_file, archives, require_checkpoint, output_format
        )
        reports.append(report.to_dict())
        if output_format == "text":
            click.echo(render_text(report))
        if not report.ok:
            codes = sorted({f.code.value for f in report.findings})
            alert_failure(settings, f"record log failed verification: {', '.join(codes)}")
            failed = True
    if output_format == "json":  # one object for one log (as ever), a list for several
        click.echo(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    if failed:
        ctx.exit(1)


def _verify_one(
    settings: Settings,
    log: Path,
    trusted: TrustedKeys,
    checkpoint_file: Path | None,
    archives: Path | None,
    require_checkpoint: bool,
    output_format: str,
) -> VerifyReport:
    if not log.is_file():
        raise UsageError(f"{log}: no record log", advice="check --log or the 'log' setting")
    cp_file = checkpoint_file
    if cp_file is None and checkpoint_path(log).is_file():
        cp_file = checkpoint_path(log)
    if cp_file is None and require_checkpoint:
        alert_failure(settings, "record log has no checkpoint")
        raise VerificationError(
            f"{log}: no checkpoint to verify against (--require-checkpoint)",
            advice="without one a truncated tail is undetectable; restore <log>.checkpoint or "
            "pass --checkpoint with a copy kept elsewhere",
        )
    if cp_file is None and output_format == "text":
        click.echo(
            "note: no checkpoint: records removed from the end would go unnoticed "
            "(write one with `config-audit checkpoint`)",
            err=True,
        )
    cp = verify_checkpoint(read_checkpoint_text(cp_file), trusted) if cp_file else None
    segments = segment_paths(archives or archive_dir(log))
    if segments:
        # Archived segments first (each proven by its signed manifest), then the live log:
        # one chain from seq 1, so a checkpoint taken before archiving still applies.
        try:
            for segment in segments:
                verify_segment(segment, trusted)
        except VerificationError as exc:
            alert_failure(settings, f"archive segment failed verification: {exc}")
            raise
        archived = b"".join(gzip.decompress(segment.read_bytes()) for segment in segments)
        report = check_log_bytes(archived + log.read_bytes(), trusted, checkpoint=cp, path=str(log))
    else:
        report = check_log(log, trusted, checkpoint=cp)
    return report


def render_text(report: VerifyReport) -> str:
    against = f", checkpoint size {report.checkpoint_size}" if report.checkpoint_size else ""
    if report.ok:
        return f"OK {report.path}: {report.lines} records verified{against}"
    out = [
        f"FAIL {report.path}: {len(report.findings)} finding(s) in {report.lines} lines{against}"
    ]
    for f in report.findings:
        where = f" (line {', '.join(map(str, f.lines))})" if f.lines else ""
        out.append(f"  {f.code.value}: {f.seq_range}{where}: {f.detail}")
        out.append(f"    means: {f.meaning}")
        out.append(f"    do:    {f.advice}")
    return "\n".join(out)
