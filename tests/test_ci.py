"""`config-audit ci` over real ranges: signatures (SSH and GPG), merges, bypassed hooks,
shallow clones and force pushes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo


def ssh_key(tmp: Path, name: str) -> Path:
    key = tmp / f"{name}_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def sign_with_ssh(repo: Repo, key: Path, principal: str) -> None:
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    pub = (
        key.with_suffix(".pub") if key.with_suffix(".pub").exists() else Path(f"{key}.pub")
    ).read_text()
    signers = repo.path / ".config-audit" / "allowed_signers"
    with signers.open("a") as fh:
        fh.write(f"{principal} {pub}")


def ci(repo: Repo, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = repo.run("ci", "--log", str(repo.path.parent / "ci.jsonl"), "--format", "json", *args)
    try:
        data = json.loads(out.stdout)
    except ValueError:
        pytest.fail(f"ci printed no JSON (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out, data


@pytest.fixture
def history(tmp_path: Path) -> Repo:
    """base, then: alice signed (SSH) weakening, bob --no-verify weakening, a merge, a rename."""
    repo = make_repo(tmp_path, mode="owner-signed", hooks=False)
    alice = ssh_key(tmp_path, "alice")
    sign_with_ssh(repo, alice, "alice@nw.example")
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.6"))
    assert repo.commit("alice lowers, signed", extra=("-S",)).returncode == 0
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(
        "recognizers/custom.yaml",
        RECOGNIZERS.replace("score: 0.8", "score: 0.6").replace("[employee]", "[employee, staff]"),
    )
    assert repo.commit("more context", author="bob").returncode == 0
    repo.git("checkout", "-q", "main")
    repo.write(
        "recognizers/extra.yaml",
        "recognizers:\n  - name: Acct\n    supported_entity: ACCOUNT\n"
        "    patterns: [{name: a, regex: 'ACCT-\\d{4}', score: 0.6}]\n",
    )
    assert repo.commit("add account recognizer", author="bob").returncode == 0
    assert repo.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature").returncode == 0
    repo.git("mv", "recognizers/extra.yaml", "recognizers/accounts.yaml")
    assert repo.commit("rename", author="bob").returncode == 0
    return repo


def test_ci_audits_every_commit_with_signatures_and_flags_missing_hook_records(
    history: Repo, tmp_path: Path
) -> None:
    out, data = ci(
        history,
        "--base",
        "base",
        "--sarif",
        str(tmp_path / "a.sarif"),
        "--markdown",
        str(tmp_path / "s.md"),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    by_subject = {c["commit"]: c for c in data["commits"]}
    signed = history.git("rev-parse", "main~2^1~0").stdout.strip()  # placeholder resolved below
    log = history.git("log", "--format=%H %s", "base..main").stdout.splitlines()
    shas = {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in log}
    signed = shas["alice lowers, signed"]
    assert by_subject[signed]["assurance"] == "verified-signature"
    assert by_subject[shas["more context"]]["assurance"] == "claimed"
    assert all(not c["hook_record"] for c in data["commits"])
    codes = {f["code"] for c in data["commits"] for f in c["findings"]}
    # No notes ref at all in this clone: said once for the range, not a CA603 per commit.
    assert "CA603" not in codes and data["hook_notes_present"] is False
    assert any("refs/notes/config-audit is absent" in n for n in data["notes"])
    rename = by_subject[shas["rename"]]
    assert rename["files"][0]["path"] == "recognizers/accounts.yaml"
    sarif = json.loads((tmp_path / "a.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert any(r["ruleId"].startswith("weakens/") for r in sarif["runs"][0]["results"])
    md = (tmp_path / "s.md").read_text()
    assert "Presidio recognizer audit" in md and "verified-signature" in md
    strict, _ = ci(history, "--base", "base", "--require-hook-record")
    assert strict.returncode == 1
    verified = history.run(
        "verify",
        "--log",
        str(history.path.parent / "ci.jsonl"),
        "--trusted-keys",
        str(history.path / ".config-audit" / "trusted-keys.yaml"),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_unsigned_weakening_of_protected_entity_fails_ci(history: Repo) -> None:
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.4"))
    history.git("config", "--unset", "user.signingkey")
    assert history.commit("alice lowers unsigned").returncode == 0
    out, data = ci(history, "--base", "HEAD~1")
    assert out.returncode == 1
    assert any(
        f["code"] == "CA501" and "verified signature" in f["message"]
        for c in data["commits"]
        for f in c["findings"]
    )


def test_signer_who_is_not_the_author_is_a_finding(history: Repo) -> None:
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.7"))
    assert (
        history.commit("bob commits with alice's key", author="bob", extra=("-S",)).returncode == 0
    )
    out, data = ci(history, "--base", "HEAD~1")
    assert out.returncode == 1
    assert any(f["code"] == "CA602" for c in data["commits"] for f in c["findings"])
    # ... and the record keeps it: CA601/CA602 used to be computed, shown and then dropped.
    logged = [json.loads(line) for line in (history.path.parent / "ci.jsonl").read_text().splitlines()]
    kept = [f["code"] for r in logged for f in (r.get("extra") or {}).get("attribution", [])]
    assert kept == ["CA602"], kept


@pytest.fixture
def gnupg_home(tmp_path: Path) -> Iterator[Path]:
    """A private GnuPG home whose agent (gpg starts one and detaches it) is stopped afterwards."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield home
    subprocess.run(
        ["gpgconf", "--kill", "all"],
        env={**os.environ, "GNUPGHOME": str(home)},
        capture_output=True,
        check=False,
    )


