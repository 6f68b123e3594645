"""One home per shared rule: every door agrees on globs, and every validator on its bounds.

Each test here failed before its rule had one home (issue 10's divergence bugs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config_audit.audit.check import format_for
from config_audit.audit.git import matches_globs as git_door_matches
from config_audit.model import ConfigFormat
from config_audit.recognizers.globs import files_matching, matches_globs
from config_audit.watch.state import matches as watcher_matches

TOOL = [sys.executable, "-m", "config_audit"]
ROOT = Path(__file__).resolve().parents[1]
CUSTOM = (ROOT / "recognizers" / "custom.yaml").read_text()

PATHS = [
    "recognizers/custom.yaml",
    "recognizers/Extra.YAML",
    "recognizers/sub/deep.yml",
    "recognizers.yaml",
    "other/recognizers/x.yaml",
    "config/presidio/a.yaml",
    "config/presidio/nested/b.yaml",
]
GLOBS = [
    ("recognizers/**/*.yaml", "recognizers/**/*.yml"),
    ("config/presidio/*.yaml",),
    ("**/recognizers/*.yaml",),
]


@pytest.mark.parametrize("globs", GLOBS)
def test_the_git_door_the_watcher_and_validate_agree_on_every_path(
    globs: tuple[str, ...], tmp_path: Path
) -> None:
    for rel in PATHS:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    expected = {p for p in PATHS if matches_globs(p, globs)}
    assert {p for p in PATHS if git_door_matches(p, list(globs))} == expected
    assert {p for p in PATHS if watcher_matches(p, globs)} == expected
    found = {p.relative_to(tmp_path).as_posix() for p in files_matching(tmp_path, globs)}
    assert found == expected


def test_format_overrides_follow_the_same_rule() -> None:
    overrides = (("conf/*.yaml", "registry"),)
    assert format_for("conf/Registry.YAML", overrides) is ConfigFormat.REGISTRY
    assert format_for("./conf/registry.yaml", overrides) is ConfigFormat.REGISTRY
    # `*` stays inside one directory, as in git's pathspecs and the hooks' filter.
    assert format_for("conf/nested/registry.yaml", overrides) is None


def test_validate_without_paths_finds_an_upper_case_extension(tmp_path: Path) -> None:
    (tmp_path / ".config-audit.yaml").write_text("recognizers: ['recognizers/**/*.yaml']\n")
    (tmp_path / "recognizers").mkdir()
    (tmp_path / "recognizers" / "Extra.YAML").write_text(CUSTOM)
    run = subprocess.run(
        [*TOOL, "validate", "--no-presidio", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert [f["path"] for f in json.loads(run.stdout)["files"]] == ["recognizers/Extra.YAML"]


def test_validate_honours_the_configured_time_bound(tmp_path: Path) -> None:
    # A bound no load can meet: the configured one must be the one in force.
    (tmp_path / ".config-audit.yaml").write_text("validation: {timeout_s: 0.001}\n")
    (tmp_path / "custom.yaml").write_text(CUSTOM)
    run = subprocess.run(
        [*TOOL, "validate", "--format", "json", "custom.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    messages = [f["message"] for f in json.loads(run.stdout)["files"][0]["findings"]]
    assert any("0.001s" in m for m in messages), messages
    # ... and the command line still wins over the settings.
    ok = subprocess.run(
        [*TOOL, "validate", "--timeout", "60", "custom.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_a_bad_time_bound_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / ".config-audit.yaml").write_text("validation: {timeout_s: fast}\n")
    (tmp_path / "custom.yaml").write_text(CUSTOM)
    run = subprocess.run(
        [*TOOL, "validate", "custom.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "validation.timeout_s" in run.stderr, run.stderr


def test_readers_read_the_evidence_the_watcher_writes() -> None:
    # `os_user` was read by the policy, `log` and the SIEM formats, and written nowhere.
    import os
    from datetime import UTC, datetime

    from config_audit.commands.log import who
    from config_audit.ledger.entries import Entry
    from config_audit.policy.rules import Actor
    from config_audit.siem.formats.common import summarize
    from config_audit.watch.state import host_evidence

    author = host_evidence(os.getuid(), datetime.now(UTC))
    record = {"seq": 1, "time": "2024-05-01T12:00:00.000000Z", "source": "watcher",
              "path": "recognizers/a.yaml", "author": author.to_dict(), "changes": []}
    owner = author.file_owner
    assert owner
    assert summarize(Entry(record, b"{}", "0" * 64)).user_name == owner
    assert who(record) == owner
    assert owner.lower() in Actor.from_author(author).identities


def test_a_tampered_author_reads_back_without_raising() -> None:
    # Access reviews read `author` back from records; a hand-edited log must not crash them,
    # nor upgrade what the record claims.
    from config_audit.model import Assurance, CommitEvidence, HostEvidence, evidence_from_dict

    assert evidence_from_dict(["not", "a", "mapping"]).assurance is Assurance.NONE
    odd = evidence_from_dict({"assurance": "trust-me", "author_email": "x@y", "bogus": 1})
    assert odd.assurance is Assurance.CLAIMED and odd.claimed() == {"x@y"}
    assert isinstance(odd, CommitEvidence) and odd.verified_signer is None
    host = evidence_from_dict({"assurance": "unattributed", "file_owner": "bob", "host": "h"})
    assert isinstance(host, HostEvidence) and host.who == "bob@h"
