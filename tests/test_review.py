"""The monthly access review on a planted scenario: a SCIM export (an inactive user still owning an
entity), a CODEOWNERS file, roles for contributors, owners and admins, a month of signed records
made by the real pipeline for several people (times pinned), keys, allowed signers; every planted
issue is found, the sign-off is a signed record `verify` accepts, and the next review shows it.
Role checks are enforced by real git hooks (pre-commit) and by the CI range audit."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from chromium import screenshot
from gitfixtures import RECOGNIZERS, make_repo

from config_audit.audit.pipeline import Auditor
from config_audit.cli import cli
from config_audit.ledger.keys import add_trusted_key, generate_key, load_signer
from config_audit.ledger.log import Ledger
from config_audit.model import Assurance, ChangeEvent, CommitEvidence, Evidence, HostEvidence
from config_audit.settings import load_settings

ACCESS = Path(__file__).parent / "fixtures" / "access"
CODEOWNERS = """\
/recognizers/hr.yaml    @dave @alice
/recognizers/nw.yaml    @nw/privacy
/recognizers/legacy/    @mallory
"""
NW = """\
recognizers:
  - name: Employee
    supported_entity: NW_EMPLOYEE_ID
    supported_language: en
    patterns: [{name: emp, regex: 'NW-\\d{6}', score: 0.8}]
"""
HR = NW.replace("Employee", "Badge").replace("NW_EMPLOYEE_ID", "NW_BADGE")
SSN = NW.replace("Employee", "SSN").replace("NW_EMPLOYEE_ID", "US_SSN")
SETTINGS = """\
log: audit.jsonl
signing_key: {key}
trusted_keys: trusted-keys.yaml
allowed_signers: allowed_signers
review: {{zone: Europe/Berlin, work_hours: [8, 19], burst_count: 5, burst_minutes: 60,
         max_owner_group: 3}}
policy:
  people:
    carol: [carol@nw.example]
    erin: [erin@nw.example]
  owners: {{"OLD_*": [carol]}}
  protected_entities: [NW_*, US_SSN]
  forbid_removing_protected: false
  directory: {{scim: identity/scim.json, codeowners: CODEOWNERS}}
  roles:
    contributor: {{grants: [engineering], may: [add, strengthen, neutral]}}
    owner: {{grants: [privacy, carol], may: [weaken, remove], covers: ["NW_*"], signed: true}}
    hr-owners: {{grants: [engineering], may: [weaken], covers: [NW_BADGE]}}
    policy-admin: {{grants: [carol, erin], may: [policy]}}
    break-glass: {{grants: [carol], may: [weaken], covers: ["*"]}}
    everyone-neutral: {{grants: ["*"], may: [neutral]}}
