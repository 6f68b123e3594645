"""`config-audit log` and `config-audit show`: read the record log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from config_audit.commands.common import config_option, format_option, settings_from
from config_audit.commands.logopts import from_option, log_option, record_logs
from config_audit.commands.render import printable
from config_audit.errors import UsageError
from config_audit.ledger.log import Ledger
from config_audit.times import parse_time


def _when(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag}: not a date or RFC 3339 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def who(record: dict[str, Any]) -> str:
    author = record.get("author") or {}
    for key in ("signer", "author_email", "file_owner", "watcher_user"):
        if author.get(key):
            return str(author[key])
    return "-"


def _changes(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in record.get("changes") or [] if isinstance(c, dict)]


def select(
    records: Iterable[dict[str, Any]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    author: str | None = None,
    recognizer: str | None = None,
    entity: str | None = None,
    impact: str | None = None,
    source: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Pure filter over records; text matches are case-insensitive substrings."""
    for record in records:
        try:
            moment = parse_time(str(record.get("time")))
        except ValueError:
            moment = None
        if (since and (moment is None or moment < since)) or (
            until and (moment is None or moment >= until)
        ):
            continue
        if source and record.get("source") != source:
            continue
        if author and author.lower() not in json.dumps(record.get("author") or {}).lower():
            continue
        changes = _changes(record)
        if recognizer and not any(
            recognizer.lower() in str(c.get("recognizer") or "").lower() for c in changes
        ):
            continue
        if entity and not any(entity.upper() in (c.get("entities") or []) for c in changes):
            continue
        if impact and not any(c.get("impact") == impact for c in changes):
            continue
        yield record


def one_line(record: dict[str, Any]) -> str:
    changes = _changes(record)
    weakens = sum(c.get("impact") == "weakens" for c in changes)
    verdict = (record.get("policy") or {}).get("verdict", "-")
    # The real verdict: an invalid file is blocked whatever the policy said about its changes.
    invalid = (record.get("validation") or {}).get("valid") is False
    judged = "INVALID file" if invalid else f"policy {verdict}"
    if (record.get("extra") or {}).get("pre_commit") == "not-run":
        judged += ", pre-commit not run"
    return printable(
        f"{record.get('seq', '?'):>6}  {str(record.get('time', ''))[:19]}  "
        f"{record.get('source', '?'):<12} {record.get('path') or '-'}  by {who(record)}  "
        f"{len(changes)} change(s), {weakens} weakening, {judged}"
    )


@click.command("log")
@log_option
@from_option
@click.option("--since", help="Only records at or after this date/time (UTC unless given).")
@click.option("--until", help="Only records before this date/time.")
@click.option("--author", help="Author, committer, signer or OS user contains this.")
@click.option("--recognizer", help="A change touches a recognizer whose name contains this.")
@click.option("--entity", help="A change touches this entity, e.g. EMAIL_ADDRESS.")
@click.option("--impact", type=click.Choice(["weakens", "strengthens", "neutral"]))
@click.option("--source", help="Record source, e.g. pre-commit, ci, watcher.")
@format_option
@config_option
def log_command(
    log_paths: tuple[Path, ...],
    writers: tuple[str, ...],
    since: str | None,
    until: str | None,
    author: str | None,
    recognizer: str | None,
    entity: str | None,
    impact: str | None,
    source: str | None,
    output_format: str,
    config_path: Path | None,
) -> None:
    """List change records, oldest first (this does not verify them: use `verify`).

    \b
    Examples:
      config-audit log --impact weakens --since 2024-05-01
      config-audit log --entity EMAIL_ADDRESS --format json | jq .path
    """
    settings = settings_from(config_path)
    logs = record_logs(settings, log_paths, writers)
    records = merged_records(logs)
    origin = {id(r): str(r.pop(ORIGIN)) for r in records if ORIGIN in r} if len(logs) > 1 else {}
    chosen = select(
        records,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        author=author,
        recognizer=recognizer,
        entity=entity,
        impact=impact,
        source=source,
    )
    for record in chosen:
        where = origin.get(id(record))
        if output_format == "json":  # merged: each record says which log it came from
            shown = {**record, "_log": where} if where else record
            click.echo(json.dumps(shown, sort_keys=True))
        else:
            click.echo((f"[{where}] " if where else "") + one_line(record))


ORIGIN = "\0log"  # never a record key: marks the log a merged record came from


def merged_records(logs: list[Path]) -> list[dict[str, Any]]:
    """Records of every log, oldest first (by record time; a log's own order breaks ties);
    merged records carry their log under ORIGIN."""
    if len(logs) == 1:
        return list(Ledger(logs[0]).read_records())
    records = [{**r, ORIGIN: path} for path in logs for r in Ledger(path).read_records()]
    records.sort(key=lambda r: str(r.get("time", "")))
    return records


@click.command()
@click.argument("ref")
@log_option
@from_option
@format_option
@config_option
def show(
    ref: str,
    log_paths: tuple[Path, ...],
    writers: tuple[str, ...],
    output_format: str,
    config_path: Path | None,
) -> None:
    """Show one record by seq number or id (a unique id prefix is enough).

    \b
    Examples:
      config-audit show 42
      config-audit show 3f2a9c1e --format json
    """
    settings = settings_from(config_path)
    records = [
        {k: v for k, v in r.items() if k != ORIGIN}
        for r in merged_records(record_logs(settings, log_paths, writers))
    ]
    # A number is a seq first (an id prefix can be all digits too); otherwise an id prefix.
    matches = [r for r in records if ref.isdigit() and r.get("seq") == int(ref)]
    if not matches:
        matches = [r for r in records if str(r.get("id", "")).startswith(ref)]
    if not matches:
        raise UsageError(
            f"no record with seq or id {ref!r}", advice="list them with `config-audit log`"
        )
    if len(matches) > 1:
        raise UsageError(
            f"{ref!r} matches {len(matches)} records", advice="give more of the id, or the seq"
        )
    for record in matches:
        if output_format == "json":
            click.echo(json.dumps(record, indent=2, sort_keys=True))
        else:
            click.echo(render_record(record))


def render_record(record: dict[str, Any]) -> str:
    out = [one_line(record).strip(), f"  id: {record.get('id')}  commit: {record.get('commit')}"]
    out.append(f"  author: {json.dumps(record.get('author'), sort_keys=True)}")
    for c in _changes(record):
        out.append(
            f"  - [{c.get('impact')}] {c.get('kind')} {c.get('recognizer') or ''}: {c.get('summary')}"
        )
    validation = record.get("validation") or {}
    if validation:
        out.append(
            f"  validation: valid={validation.get('valid')} presidio={validation.get('presidio_version')}"
            + (
                f" in {validation['presidio_interpreter']}"
                if validation.get("presidio_interpreter")
                else ""
            )
        )
    out.append(f"  key: {record.get('key_id')}  prev: {str(record.get('prev_hash'))[:16]}…")
    return printable("\n".join(out))
