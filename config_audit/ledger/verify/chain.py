"""Chain analysis of a checked log: which records were edited, inserted, deleted, reordered...

Inputs are per-line `LineCheck`s in file order; output is findings with exact seq ranges.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from config_audit.ledger.records import GENESIS_HASH
from config_audit.ledger.signing import KeyNotValid, KeyRevoked, TrustedKeys
from config_audit.ledger.verify.findings import Code, LogFinding
from config_audit.ledger.verify.lines import (
    SIG_INVALID,
    SIG_MISSING,
    SIG_OK,
    SIG_UNKNOWN_KEY,
    LineCheck,
)
from config_audit.times import parse_time


def key_window_finding(
    check: LineCheck, trusted: TrustedKeys, latest: datetime | None, line: int
) -> tuple[LogFinding | None, datetime | None]:
    """Is a validly signed record inside its key's window? Returns (finding, new latest time)."""
    key = trusted.keys[str(check.key_id)]
    try:
        moment = parse_time(str(check.time))
    except ValueError:
        return LogFinding(
            Code.KEY_NOT_VALID, check.seq, check.seq, (line,), "record time is unreadable"
        ), latest
    # A revoked key could backdate; a record cannot be older than one already before it.
    effective = max(moment, latest) if latest else moment
    try:
        if key.revoked_at is not None and effective >= key.revoked_at:
            key.check_time(effective)
        key.check_time(moment)
    except (KeyRevoked, KeyNotValid) as exc:
        code = Code.KEY_REVOKED if isinstance(exc, KeyRevoked) else Code.KEY_NOT_VALID
        return LogFinding(code, check.seq, check.seq, (line,), str(exc)), effective
    return None, effective


_SIG_CODES = {
    SIG_MISSING: Code.SIGNATURE_MISSING,
    SIG_UNKNOWN_KEY: Code.UNKNOWN_KEY,
    SIG_INVALID: Code.SIGNATURE_INVALID,
}