def test_gpg_signed_commit_is_verified(tmp_path: Path, gnupg_home: Path) -> None:
    repo = make_repo(tmp_path, hooks=False)
    gnupg = gnupg_home
    env = {**repo.env, "GNUPGHOME": str(gnupg)}
    repo.env.update(env)
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Alice <alice@nw.example>",
            "ed25519",
            "sign",
            "never",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    fpr = subprocess.run(
        ["gpg", "--list-secret-keys", "--with-colons"],
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    fingerprint = next(line.split(":")[9] for line in fpr.splitlines() if line.startswith("fpr"))
    repo.git("config", "user.signingkey", fingerprint)
    assert repo.commit("base").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    done = repo.commit("gpg signed", extra=("-S",))
    assert done.returncode == 0, done.stderr
    out, data = ci(repo, "--base", "HEAD~1")
    assert out.returncode == 0, out.stdout + out.stderr
    author = data["commits"][0]
    assert author["assurance"] == "verified-signature"


def test_ci_verifies_signatures_only_of_the_commits_it_audits(
    tmp_path: Path, gnupg_home: Path
) -> None:
    # `%G?` makes git run gpg on every signed commit it lists; a range of signed commits that
    # never touch a recognizer file must cost no gpg at all (issue 15).
    repo = make_repo(tmp_path, hooks=False)
    env = {**repo.env, "GNUPGHOME": str(gnupg_home)}
    repo.env.update(env)
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Alice <alice@nw.example>",
         "ed25519", "sign", "never"],
        env=env, check=True, capture_output=True,
    )
    calls = tmp_path / "gpg-calls"
    wrapper = tmp_path / "gpg-counting"
    wrapper.write_text(f'#!/bin/sh\ncase "$*" in *--verify*) echo x >> "{calls}";; esac\nexec gpg "$@"\n')
    wrapper.chmod(0o755)
    repo.git("config", "gpg.program", str(wrapper))
    repo.git("config", "user.signingkey", "alice@nw.example")
    assert repo.commit("base").returncode == 0
    base = repo.head()
    for i in range(6):
        repo.write(f"docs/note{i}.md", f"note {i}\n")
        assert repo.commit(f"docs {i}", extra=("-S",)).returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("signed recognizer change", extra=("-S",)).returncode == 0
    calls.unlink(missing_ok=True)
    out, data = ci(repo, "--base", base)
    assert out.returncode == 0, out.stdout + out.stderr
    assert [c["assurance"] for c in data["commits"]] == ["verified-signature"]
    assert calls.read_text().count("x") == 1  # the one audited commit, not all seven


def test_shallow_clone_gets_told_how_to_fetch(history: Repo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{history.path}", str(clone)],
        check=True,
        env=history.env,
    )
    base = history.git("rev-parse", "base").stdout.strip()
    shallow = Repo(clone, history.env)
    out = shallow.run(
        "ci",
        "--base",
        base,
        "--log",
        str(tmp_path / "x.jsonl"),
        "--config",
        str(history.path / ".config-audit.yaml"),
    )
    assert out.returncode == 2
    assert "shallow" in out.stderr and "--deepen" in out.stderr
    assert "Traceback" not in out.stderr


