"""`config-audit review`: the monthly access review, and its signed sign-off."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click

from config_audit.commands.common import config_option, emit, settings_from
from config_audit.settings import Settings
from config_audit.siem.access.model import Item


def last_month(now: datetime) -> tuple[datetime, datetime]:
    """[first day of last month, first day of this month) in UTC."""
    this = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (
        this.replace(year=this.year - 1, month=12)
        if this.month == 1
        else this.replace(month=this.month - 1)
    )
    return previous, this


@click.command("review")
@click.option("--since", default=None, help="Start: 30d, 2024-05-01 ... (default: last month).")
@click.option("--until", "until_text", default=None, help="End (default: start of this month).")
@click.option("--log", "log", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--sign-off",
    "sign_off",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="decisions.yaml: record the reviewer's decision per item as a signed record.",
)
@config_option
def review(
    since: str | None,
    until_text: str | None,
    log: Path | None,
    fmt: str,
    out: Path | None,
    sign_off: Path | None,
    config_path: Path | None,
) -> None:
    """Access review: grants (roles, owners, keys, signers), orphaned and over-permissive
    access, unusual activity, and a checklist; --sign-off records the decisions.

    \b
    Examples:
      config-audit review --format html --out review.html
      config-audit review --format json | jq '.items[].id'
      config-audit review --sign-off decisions.yaml
    """
    from config_audit.audit.pipeline import policy_beside
    from config_audit.commands.logopts import one_log
    from config_audit.ledger.archive import read_sequence
    from config_audit.ledger.keys import read_trusted_keys
    from config_audit.siem.access.inputs import read_allowed_signers, read_inventory, trust_paths
    from config_audit.siem.access.model import ReviewOptions
    from config_audit.siem.access.render import render_html, render_markdown
    from config_audit.siem.access.retention import retention_status
    from config_audit.siem.access.review import build_review
    from config_audit.siem.access.signoff import with_previous
    from config_audit.siem.export import parse_since

    settings = settings_from(config_path)
    options = ReviewOptions.from_settings(settings.review)
    path = one_log(settings, [log] if log is not None else [], "review")
    now = datetime.now(UTC)
    start, end = last_month(now)
    if since is not None:
        start = parse_since(since, now=now)
    if until_text is not None:
        end = parse_since(until_text, now=now)
    entries = list(read_sequence(path)) if path.exists() else []
    keys = settings.trusted_keys_path
    data = build_review(
        policy=policy_beside(settings),
        raw_policy=settings.policy,
        inventory=read_inventory(settings),
        entries=entries,
        since=start,
        until=end,
        trusted=read_trusted_keys(keys) if keys and keys.is_file() else None,
        signers=read_allowed_signers(settings),
        trust_paths=trust_paths(settings),
        options=options,
    )
    rows, pruned, retention_items = retention_status(path, settings.retention, entries)
    data = dataclasses.replace(
        data, retention=rows, pruned=pruned, items=[*data.items, *retention_items]
    )
    data = with_previous(data, entries, now=now, overdue_days=options.overdue_days)
    _raise_alerts(settings, data.section("alerts"))
    if sign_off is not None:
        _sign_off(data, sign_off, path, settings.signing_key_path, now)
        return
    if fmt == "json":
        text = json.dumps(data.to_dict(), indent=2, sort_keys=True)
    else:
        text = render_html(data) if fmt == "html" else render_markdown(data)
    emit(text, out)


def _sign_off(data: object, decisions: Path, log: Path, key: Path | None, now: datetime) -> None:
    from config_audit.ledger.keys import load_signer
    from config_audit.ledger.log import Ledger
    from config_audit.siem.access.model import Review
    from config_audit.siem.access.signoff import parse_decisions, signoff_body

    assert isinstance(data, Review)
    reviewer, decided = parse_decisions(decisions.read_bytes(), data, where=str(decisions))
    signer = load_signer(path=key, environ=os.environ)
    record = Ledger(log).append(signoff_body(data, reviewer, decided, now=now), signer)
    click.echo(
        f"signed off: {len(decided)} decision(s) by {reviewer}, record {record['seq']} in {log}"
    )


def _raise_alerts(settings: Settings, items: list[Item]) -> None:
    """Review items that need someone now (a removed directory user still granted, a key
    expiring soon, a review overdue, a segment not yet in object storage) go out through the
    same alert sink as the hooks', when alerts are configured."""
    if not settings.alerts or not items:
        return
    from config_audit.alerts.alert import Alert
    from config_audit.alerts.rules import AlertSink

    sink = AlertSink.from_settings(settings)
    try:
        for item in items:
            sink.raise_alert(Alert("access-review", "warning", f"{item.id}: {item.detail}"))
    finally:
        sink.close(timeout=15)
