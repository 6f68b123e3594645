"""Review report over a period of the record log: who changed what, what weakened detection,
what was blocked, what was not attributable, and whether the log itself verifies.

Pure over entries (`build_report`); rendering lives in `report_render`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from config_audit.errors import ConfigAuditError
from config_audit.git.attribution import ASSURANCE_VERIFIED
from config_audit.git.precommit import NOT_RUN
from config_audit.ledger.archive import (
    archive_dir,
    chain_start,
    check_chain,
    read_sequence,
    segment_paths,
)
from config_audit.ledger.entries import Entry
from config_audit.ledger.signing import TrustedKeys
from config_audit.siem.formats.common import Summary, summarize

CHANGE_SOURCES = frozenset({"pre-commit", "post-commit", "post-rewrite", "ci", "watcher", "manual"})


@dataclass(frozen=True)
class Row:
    """One record as the report lists it."""

    seq: int
    time: str
    source: str
    path: str
    who: str
    assurance: str
    detail: str
    committed: str = ""  # the commit's own (author) time: a CI record is dated by its run


@dataclass(frozen=True)
class Report:
    log: str
    since: str
    until: str
    total: int
    verification: str  # one line: verified / chain only / FAILED ...
    verified_ok: bool | None
    by_author: list[tuple[str, int]]
    by_recognizer: list[tuple[str, int]]
    by_entity: list[tuple[str, int]]
    weakening: list[Row] = field(default_factory=list)
    blocked: list[Row] = field(default_factory=list)  # pre-commit said no: it did not land
    bypassed: list[Row] = field(default_factory=list)  # committed without its pre-commit check
    landed: list[Row] = field(default_factory=list)  # invalid or violating, and in the history
    unverified: list[Row] = field(default_factory=list)
    out_of_band: list[Row] = field(default_factory=list)
    gaps: list[Row] = field(default_factory=list)
    per_day: list[tuple[str, int, int, int]] = field(
        default_factory=list
    )  # day, all, weak, blocked


def _who(s: Summary, author: object = None) -> str:
    if isinstance(author, dict) and author.get("file_owner") and not author.get("author_email"):
        host = author.get("host")  # the watcher: the file's owner and the host it saw
        return f"{author['file_owner']}@{host}" if host else str(author["file_owner"])
    if s.user_name and s.user_email:
        return f"{s.user_name} <{s.user_email}>"
    return s.user_name or s.user_email or "(unknown)"


def _row(s: Summary, detail: str, author: object = None) -> Row:
    committed = author.get("author_time") if isinstance(author, dict) else None
    return Row(
        s.seq,
        s.time_text[:19] + "Z",
        s.source,
        s.path or "-",
        _who(s, author),
        s.assurance or "none",
        detail,
        str(committed or ""),
    )


def build_report(
    entries: Iterable[Entry],
    *,
    log: str,
    since: datetime,
    until: datetime,
    verification: str,
    verified_ok: bool | None,
) -> Report:
    """Summarize the records at or after `since`."""
    tally = _Tally()
    for entry in entries:
        s = summarize(entry)
        if s.time >= since:
            tally.add(s, entry.record)
    return Report(
        log=log,
        since=since.strftime("%Y-%m-%d %H:%M UTC"),
        until=until.strftime("%Y-%m-%d %H:%M UTC"),
        total=tally.total,
        verification=verification,
        verified_ok=verified_ok,
        by_author=tally.authors.most_common(),
        by_recognizer=tally.recognizers.most_common(),
        by_entity=tally.entities.most_common(),
        weakening=tally.lists["weak"],
        blocked=tally.lists["blocked"],
        bypassed=tally.lists["bypassed"],
        landed=tally.lists["landed"],
        unverified=tally.lists["unverified"],
        out_of_band=tally.lists["oob"],
        gaps=tally.lists["gaps"],
        per_day=[(d, v[0], v[1], v[2]) for d, v in sorted(tally.days.items())],
    )


class _Tally:
    """The report's counters and lists, filled one record at a time."""

    KINDS = ("weak", "blocked", "bypassed", "landed", "unverified", "oob", "gaps")

    def __init__(self) -> None:
        self.total = 0
        self.authors: Counter[str] = Counter()
        self.recognizers: Counter[str] = Counter()
        self.entities: Counter[str] = Counter()
        self.days: dict[str, list[int]] = {}  # day -> [all, weakening, blocked]
        self.lists: dict[str, list[Row]] = {k: [] for k in self.KINDS}

    def add(self, s: Summary, record: Mapping[str, Any]) -> None:
        self.total += 1
        extra = record.get("extra") or {}
        author = record.get("author")
        day = self.days.setdefault(s.time_text[:10], [0, 0, 0])
        day[0] += 1
        if s.source in CHANGE_SOURCES:
            self.authors[_who(s, author)] += 1
            self.recognizers.update(s.recognizers)
            self.entities.update(s.entities)
        # The watcher's first scan records what is there (the baseline): not an edit.
        baseline = extra.get("detected_by") == "baseline"
        if s.weakens and not baseline:
            day[1] += 1
            weak = [c for c in record.get("changes") or [] if c.get("impact") == "weakens"]
            detail = "; ".join(f"{c.get('kind')} {c.get('recognizer') or ''}".strip() for c in weak)
            self.lists["weak"].append(_row(s, detail, author))
        if self._gate(s, record, extra, author):
            day[2] += 1
        if s.commit and s.assurance != ASSURANCE_VERIFIED:
            self.lists["unverified"].append(_row(s, f"commit {s.commit[:12]}", author))
        if s.source == "watcher" and s.assurance == "unattributed" and not baseline:
            self.lists["oob"].append(_row(s, s.message, author))
        self._gaps(s, extra, author)

    def _gate(
        self, s: Summary, record: Mapping[str, Any], extra: Mapping[str, Any], author: object
    ) -> bool:
        """File an invalid or violating record as bypassed, blocked or landed; True if blocked."""
        why = []
        if s.valid is False:
            found = (record.get("validation") or {}).get("findings") or []
            codes = sorted({str(f.get("code")) for f in found if f.get("code")})
            why.append("invalid file " + ",".join(codes))
        if s.verdict == "violation":
            why.append("policy violation " + ",".join(s.rules))
        if extra.get("pre_commit") == NOT_RUN:  # `git commit --no-verify`, or no hooks then
            found_text = "; ".join(why) or "no findings"
            detail = f"commit {s.commit[:12]} without its pre-commit check: {found_text}"
            self.lists["bypassed"].append(_row(s, detail, author))
        elif why and s.source == "pre-commit":
            self.lists["blocked"].append(_row(s, "; ".join(why), author))
            return True
        elif why:
            self.lists["landed"].append(_row(s, "; ".join(why), author))
        return False

    def _gaps(self, s: Summary, extra: Mapping[str, Any], author: object) -> None:
        """Time the watcher was not watching, and edits its start-up scan found."""
        if s.source == "watcher-start" and (
            extra.get("previous_stop") == "unclean" or extra.get("coverage_gap")
        ):
            window = (
                f"; unwatched from {extra['gap_from']} to {s.time_text[:19]}Z"
                if extra.get("gap_from")
                else ""
            )
            detail = f"previous stop: {extra.get('previous_stop', '?')}{window}"
            self.lists["gaps"].append(_row(s, detail, author))
        elif isinstance(extra.get("coverage_gap"), dict):  # an edit found by the start-up scan
            gap = extra["coverage_gap"]
            detail = f"changed while unwatched, {gap.get('from')} to {gap.get('to')}"
            self.lists["gaps"].append(_row(s, detail, author))


def verification_status(
    log: Path, trusted: TrustedKeys | None, archives: Path | None = None
) -> tuple[str, bool | None]:
    """Run the ledger's verifier when keys are known; else check the hash chain only."""
    segments = segment_paths(archives or archive_dir(log))
    if trusted is not None and not segments:
        from config_audit.ledger.verify.log import check_log

        result = check_log(log, trusted)
        if result.ok:
            return f"verified: {result.lines} record(s), signatures and chain OK", True
        codes = ", ".join(sorted(result.codes()))
        return f"FAILED: {len(result.findings)} finding(s): {codes}", False
    try:
        count = check_chain(read_sequence(log, archives), trusted, start=chain_start(log, archives))
    except ConfigAuditError as exc:
        return f"FAILED: {exc}", False
    what = "signatures and chain" if trusted is not None else "hash chain only (no trusted keys)"
    return f"verified {what}: {count} record(s) across {len(segments)} segment(s) + live log", (
        True if trusted is not None else None
    )
