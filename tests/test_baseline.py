"""`config-audit baseline` (issue 12, deliverable 6): today's findings become reasoned
acceptances in the settings file, keeping its other content; after it the gate passes a commit
that only carries the accepted findings, a new finding still blocks, and committing the
baseline is itself judged by the policy (an acceptance weakens protected entities: owner)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from config_audit.settings.edit import add_acceptances
from tests.gitfixtures import RECOGNIZERS, Repo, make_repo

# 'enable' is dropped by Presidio: the recognizer stays on (CA101, error).
BROKEN = RECOGNIZERS.replace("    context: [employee]\n", "    context: [employee]\n    enable: false\n")


def adopting_repo(tmp_path: Path, *, strict: bool) -> Repo:
    repo = make_repo(tmp_path, hooks=True)
    settings = repo.path / ".config-audit.yaml"
    extra = "strict: true  # existing errors block too\n" if strict else ""
    settings.write_text("# our audit settings\n" + settings.read_text() + extra)
    repo.write("recognizers/custom.yaml", BROKEN)
    assert repo.commit("adopt the tool", extra=("--no-verify",)).returncode == 0
    return repo


def test_dry_run_and_json_write_nothing_then_baseline_keeps_the_file(tmp_path: Path) -> None:
    repo = adopting_repo(tmp_path, strict=False)
    settings = repo.path / ".config-audit.yaml"
    before = settings.read_text()
    assert repo.run("validate").returncode == 1
    dry = repo.run("baseline", "--reason", "adopted; fix in PRIV-42", "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    data = json.loads(dry.stdout)
    assert data["written"] is False and settings.read_text() == before
    # The ad-hoc reader raises TypeError on the unknown key: Presidio rejects the file too.
    assert data["accept"] == [
        {"code": code, "path": "recognizers/custom.yaml", "recognizer": "Employee ID",
         "reason": "adopted; fix in PRIV-42", "findings": 1}
        for code in ("CA101", "CA202")
    ]
    text = repo.run("baseline", "--reason", "adopted; fix in PRIV-42", "--dry-run")
    assert "would add 2 acceptance(s)" in text.stdout and "code: CA101" in text.stdout
    done = repo.run("baseline", "--reason", "adopted; fix in PRIV-42")
    assert done.returncode == 0 and "added 2 acceptance(s)" in done.stdout, done.stdout
    after = settings.read_text()
    assert after.startswith(before)  # every byte of the old file kept, comments included
    assert yaml.safe_load(after)["accept"][0]["recognizer"] == "Employee ID"
    checked = repo.run("validate")
    assert checked.returncode == 0, checked.stdout
    assert "accepted: adopted; fix in PRIV-42" in checked.stdout
    again = repo.run("baseline", "--reason", "twice")
    assert "nothing to accept" in again.stdout and settings.read_text() == after


def test_reason_and_expiry_are_checked(tmp_path: Path) -> None:
    repo = adopting_repo(tmp_path, strict=False)
    for args in ([], ["--reason", "  "], ["--reason", "x", "--expires", "2020-01-01"],
                 ["--reason", "x", "--expires", "soon"]):
        out = repo.run("baseline", *args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (args, out.stderr)
    dated = repo.run("baseline", "--reason", "until the fix", "--expires", "2099-01-31")
    assert dated.returncode == 0
    entries = yaml.safe_load((repo.path / ".config-audit.yaml").read_text())["accept"]
    assert {str(e["expires"]) for e in entries} == {"2099-01-31"}


def test_after_baseline_the_gate_passes_old_findings_and_blocks_new_ones(tmp_path: Path) -> None:
    repo = adopting_repo(tmp_path, strict=True)
    more = BROKEN.replace("[Dr., Prof.]", "[Dr., Prof., Mx.]")
    repo.write("recognizers/custom.yaml", more)
    blocked = repo.commit("more titles")
    assert blocked.returncode != 0 and "CA101" in blocked.stderr  # strict: existing blocks
    repo.git("reset", "-q", "HEAD", "--", "recognizers/custom.yaml")
    repo.write("recognizers/custom.yaml", BROKEN)

    assert repo.run("baseline", "--reason", "adopted with strict on").returncode == 0
    # Accepting a finding weakens what the policy protects (NW_*): bob is no owner.
    by_bob = repo.commit("baseline", ".config-audit.yaml", author="bob")
    assert by_bob.returncode != 0 and "CA501" in by_bob.stderr, by_bob.stderr
    by_alice = repo.commit("baseline", ".config-audit.yaml", author="alice")
    assert by_alice.returncode == 0, by_alice.stderr

    repo.write("recognizers/custom.yaml", more)
    passed = repo.commit("more titles")
    assert passed.returncode == 0, passed.stderr  # only the accepted finding is left
    worse = more.replace("score: 0.8", "score: 0")  # a new error: score 0 is never reported
    repo.write("recognizers/custom.yaml", worse)
    new = repo.commit("zero score")
    assert new.returncode != 0 and "CA105" in new.stderr


def test_editing_refuses_what_it_cannot_extend_in_place() -> None:
    entry = {"code": "CA101", "path": "a.yaml", "recognizer": None, "reason": "r", "expires": None}
    kept = "policy: {}  # c\naccept:\n  - code: CA110\n    reason: old  # why\n# tail\nstrict: true\n"
    new = add_acceptances(kept, [entry], comment="baseline")
    assert new.startswith(kept.split("# tail")[0]) and new.endswith("# tail\nstrict: true\n")
    assert [a["code"] for a in yaml.safe_load(new)["accept"]] == ["CA110", "CA101"]
    empty = add_acceptances("accept: []  # none yet\n", [entry], comment="")
    assert yaml.safe_load(empty)["accept"] == [{"code": "CA101", "path": "a.yaml", "reason": "r"}]
    import pytest

    from config_audit.errors import UsageError

    with pytest.raises(UsageError) as info:
        add_acceptances("accept: [{code: CA110, reason: x}]\n", [entry], comment="")
    assert "by hand" in info.value.diagnostics()