def _longest_increasing(seqs: Sequence[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    tail_pos: list[int] = []
    back = [-1] * len(seqs)
    for k, s in enumerate(seqs):
        p = bisect.bisect_left(tails, s)
        if p == len(tails):
            tails.append(s)
            tail_pos.append(k)
        else:
            tails[p] = s
            tail_pos[p] = k
        back[k] = tail_pos[p - 1] if p > 0 else -1
    keep: set[int] = set()
    k = tail_pos[-1] if tail_pos else -1
    while k >= 0:
        keep.add(k)
        k = back[k]
    return keep


def analyze(
    checks: Sequence[LineCheck],
    trusted: TrustedKeys,
    *,
    torn_tail: bool,
    start_seq: int = 0,
    start_hash: str = GENESIS_HASH,
) -> list[LogFinding]:
    """All chain findings for a log whose lines were checked in file order; the first line
    chains to (`start_seq`, `start_hash`): the genesis, or the last record pruned before it."""
    findings: list[LogFinding] = []
    anchored, suspects, sig_bad = _authenticate(checks, trusted, torn_tail, findings)
    anchored = _drop_replays(checks, anchored, findings)
    anchored = _drop_rival_seqs(checks, anchored, findings)
    spine, present = _order(checks, anchored, findings)
    _walk(checks, spine, present, suspects, sig_bad, findings, (start_seq, start_hash))
    return findings


Suspects = dict[int, tuple[Code, str]]  # line index -> finding placed by position


def _authenticate(
    checks: Sequence[LineCheck], trusted: TrustedKeys, torn_tail: bool, findings: list[LogFinding]
) -> tuple[list[int], Suspects, set[int]]:
    """1. Signatures and keys. Content is authentic when validly signed, or when the chain
    vouches for it (a later record names its hash); only authentic records anchor the seq
    analysis. Returns (anchored lines, suspects, lines with a bad signature)."""
    referenced: dict[str, int] = defaultdict(int)  # prev_hash -> how many lines name it
    for c in checks:
        if c.parsed and c.prev_hash:
            referenced[c.prev_hash] += 1
    anchored: list[int] = []
    suspects: Suspects = {}
    sig_bad: set[int] = set()
    latest: datetime | None = None
    for i, c in enumerate(checks):
        if not c.parsed:
            torn = torn_tail and i == len(checks) - 1
            code = Code.TORN_TAIL if torn else Code.UNPARSEABLE
            suspects[i] = (code, "incomplete last line" if torn else "not a JSON object")
            continue
        if c.signature == SIG_OK:
            if c.seq is None:
                suspects[i] = (Code.UNPARSEABLE, "signed record without an integer seq")
                continue
            anchored.append(i)
            finding, latest = key_window_finding(c, trusted, latest, i + 1)
            if finding:
                findings.append(finding)
            continue
        sig_bad.add(i)
        vouched = referenced.get(c.record_hash, 0) > (c.prev_hash == c.record_hash)
        code = _SIG_CODES[c.signature]
        if code is Code.SIGNATURE_INVALID and not vouched:
            code = Code.EDITED
        detail = f"key {c.key_id}" if code is Code.UNKNOWN_KEY else "content or signature altered"
        if code is Code.SIGNATURE_MISSING:
            detail = "no signature field"
        if vouched and c.seq is not None:
            anchored.append(i)
            findings.append(LogFinding(code, c.seq, c.seq, (i + 1,), detail))
        else:
            suspects[i] = (code, detail)  # its seq field is not trustworthy: place by position

    return anchored, suspects, sig_bad


def _drop_replays(
    checks: Sequence[LineCheck], anchored: list[int], findings: list[LogFinding]
) -> list[int]:
    """2. Replays: the same record hash more than once. Keep the copy that fits its neighbours."""

    def fit(k: int, order: list[int]) -> int:
        s = checks[order[k]].seq or 0
        before = k > 0 and checks[order[k - 1]].seq == s - 1
        after = k + 1 < len(order) and checks[order[k + 1]].seq == s + 1
        return int(before) + int(after)

    position = {i: k for k, i in enumerate(anchored)}
    by_hash: dict[str, list[int]] = defaultdict(list)
    for i in anchored:
        by_hash[checks[i].record_hash].append(i)
    dropped: set[int] = set()
    for copies in by_hash.values():
        if len(copies) > 1:
            keep = max(copies, key=lambda i: (fit(position[i], anchored), -i))
            for i in copies:
                if i != keep:
                    dropped.add(i)
                    s = checks[i].seq
                    findings.append(
                        LogFinding(Code.DUPLICATED, s, s, (i + 1,), f"copy of line {keep + 1}")
                    )
    return [i for i in anchored if i not in dropped]


def _drop_rival_seqs(
    checks: Sequence[LineCheck], anchored: list[int], findings: list[LogFinding]
) -> list[int]:
    """3. Two different records claiming one seq: the genuine one is named by its successor."""
    dropped: set[int] = set()
    by_seq: dict[int, list[int]] = defaultdict(list)
    for i in anchored:
        by_seq[checks[i].seq or 0].append(i)
    for s, rivals in sorted(by_seq.items()):
        if len(rivals) < 2:
            continue
        successors = {checks[j].prev_hash for j in by_seq.get(s + 1, ())}
        genuine = [i for i in rivals if checks[i].record_hash in successors]
        if len(genuine) == 1:
            intruders = [i for i in rivals if i != genuine[0]]
            detail = f"not on the chain; the genuine seq {s} is line {genuine[0] + 1}"
        else:
            intruders = rivals[1:]
            detail = f"{len(rivals)} records claim seq {s}; the chain cannot tell which is genuine"
        lines = tuple(i + 1 for i in (rivals if len(genuine) != 1 else intruders))
        findings.append(LogFinding(Code.INSERTED, s, s, lines, detail))
        dropped.update(intruders)

    return [i for i in anchored if i not in dropped]


def _order(
    checks: Sequence[LineCheck], anchored: list[int], findings: list[LogFinding]
) -> tuple[set[int], list[int]]:
    """4. Order: records outside the longest increasing run of seqs were moved.
    Returns (the spine of in-order lines, the seqs present)."""
    seqs = [checks[i].seq or 0 for i in anchored]
    in_order = _longest_increasing(seqs)
    run: list[int] = []
    for k in range(len(anchored)):
        if k not in in_order:
            if run and seqs[run[-1]] + 1 != seqs[k]:
                findings.append(_reordered(run, anchored, seqs))
                run = []
            run.append(k)
        elif run:
            findings.append(_reordered(run, anchored, seqs))
            run = []
    if run:
        findings.append(_reordered(run, anchored, seqs))
    spine = {anchored[k] for k in in_order}
    present = sorted(set(seqs))

    return spine, present


def _walk(
    checks: Sequence[LineCheck],
    spine: set[int],
    present: list[int],
    suspects: Suspects,
    sig_bad: set[int],
    findings: list[LogFinding],
    start: tuple[int, str],
) -> None:
    """5. Walk the file: gaps between spine records are deletions unless altered or unreadable
    lines stand in their place; adjacent spine records must chain."""
    last_seq, last_line, pending = start[0], -1, []
    for i in range(len(checks) + 1):
        at_end = i == len(checks)
        if not at_end and i in suspects:
            pending.append(i)
            continue
        if not at_end and i not in spine:
            continue
        s = (checks[i].seq or 0) if not at_end else None
        gap = 0 if s is None else s - last_seq - 1
        moved = (
            0
            if s is None
            else bisect.bisect_left(present, s) - bisect.bisect_right(present, last_seq)
        )
        missing = gap - moved
        for j, p in enumerate(pending):
            code, detail = suspects[p]
            if s is not None and s == last_seq + 1:
                first, last = last_seq, s  # an extra line between two chained records
                detail += f" (extra line between seq {last_seq} and {s})"
            else:
                first = last = last_seq + 1 + j if s is None else min(last_seq + 1 + j, s - 1)
            findings.append(LogFinding(code, first, last, (p + 1,), detail))
        if missing > len(pending):
            findings.append(
                LogFinding(
                    Code.DELETED,
                    last_seq + 1,
                    (s or 0) - 1,
                    (),
                    f"{missing - len(pending)} record(s) missing between seq {last_seq} and {s}",
                )
            )
        if s is not None and s == last_seq + 1 and i not in sig_bad and last_line not in sig_bad:
            expected = checks[last_line].record_hash if last_line >= 0 else start[1]
            if checks[i].prev_hash != expected:
                findings.append(
                    LogFinding(
                        Code.EDITED,
                        max(last_seq, 1),
                        s,
                        (i + 1,),
                        f"seq {s} does not chain to seq {last_seq}: one of them was replaced "
                        "and re-signed with a trusted key",
                    )
                )
        if s is not None:
            last_seq, last_line, pending = s, i, []


def _reordered(run: list[int], anchored: list[int], seqs: list[int]) -> LogFinding:
    return LogFinding(
        Code.REORDERED,
        seqs[run[0]],
        seqs[run[-1]],
        tuple(anchored[k] + 1 for k in run),
        "record(s) out of chain order",
    )