"""
T = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday, 11:00 in Berlin


def who(name: str, **extra: Any) -> CommitEvidence:
    return CommitEvidence(Assurance.CLAIMED, author_email=f"{name}@nw.example", **extra)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "identity").mkdir(parents=True)
    shutil.copy(ACCESS / "scim.json", root / "identity" / "scim.json")
    (root / "CODEOWNERS").write_text(CODEOWNERS)
    (root / "recognizers").mkdir()
    for name, text in (("nw", NW), ("hr", HR), ("ssn", SSN)):
        (root / "recognizers" / f"{name}.yaml").write_text(text)
    auditor_key = generate_key(tmp_path / "auditor.pem", owner="auditor", now=T - timedelta(60))
    add_trusted_key(root / "trusted-keys.yaml", auditor_key.trusted)
    from dataclasses import replace

    old = generate_key(tmp_path / "old.pem", owner="old-ci", now=T - timedelta(400)).trusted
    add_trusted_key(root / "trusted-keys.yaml", replace(old, valid_until=T - timedelta(days=200)))
    soon = generate_key(tmp_path / "soon.pem", owner="standby", now=T - timedelta(60)).trusted
    add_trusted_key(
        root / "trusted-keys.yaml", replace(soon, valid_until=datetime(2026, 12, 8, tzinfo=UTC))
    )
    (root / "allowed_signers").write_text(
        "alice@nw.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice\n"
        "dave@nw.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDave0\n"
        "ghost@old.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhost\n"
    )
    (root / ".config-audit.yaml").write_text(SETTINGS.format(key=tmp_path / "auditor.pem"))
    settings = load_settings(root / ".config-audit.yaml")
    signer = load_signer(path=tmp_path / "auditor.pem", environ={})
    auditor = Auditor(settings, ledger=Ledger(root / "audit.jsonl"), signer=signer, environ={})
    stronger = NW.replace("0.8", "0.9").encode()

    def change(
        at: datetime,
        author: Evidence,
        source: str = "post-commit",
        before: bytes = NW.encode(),
        after: bytes = stronger,
        path: str = "recognizers/nw.yaml",
        **extra: Any,
    ) -> None:
        auditor.audit(
            ChangeEvent(
                path, before, after, source, str(root), "c0ffee" * 6 + "abcd", author, extra, at
            )
        )

    change(T - timedelta(days=20), who("alice"))  # October: alice has edited NW_EMPLOYEE_ID
    change(T, who("alice"))
    for minute in range(0, 50, 10):  # a burst by bob, his first edits of a protected entity
        change(T + timedelta(days=1, minutes=minute), who("bob"))
    change(datetime(2026, 11, 4, 1, 30, tzinfo=UTC), who("carol"))  # 02:30 in Berlin
    signed = who("bob", signature_status="good", signer="alice@nw.example")
    change(T + timedelta(days=3), signed)  # signer is not the author
    change(T + timedelta(days=4), who("alice"), pre_commit="not-run")  # --no-verify
    host = HostEvidence(Assurance.UNATTRIBUTED, host="pii-gw-1", file_owner="bob")
    change(T + timedelta(days=5), host, source="watcher")
    settings_bytes = (root / ".config-audit.yaml").read_bytes()
    auditor.audit_policy(
        ChangeEvent(
            ".config-audit.yaml",
            settings_bytes,
            settings_bytes + b"# reviewed\n",
            "post-commit",
            str(root),
            None,
            who("carol"),
            {"settings_file": True},
            T + timedelta(days=6),
        )
    )
    auditor.close()
    return root


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--config", str(root / ".config-audit.yaml")])
    assert result.exit_code == 0, result.output
    return result.stdout


def review(root: Path, *args: str) -> dict[str, Any]:
    out = run(
        root, "review", "--since", "2026-11-01", "--until", "2026-12-01", "--format", "json", *args
    )
    data: dict[str, Any] = json.loads(out)
    return data


PLANTED = {
    # orphaned
    "directory-inactive:dave@nw.example",  # inactive in SCIM, still owns hr.yaml and NW_*
    "directory-not-in-directory:erin",  # hand-written, absent from the directory
    "unused-grant:frank@nw.example",  # contributor who changed nothing
    "codeowners-unresolved:@mallory",
    "pattern-matches-nothing:CODEOWNERS /recognizers/legacy/",
    "pattern-matches-nothing:owners OLD_*",
    "protected-without-owner:US_SSN",
    "signer-unmapped:ghost@old.example",
    # keys
    "key-unused:{soon} (standby)",
    "key-expired-still-trusted:{old} (old-ci)",
    # over-permissive
    "wildcard-grant:everyone-neutral",
    "may-weaken-everything:break-glass",
    "large-group-owns-protected:hr-owners",
    "allow-mode:forbid_removing_protected",
    "holds-every-role:carol",
    # unusual activity
    "burst:bob@nw.example@2026-11-03T10:00",
    "first-time-editor:bob@nw.example/NW_EMPLOYEE_ID",
    "first-time-editor:carol/NW_EMPLOYEE_ID",
    "outside-hours:8",
    "signer-not-author:9",
    "hook-bypass:c0ffeec0ffee",
    "host-edit:11",
    "policy-or-trust-change:12",
    # alerts
    "key-expiring:{soon} (standby)",
    "directory-removed-still-signer:dave@nw.example",
    "review-overdue:access-review",
}


def key_ids(root: Path) -> dict[str, str]:
    keys = yaml.safe_load((root / "trusted-keys.yaml").read_text())["keys"]
    return {k["owner"]: k["key_id"] for k in keys}


def test_the_review_finds_every_planted_issue(scenario: Path, tmp_path: Path) -> None:
    ids = key_ids(scenario)
    data = review(scenario)
    found = {i["id"] for i in data["items"]}
    planted = {p.format(soon=ids["standby"], old=ids["old-ci"]) for p in PLANTED}
    assert planted <= found, sorted(planted - found)
    assert (
        "first-time-editor:alice@nw.example/NW_EMPLOYEE_ID" not in found
    )  # she edited it in October
    assert "unused-grant:alice@nw.example" not in found and data["records"] == 11
    grants = {g["holder"]: g for g in data["grants"]}
    assert grants["dave@nw.example"]["status"] == "inactive"
    assert any("CODEOWNERS line 1" in r for r in grants["alice@nw.example"]["roles"])
    assert any(g["kind"] == "group" and g["holder"] == "engineering" for g in data["grants"])
    keys = {k["owner"]: k for k in data["keys"]}
    assert keys["auditor"]["last_used"].startswith("2026-11-08") and keys["old-ci"]["status"] == (
        "expired"
    )
    assert {s["principal"]: s["person"] for s in data["signers"]}["alice@nw.example"] == (
        "alice@nw.example"
    )
    md = run(scenario, "review", "--since", "2026-11-01", "--until", "2026-12-01")
    assert "## Orphaned" in md and "## Unusual activity" in md and "## Checklist" in md
    assert "- [ ] `directory-inactive:dave@nw.example`: remove the grants" in md
    out = tmp_path / "review.html"
    run(
        scenario,
        "review",
        "--since",
        "2026-11-01",
        "--until",
        "2026-12-01",
        "--format",
        "html",
        "--out",
        str(out),
    )
    html = out.read_text()
    assert 'data-item="holds-every-role:carol"' in html and "<script" not in html
    screenshot(out, tmp_path)


def test_sign_off_is_a_signed_record_and_the_next_review_shows_it(
    scenario: Path, tmp_path: Path
) -> None:
    items = [i["id"] for i in review(scenario)["items"]]
    decisions = {
        "reviewer": "carol@nw.example",
        "decisions": [
            {
                "item": i,
                "decision": "remove" if i.startswith("directory-inactive") else "keep",
                "note": "left in October" if "dave" in i else "ok",
            }
            for i in items
        ],
    }
    path = tmp_path / "decisions.yaml"
    path.write_text(yaml.safe_dump({**decisions, "decisions": decisions["decisions"][1:]}))
    result = CliRunner().invoke(
        cli,
        [
            "review",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--sign-off",
            str(path),
            "--config",
            str(scenario / ".config-audit.yaml"),
        ],
    )
    assert result.exit_code != 0 and "have no decision" in str(result.exception)  # all decided
    path.write_text(yaml.safe_dump(decisions))
    out = run(
        scenario,
        "review",
        "--since",
        "2026-11-01",
        "--until",
        "2026-12-01",
        "--sign-off",
        str(path),
    )
    assert f"signed off: {len(items)} decision(s) by carol@nw.example, record 13" in out
    last = json.loads((scenario / "audit.jsonl").read_text().splitlines()[-1])
    assert last["source"] == "access-review" and last["signature"]
    assert last["extra"]["access_review"]["decisions"][0]["item"] == items[0]
    run(scenario, "verify")  # the sign-off is a record like any other: signed, chained

    nxt = review(scenario)
    assert nxt["previous_review"] == last["time"]
    rows = {d["item"]: d for d in nxt["previous_decisions"]}
    dave = rows["directory-inactive:dave@nw.example"]
    assert dave["decision"] == "remove" and dave["outcome"] == "still present"
    assert "removal-not-done:directory-inactive:dave@nw.example" in {i["id"] for i in nxt["items"]}
    assert "review-overdue:access-review" not in {i["id"] for i in nxt["items"]}
    md = run(scenario, "review", "--since", "2026-11-01", "--until", "2026-12-01")
    assert "## Last review's decisions" in md and "left in October" in md

    # The removal is done: dave leaves the privacy group and CODEOWNERS.
    scim = json.loads((scenario / "identity" / "scim.json").read_text())
    for res in scim["Resources"]:
        res["members"] = [m for m in res.get("members", []) if m["value"] != "u-dave"]
    (scenario / "identity" / "scim.json").write_text(json.dumps(scim))
    (scenario / "CODEOWNERS").write_text(CODEOWNERS.replace("@dave ", ""))
    done = {d["item"]: d for d in review(scenario)["previous_decisions"]}
    assert done["directory-inactive:dave@nw.example"]["outcome"] == "done"


ROLE_CONFIG_TAIL = """\
  directory: {scim: scim.json}
  roles:
    contributor: {grants: [engineering], may: [add, strengthen, neutral]}
    owner: {grants: [privacy], may: [weaken, remove], covers: ["NW_*"]}
    policy-admin: {grants: [alice], may: [policy]}
