"""Export formats: golden files per format, escaping of every special character, hash/seq."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from test_export_support import SPECIAL, make_log

from config_audit.cli import cli
from config_audit.ledger.entries import read_entries
from config_audit.ledger.records import record_hash
from config_audit.siem.export import FORMAT_NAMES, parse_since
from config_audit.siem.formats.syslog import cef_header, cef_value, sd_name, sd_value

GOLDEN = Path(__file__).parent / "golden" / "export"
SUFFIX = {"jsonl": "jsonl", "ecs": "ndjson", "splunk-hec": "json", "rfc5424": "log", "cef": "cef"}


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    make_log(path)
    return path


def run_export(log: Path, fmt: str, *extra: str) -> bytes:
    result = CliRunner().invoke(
        cli, ["export", "--format", fmt, "--log", str(log), "--host", "auditor-1", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_golden(log: Path, fmt: str) -> None:
    got = run_export(log, fmt)
    golden = GOLDEN / f"records.{SUFFIX[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(got)
    assert got == golden.read_bytes(), f"regenerate with UPDATE_GOLDEN=1 if intended ({fmt})"


def test_jsonl_is_the_signed_log_verbatim(log: Path) -> None:
    assert run_export(log, "jsonl") == log.read_bytes()


@pytest.mark.parametrize("fmt", ["ecs", "splunk-hec", "rfc5424", "cef"])
def test_every_event_carries_hash_and_seq(log: Path, fmt: str) -> None:
    records = [e.record for e in read_entries(log)]
    lines = run_export(log, fmt).splitlines()
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        text = line.decode()
        assert record_hash(record) in text
        seq = str(record["seq"])
        assert any(
            marker in text
            for marker in (f'"sequence":{seq}', f'"seq":{seq}', f'seq="{seq}"', f"cn1={seq} ")
        )


def test_deny_list_values_never_in_clear(log: Path) -> None:
    for fmt in FORMAT_NAMES:
        out = run_export(log, fmt)
        assert b'"Mrs"' not in out and b"Mrs," not in out, fmt


def test_ecs_fields(log: Path) -> None:
    docs = [json.loads(x) for x in run_export(log, "ecs").splitlines()]
    assert all(d["event"]["category"] == ["configuration"] for d in docs)
    assert [d["event"]["type"][0] for d in docs[:5]] == [
        "creation",
        "change",
        "change",
        "change",
        "deletion",
    ]
    assert docs[1]["rule"]["id"] == ["weakening_protected"]
    assert docs[1]["event"]["outcome"] == "failure"
    assert docs[0]["user"] == {"name": "Alice", "email": "alice@example.com"}
    assert docs[4]["host"]["name"] == "web-1"


def test_splunk_hec_envelope(log: Path) -> None:
    events = [json.loads(x) for x in run_export(log, "splunk-hec").splitlines()]
    first = events[0]
    assert first["sourcetype"] == "config-audit"
    assert first["time"] == 1714564800.0
    assert first["host"] == "auditor-1" and events[4]["host"] == "web-1"
    assert first["event"]["seq"] == 1 and len(first["event"]["record_hash"]) == 64


def unescape_sd(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in '"\\]':
            out.append(value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def test_sd_value_escaping_round_trips() -> None:
    value = 'a"b\\c]d=e |f'
    escaped = sd_value(value)
    assert escaped == 'a\\"b\\\\c\\]d=e |f'
    assert unescape_sd(escaped) == value
    assert sd_value("x\ny") == "x\ufffdy"  # no raw newline inside a message


def test_sd_names_are_checked() -> None:
    assert sd_name("config-audit@32473") == "config-audit@32473"
    for bad in ("", "a b", "a=b", 'a"', "a]", "x" * 33, "é"):
        with pytest.raises(ValueError):
            sd_name(bad)


def test_cef_escaping() -> None:
    assert cef_header("a|b\\c\nd") == "a\\|b\\\\c d"
    assert cef_value("a=b\\c\nd\re|f") == "a\\=b\\\\c\\nd\\re|f"


def parse_cef_header(line: str) -> list[str]:
    """Seven header fields (unescaped) plus the raw extension, as a CEF consumer splits them."""
    fields, current, i = [], [], 0
    while i < len(line) and len(fields) < 7:
        if line[i] == "\\" and i + 1 < len(line):
            current.append(line[i + 1])
            i += 2
            continue
        if line[i] == "|":
            fields.append("".join(current))
            current = []
        else:
            current.append(line[i])
        i += 1
    return [*fields, line[i:]]


def test_special_characters_in_every_format(log: Path) -> None:
    assert list(read_entries(log))[-1].record["author"]["author_name"] == SPECIAL
    syslog = run_export(log, "rfc5424").splitlines()[-1].decode()
    sd = syslog[syslog.index("[") : syslog.index("] \ufeff") + 1]
    assert f'user="{sd_value(SPECIAL)}"' in sd
    assert '"quote"' not in sd and "\n" not in syslog
    cef = run_export(log, "cef").splitlines()[-1].decode()
    assert f"suser={cef_value(SPECIAL)} " in cef
    header = parse_cef_header(cef)
    assert header[:5] == [
        "CEF:0",
        "presidio-config-audit",
        "config-audit",
        "0.1.0",
        "weakening-change",
    ]
    flat = SPECIAL.replace("\n", " ").replace("\r", " ")
    assert header[5] == f"manual change recognizers/{flat}.yaml; 1 change(s); weakening"
    assert header[6] == "5" and header[7].startswith("rt=")
    for fmt in ("ecs", "splunk-hec"):
        last = json.loads(run_export(log, fmt).splitlines()[-1])
        user = last["user"]["name"] if fmt == "ecs" else last["event"]["user"]
        assert user == SPECIAL


def test_since_filters(log: Path) -> None:
    lines = run_export(log, "jsonl", "--since", "2024-05-01T12:04:00Z").splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [5, 6, 7]
    assert parse_since("2024-05-01").isoformat() == "2024-05-01T00:00:00+00:00"


def test_out_file_and_bad_since(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.cef"
    result = CliRunner().invoke(
        cli, ["export", "--format", "cef", "--log", str(log), "--out", str(out)]
    )
    assert result.exit_code == 0 and len(out.read_bytes().splitlines()) == 7
    result = CliRunner().invoke(cli, ["export", "--log", str(log), "--since", "yesterday"])
    assert result.exit_code != 0