def test_force_pushed_range_audits_from_the_merge_base(history: Repo) -> None:
    old_tip = history.head()
    history.git("reset", "-q", "--hard", "HEAD~1")
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
    assert history.commit("rewritten history").returncode == 0
    out, data = ci(history, "--base", old_tip)
    assert "not an ancestor" in " ".join(data["notes"])
    assert data["commits_scanned"] == 1
    # The rewritten commit drops a context word of a protected entity, unsigned: it fails.
    assert out.returncode == 1
    assert [f["code"] for f in data["commits"][0]["findings"] if f["severity"] == "error"] == ["CA501"]


def test_new_branch_with_zero_base_audits_everything(history: Repo) -> None:
    _, data = ci(history, "--base", "0" * 40)
    assert data["commits_scanned"] == int(history.git("rev-list", "--count", "HEAD").stdout)


def test_without_a_signing_key_ci_audits_only_and_still_fails(history: Repo) -> None:
    """A pull request from a fork gets no secrets: ci judges (and fails) as usual, says it
    writes no records, and writes none; --audit-only asks for that with a key too."""
    cfg = history.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text().replace("signing_key:", "# signing_key:"))
    log = history.path.parent / "k.jsonl"
    out = history.run("ci", "--base", "base", "--log", str(log), "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit only: no signing key" in out.stderr and not log.exists()
    assert any("audit only" in n for n in json.loads(out.stdout)["notes"])
    # In CI the key comes from the environment instead of a file.
    pem = Path(history.path.parent / "signing.pem").read_text()
    env = {**history.env, "CONFIG_AUDIT_SIGNING_KEY": pem}
    cmd = [f"{Path(sys.executable).parent}/config-audit", "ci", "--base", "base", "--log", str(log)]
    with_env = subprocess.run(cmd, cwd=history.path, env=env, capture_output=True, text=True)
    assert with_env.returncode == 0 and "audit only" not in with_env.stderr, with_env.stderr
    assert len(log.read_text().splitlines()) >= 4
    before = log.read_text()
    only = subprocess.run([*cmd, "--audit-only"], cwd=history.path, env=env, capture_output=True,
                          text=True)
    assert only.returncode == 0 and log.read_text() == before
    # Judged as usual: a failing range fails without a key too.
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    assert history.commit("invalid", extra=("--no-verify",)).returncode == 0
    bad = history.run("ci", "--base", "HEAD~1", "--log", str(log))
    assert bad.returncode == 1 and "CA105" in bad.stdout and log.read_text() == before


def test_a_checkout_without_settings_fails_closed_unless_defaults(history: Repo) -> None:
    history.git("rm", "-q", ".config-audit.yaml")
    assert history.commit("drop the settings", extra=("--no-verify",)).returncode == 0
    # The base had settings: they judge the range, and dropping them weakens everything,
    # whatever --defaults says (issue 11: trust from the audited past).
    dropped = history.run("ci", "--base", "HEAD~1", "--defaults", "--audit-only")
    assert dropped.returncode == 1, dropped.stdout + dropped.stderr
    # Neither base nor head has settings: nothing says what to audit, so fail closed.
    history.write("docs/readme.md", "later\n")
    assert history.commit("later", extra=("--no-verify",)).returncode == 0
    out = history.run("ci", "--base", "HEAD~1", "--log", str(history.path.parent / "d.jsonl"))
    assert out.returncode == 2 and "no .config-audit.yaml in this checkout" in out.stderr
    assert "--defaults" in out.stderr
    ok = history.run("ci", "--base", "HEAD~1", "--defaults", "--audit-only")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_a_base_gone_from_the_clone_audits_from_the_merge_base(
    history: Repo, tmp_path: Path
) -> None:
    """A force push to a branch: the push's `before` is not in a fresh clone at all."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(history.path), str(origin)], check=True)
    history.git("remote", "add", "origin", str(origin))
    history.git("checkout", "-q", "-b", "topic")
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, hr]"))
    assert history.commit("topic work").returncode == 0
    history.git("push", "-q", "origin", "topic")
    gone = history.head()
    history.git("reset", "-q", "--hard", "HEAD~1")
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
    assert history.commit("rewritten topic").returncode == 0
    history.git("push", "-q", "-f", "origin", "topic")
    history.git("update-ref", "-d", "refs/remotes/origin/topic")
    subprocess.run(["git", "gc", "-q", "--prune=now"], cwd=origin, check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "topic", str(origin), str(clone)], check=True,
                   env=history.env)
    assert subprocess.run(["git", "cat-file", "-e", gone], cwd=clone).returncode != 0
    out = subprocess.run(
        [f"{Path(sys.executable).parent}/config-audit", "ci", "--base", gone, "--format", "json",
         "--log", str(tmp_path / "f.jsonl")],
        cwd=clone, env=history.env, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr  # the rewritten commit weakens, unsigned
    data = json.loads(out.stdout)
    assert data["commits_scanned"] == 1 and "not in this clone (force push?)" in out.stderr
    assert any("merge base" in n for n in data["notes"])


def test_ci_outputs_never_show_deny_list_entries(history: Repo, tmp_path: Path) -> None:
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("[Dr., Prof.]", "[Dr., Jane Roe]"))
    assert history.commit("names in the deny list").returncode == 0
    out, data = ci(history, "--base", "HEAD~1", "--sarif", str(tmp_path / "s.sarif"),
                   "--markdown", str(tmp_path / "s.md"))
    kinds = {c["kind"] for c in data["commits"][0]["files"][0]["changes"]}
    assert {"deny_list.entries_added", "deny_list.entries_removed"} <= kinds
    for text in (out.stdout, out.stderr, (tmp_path / "s.sarif").read_text(),
                 (tmp_path / "s.md").read_text(), (history.path.parent / "ci.jsonl").read_text()):
        assert "Jane Roe" not in text and "Prof." not in text


def test_a_cut_ci_log_fails_the_next_job_and_keeps_its_checkpoint(history: Repo) -> None:
    log = history.path.parent / "shared-ci.jsonl"
    args = ("ci", "--base", "HEAD~1", "--log", str(log), "--format", "json")
    first = history.run(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    checkpoint = Path(str(log) + ".checkpoint")
    kept = checkpoint.read_text()
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:-1]))  # someone removes the last record from the shared log
    second = history.run(*args)
    assert second.returncode == 1
    assert any("record log tampered" in n for n in json.loads(second.stdout)["notes"])
    assert "not re-signing the checkpoint" in second.stderr
    assert checkpoint.read_text() == kept


def test_sarif_fit_for_code_scanning_and_github_annotations(history: Repo, tmp_path: Path) -> None:
    """One rule per code with descriptions and a helpUri; fingerprints; only the head commit's
    findings get a line (an intermediate commit's lines are not today's)."""
    base = history.head()
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    assert history.commit("zero score").returncode == 0
    middle = history.head()
    history.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 7"))
    assert history.commit("score of seven").returncode == 0
    head = history.head()
    out, _ = ci(history, "--base", base, "--sarif", str(tmp_path / "a.sarif"))
    assert out.returncode == 1
    run = json.loads((tmp_path / "a.sarif").read_text())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    anchor = "docs/findings.md#raw-lint-what-presidio-accepts-silently-ca1xx"
    assert rules["CA105"]["helpUri"].endswith(anchor)
    assert "score of 0" in rules["CA105"]["fullDescription"]["text"]
    ca105 = [r for r in run["results"] if r["ruleId"] == "CA105"]
    by_commit = {r["properties"]["commit"]: r for r in ca105}
    assert "region" in by_commit[head]["locations"][0]["physicalLocation"]
    assert "region" not in by_commit[middle]["locations"][0]["physicalLocation"]
    assert middle[:12] in by_commit[middle]["message"]["text"]
    assert all(r["partialFingerprints"]["configAudit/v1"] for r in run["results"])
    github = history.run("ci", "--base", base, "--log", str(tmp_path / "g.jsonl"),
                         "--format", "github")  # fmt: skip
    lines = [line for line in github.stdout.splitlines() if "title=CA105" in line]
    assert any(line.startswith("::error file=recognizers/custom.yaml,line=") for line in lines)
    assert any(f"in commit {middle[:12]}" in line and ",line=" not in line for line in lines)


def test_sarif_rule_catalogue_matches_docs_findings() -> None:
    """Every code the SARIF rules describe is in docs/findings.md, in the section linked."""
    import re

    from config_audit.commands.finding_codes import CODES

    section, where = "", {}
    for line in (Path(__file__).parents[1] / "docs" / "findings.md").read_text().splitlines():
        if line.startswith("## "):
            section = re.sub(r"[^\w\- ]", "", line[3:].strip().lower()).replace(" ", "-")
        found = re.match(r"^\| (CA\d{3}) \|", line)
        if found:
            where[found.group(1)] = section
    for code, (anchor, meaning) in CODES.items():
        assert where.get(code) == anchor, code
        assert meaning