"""


def test_roles_are_enforced_by_the_hooks_and_ci(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.write("scim.json", (ACCESS / "scim.json").read_text())
    config = (repo.path / ".config-audit.yaml").read_text()
    repo.write(".config-audit.yaml", config + ROLE_CONFIG_TAIL)
    assert repo.commit("roles from the directory").returncode == 0, "first policy: alice owns NW_*"
    base = repo.head()
    # bob is in engineering (SCIM): he may strengthen, not weaken.
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.9"))
    assert repo.commit("stronger", author="bob").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    blocked = repo.commit("weaker", author="bob")
    assert blocked.returncode != 0 and "missing role 'owner'" in blocked.stderr + blocked.stdout
    # dave is in privacy but inactive in the directory: he holds no role.
    dave = repo.commit("weaker", author="dave")
    assert dave.returncode != 0 and "CA505" in dave.stderr + dave.stdout
    # bypassing the hook does not get past CI.
    assert repo.commit("weaker", author="bob", extra=("--no-verify",)).returncode == 0
    ci = repo.run("ci", "--base", base, "--head", "HEAD", "--format", "json")
    assert ci.returncode == 1 and "missing role 'owner'" in ci.stdout


def test_a_directory_edit_is_trust_material_judged_before_it_counts(tmp_path: Path) -> None:
    # bob adds himself to `privacy` in the committed SCIM export and weakens NW_* in the same
    # push: the export is judged by the policy before it (and bob may not change policy), and
    # the weakening by the directory of the base (issues 11 and 14).
    import json

    repo = make_repo(tmp_path)
    repo.write("scim.json", (ACCESS / "scim.json").read_text())
    config = (repo.path / ".config-audit.yaml").read_text()
    repo.write(".config-audit.yaml", config + ROLE_CONFIG_TAIL)
    assert repo.commit("roles from the directory").returncode == 0
    base = repo.head()
    scim = json.loads((ACCESS / "scim.json").read_text())
    for res in scim["Resources"]:
        if res.get("displayName") == "privacy":
            res["members"].append({"value": "u-bob"})
    repo.write("scim.json", json.dumps(scim, indent=1))
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    assert repo.commit("me too", author="bob", extra=("--no-verify",)).returncode == 0
    ci = repo.run("ci", "--base", base, "--head", "HEAD", "--format", "json")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    data = json.loads(ci.stdout)
    paths = {f["path"] for c in data["commits"] for f in c["findings"] if f["severity"] == "error"}
    assert "scim.json" in paths and "recognizers/custom.yaml" in paths, paths


def test_review_alerts_go_out_through_the_alert_channels(scenario: Path, tmp_path: Path) -> None:
    # A key expiring within 14 days, a removed directory user still able to sign and an overdue
    # review are alerts, not only lines in a report nobody reads until next month.
    out = tmp_path / "alerts.jsonl"
    config = scenario / ".config-audit.yaml"
    config.write_text(
        config.read_text()
        + "alerts:\n  channels:\n"
        + f'    - {{type: command, argv: ["sh", "-c", "cat >> {out}; echo >> {out}"]}}\n'
    )
    review(scenario)
    sent = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    kinds = {a["kind"] for a in sent}
    summaries = " ".join(a["summary"] for a in sent)
    assert kinds == {"access-review"}, kinds
    for planted in ("key-expiring:", "directory-removed-still-signer:dave@nw.example",
                    "review-overdue:access-review"):
        assert planted in summaries, summaries
