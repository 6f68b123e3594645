"""Checkpoint refreshes read only new records, and never bless a cut or rewritten log."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_export_support import fixed_signer, make_log, simple_bodies

from config_audit.ledger.checkpoint import parse_checkpoint
from config_audit.ledger.log import Ledger
from config_audit.ledger.treecache import cache_path
from config_audit.ledger.treehead import CheckpointConflict, make_checkpoint, refresh_checkpoint


def signed_head(text: str):  # type: ignore[no-untyped-def]
    return parse_checkpoint(text)[0]


def test_incremental_refreshes_equal_a_full_recomputation(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(3), signer)
    rng = random.Random(7)
    start = 3
    for _ in range(25):
        text = refresh_checkpoint(log, signer)
        assert signed_head(text) == make_checkpoint(log)
        assert cache_path(log).is_file()
        for body in simple_bodies(rng.randint(0, 5), start=start):
            Ledger(log).append(body, signer)
            start += 1


def test_a_damaged_or_stale_cache_is_recomputed_not_trusted(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(10), signer)
    refresh_checkpoint(log, signer)
    cache_path(log).write_text("{not json")
    Ledger(log).append(simple_bodies(1, start=10)[0], signer)
    assert signed_head(refresh_checkpoint(log, signer)) == make_checkpoint(log)
    stale = cache_path(log).read_text()
    Ledger(log).append(simple_bodies(1, start=11)[0], signer)
    refresh_checkpoint(log, signer)
    cache_path(log).write_text(stale)  # an older cache no longer matches the checkpoint
    Ledger(log).append(simple_bodies(1, start=12)[0], signer)
    assert signed_head(refresh_checkpoint(log, signer)) == make_checkpoint(log)


def test_cut_log_is_refused_even_with_a_cache(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(10), signer)
    kept = refresh_checkpoint(log, signer)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-2]))
    Ledger(log).append(simple_bodies(1, start=50)[0], signer)  # the writer carries on
    Ledger(log).append(simple_bodies(1, start=51)[0], signer)
    with pytest.raises(CheckpointConflict):
        refresh_checkpoint(log, signer)
    assert log.with_name(log.name + ".checkpoint").read_text() == kept


def test_a_prefix_rewritten_in_place_is_not_blessed(tmp_path: Path) -> None:
    """Same length, different bytes before the cached offset: the refresh extends the old
    history, so the new checkpoint does not match the log and verify reports the fork."""
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(10), signer)
    refresh_checkpoint(log, signer)
    data = bytearray(log.read_bytes())
    where = data.index(b'"seq":2') - 3  # a byte inside record 2, not in the last line
    data[where] = ord("x") if data[where] != ord("x") else ord("y")
    log.write_bytes(bytes(data))
    Ledger(log).append(simple_bodies(1, start=10)[0], signer)
    head = signed_head(refresh_checkpoint(log, signer))
    assert head.size == 11 and head != make_checkpoint(log)
