"""`config-audit verify`: offline, fail-closed verification of a record log."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import click

from config_audit.commands.common import alert_failure, config_option, format_option, settings_from
from config_audit.commands.logopts import (
    log_option,
    resolve_log,
    resolve_trusted,
    trusted_keys_option,
)
from config_audit.errors import UsageError, VerificationError
from config_audit.ledger.archive import archive_dir, segment_paths, verify_segment
from config_audit.ledger.checkpoint import (
    Checkpoint,
    checkpoint_path,
    read_checkpoint_text,
    verify_checkpoint,
)
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.log import VerifyReport, check_log, check_log_bytes
from config_audit.settings import Settings

CHECKPOINTS_REF = "config-audit-checkpoints"  # where the hooks publish (commands/hook.py)


@click.command()
@log_option
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
    log_path: Path | None,
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
    log = resolve_log(settings, log_path)
    trusted = resolve_trusted(settings, trusted_keys_path)
    if not log.is_file():
        raise UsageError(f"{log}: no record log", advice="check --log or the 'log' setting")
    cp_file = checkpoint_file
    if cp_file is None and checkpoint_path(log).is_file():
        cp_file = checkpoint_path(log)
    segments = segment_paths(archives or archive_dir(log))
    # The newest checkpoint published where the log's writer cannot rewrite it (the notes ref
    # travels with pushes): an older, validly signed checkpoint restored beside a cut log, or
    # none at all, no longer hides the cut.
    published = newest_published(log, segments, trusted)
    if cp_file is None and require_checkpoint:  # deleting it is tampering: a published copy
        # still catches a cut, but the missing one is reported
        alert_failure(settings, "record log has no checkpoint")
        raise VerificationError(
            f"{log}: no checkpoint to verify against (--require-checkpoint)",
            advice="without one a truncated tail is undetectable; restore <log>.checkpoint or "
            "pass --checkpoint with a copy kept elsewhere",
        )
    warnings = []
    if cp_file is None:
        warnings.append(
            "no checkpoint: records removed from the end would go unnoticed "
            "(write one with `config-audit checkpoint`)"
            if published is None
            else f"no checkpoint beside the log: verified against the newest published in "
            f"refs/notes/{CHECKPOINTS_REF} (size {published.size})"
        )
        if output_format == "text":
            click.echo(f"note: {warnings[0]}", err=True)
    cp = verify_checkpoint(read_checkpoint_text(cp_file), trusted) if cp_file else None
    report = _checked(log, segments, archives, trusted, cp, settings)
    if published is not None and (cp is None or published.size > cp.size):
        against = _checked(log, segments, archives, trusted, published, settings)
        findings = tuple(dict.fromkeys(report.findings + against.findings))
        report = replace(report, findings=findings, checkpoint_size=published.size)
    if output_format == "json":
        click.echo(json.dumps({**report.to_dict(), "warnings": warnings}, indent=2))
    else:
        click.echo(render_text(report))
    if not report.ok:
        codes = sorted({f.code.value for f in report.findings})
        alert_failure(settings, f"record log failed verification: {', '.join(codes)}")
        ctx.exit(1)


def newest_published(log: Path, segments: list[Path], trusted: TrustedKeys) -> Checkpoint | None:
    """The largest checkpoint of this log (same origin) in refs/notes/config-audit-checkpoints
    of the repository here or around the log, signed by a trusted key; None without any."""
    from config_audit.git import notes as gitnotes
    from config_audit.git.repo import BlobReader
    from config_audit.ledger import treecache
    from config_audit.ledger.checkpoint import log_origin
    from config_audit.ledger.records import split_log

    try:
        archived = b"".join(gzip.decompress(s.read_bytes()) for s in segments)
        lines = split_log(archived + log.read_bytes())[0]
    except (OSError, gzip.BadGzipFile):
        return None
    if not lines:
        return None
    origin = log_origin(treecache.signed_hash(lines[0]).hex())
    best: Checkpoint | None = None
    for cwd in dict.fromkeys((Path.cwd(), log.resolve().parent)):
        blobs = gitnotes.note_blobs(CHECKPOINTS_REF, cwd=cwd)
        if not blobs:
            continue
        with BlobReader(cwd) as reader:
            for blob in set(blobs.values()):
                data = reader.read(blob)
                try:
                    found = verify_checkpoint((data or b"").decode("utf-8"), trusted)
                except (VerificationError, UnicodeDecodeError):
                    continue  # another log's, or not ours: it proves nothing either way
                if found.origin == origin and (best is None or found.size > best.size):
                    best = found
    return best


def _checked(
    log: Path,
    segments: list[Path],
    archives: Path | None,
    trusted: TrustedKeys,
    cp: Checkpoint | None,
    settings: Settings,
) -> VerifyReport:
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
        return check_log_bytes(archived + log.read_bytes(), trusted, checkpoint=cp, path=str(log))
    return check_log(log, trusted, checkpoint=cp)


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
