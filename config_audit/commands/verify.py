"""`config-audit verify`: offline, fail-closed verification of a record log."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from config_audit.audit.publish import CHECKPOINTS_REF, alert_failure
from config_audit.commands.common import config_option, format_option, settings_from
from config_audit.commands.logopts import (
    from_option,
    log_option,
    record_logs,
    resolve_trusted,
    trusted_keys_option,
)
from config_audit.errors import UsageError, VerificationError
from config_audit.ledger.archive import archive_dir, segment_paths
from config_audit.ledger.checkpoint import checkpoint_path, read_checkpoint_text, verify_checkpoint
from config_audit.ledger.signing import TrustedKeys
from config_audit.ledger.verify.archived import verify_archived_log
from config_audit.ledger.verify.log import VerifyReport
from config_audit.settings import Settings

if TYPE_CHECKING:
    from config_audit.ledger.checkpoint import Checkpoint
    from config_audit.ledger.verify.remote import RemoteCheck


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
@click.option(
    "--remote",
    "use_remote",
    is_flag=True,
    help="Also verify the copies in object storage (retention.remote.url): each segment "
    "present, matching its signed manifest and under its Object Lock.",
)
@click.option(
    "--remote-url",
    default=None,
    metavar="s3://BUCKET/PREFIX",
    help="The object storage to verify (implies --remote).",
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
    use_remote: bool,
    remote_url: str | None,
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
      config-audit verify --remote          # segments pruned locally are read from S3
    """
    settings = settings_from(config_path)
    logs = record_logs(settings, log_paths, writers)
    trusted = resolve_trusted(settings, trusted_keys_path)
    if len(logs) > 1 and (checkpoint_file or archives or use_remote or remote_url):
        raise UsageError(
            "--checkpoint, --archives and --remote name one log's files: give one --log with them"
        )
    failed = False
    reports = []
    for log in logs:  # each chain verified on its own: their seq numbers are their own
        report, remote, warnings = _verify_one(
            settings,
            log,
            trusted,
            checkpoint_file,
            archives,
            require_checkpoint,
            output_format,
            remote_url if remote_url else use_remote,
            anchor=settings.anchor_path if len(logs) == 1 else None,
        )
        out = {**report.to_dict(), "warnings": warnings}
        if remote is not None:
            out["remote"] = {"url": remote.url, "segments": remote.checked}
        reports.append(out)
        if output_format == "text":
            click.echo(render_text(report))
            if remote is not None:
                click.echo(f"remote {remote.url}: {remote.checked} segment(s) checked")
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
    remote_wanted: str | bool,
    *,
    anchor: Path | None = None,
) -> tuple[VerifyReport, RemoteCheck | None, list[str]]:
    """One log against its checkpoint (given, else beside it), against the newest one
    published in the notes ref and against the external anchor (`ledger.anchor`): an older
    checkpoint restored beside a cut log, or none at all, no longer hides the cut."""
    if not log.is_file():
        raise UsageError(f"{log}: no record log", advice="check --log or the 'log' setting")
    cp_file = checkpoint_file
    if cp_file is None and checkpoint_path(log).is_file():
        cp_file = checkpoint_path(log)
    segments = segment_paths(archives or archive_dir(log))
    published = newest_published(log, segments, trusted)
    if cp_file is None and require_checkpoint:  # deleting it is tampering: say so
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
    report, remote = _verify_archived(settings, log, archives, trusted, cp, remote_wanted)
    if published is not None and (cp is None or published.size > cp.size):
        against, _ = _verify_archived(settings, log, archives, trusted, published, False)
        findings = tuple(dict.fromkeys(report.findings + against.findings))
        report = dataclasses.replace(report, findings=findings, checkpoint_size=published.size)
    if anchor is not None:
        anchored = read_anchor(anchor, trusted)
        against, _ = _verify_archived(settings, log, archives, trusted, anchored, False)
        findings = tuple(dict.fromkeys(report.findings + against.findings))
        size = max(report.checkpoint_size or 0, anchored.size)
        report = dataclasses.replace(report, findings=findings, checkpoint_size=size)
    return report, remote, warnings


def read_anchor(anchor: Path, trusted: TrustedKeys) -> Checkpoint:
    """The checkpoint kept where the log's writer cannot rewrite it. Configured but missing or
    unsigned is a failure, never a skip: deleting it is how a cut would be hidden."""
    try:
        text = anchor.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationError(
            f"{anchor}: the external checkpoint anchor (ledger.anchor) cannot be read: {exc}",
            advice="restore it from where it is kept, or write one with "
            "`config-audit checkpoint` (which updates the anchor)",
        ) from None
    return verify_checkpoint(text, trusted)


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


def _verify_archived(
    settings: Settings,
    log: Path,
    archives: Path | None,
    trusted: TrustedKeys,
    cp: Checkpoint | None,
    remote_wanted: str | bool,
) -> tuple[VerifyReport, RemoteCheck | None]:
    """Segments (on disk, else from the store) then the live log: one chain from seq 1, or from
    the oldest kept segment after pruning, so a checkpoint taken before archiving still applies."""
    remote = None
    if remote_wanted:
        from config_audit.ledger.upload import RemoteSettings
        from config_audit.ledger.verify.remote import check_remote

        url = remote_wanted if isinstance(remote_wanted, str) else None
        settings_remote = RemoteSettings.parse(settings.retention, url=url)
        remote = check_remote(
            log, settings_remote.store(), trusted, lock_mode=settings_remote.lock_mode
        )
    try:
        report = verify_archived_log(
            log,
            archives or archive_dir(log),
            trusted,
            checkpoint=cp,
            remote_segments=remote.segments if remote else None,
            remote_manifests=remote.manifests if remote else None,
        )
    except VerificationError as exc:
        alert_failure(settings, f"archive segment failed verification: {exc}")
        raise
    if remote is not None:
        report = dataclasses.replace(report, findings=report.findings + remote.findings)
    return report, remote


def render_pruned(report: VerifyReport) -> list[str]:
    out = []
    if report.first_seq > 1:
        out.append(f"  verified from seq {report.first_seq}: earlier records were pruned")
    for p in report.pruned:
        rule = p.get("retention") or {}
        where = f"confirmed in {p['remote']}" if p.get("remote") else "local only"
        out.append(
            f"  pruned seq {p['first_seq']}..{p['last_seq']} at {p['time']} by {p['by']} "
            f"(record {p['seq']}, key {p['key_id']}) under retention local_days="
            f"{rule.get('local_days')}, {where}"
        )
    return out


def render_text(report: VerifyReport) -> str:
    against = f", checkpoint size {report.checkpoint_size}" if report.checkpoint_size else ""
    if report.ok:
        return "\n".join(
            [f"OK {report.path}: {report.lines} records verified{against}", *render_pruned(report)]
        )
    out = [
        f"FAIL {report.path}: {len(report.findings)} finding(s) in {report.lines} lines{against}",
        *render_pruned(report),
    ]
    for f in report.findings:
        where = f" (line {', '.join(map(str, f.lines))})" if f.lines else ""
        out.append(f"  {f.code.value}: {f.seq_range}{where}: {f.detail}")
        out.append(f"    means: {f.meaning}")
        out.append(f"    do:    {f.advice}")
    return "\n".join(out)
