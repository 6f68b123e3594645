"""Attacks from issue 11, each in a real repository: real commits, hooks fired by `git commit`,
real `config-audit ci` runs. Nothing the commit under audit brings may decide its own verdict."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo

WEAK = RECOGNIZERS.replace("score: 0.8", "score: 0.5")
CUSTOM = "recognizers/custom.yaml"


def ci(repo: Repo, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = repo.run("ci", "--log", str(repo.path.parent / "ci.jsonl"), "--format", "json", *args)
    try:
        data = json.loads(out.stdout)
    except ValueError:
        pytest.fail(f"ci printed no JSON (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out, data


def kinds(data: dict) -> set[str]:
    return {ch["kind"] for c in data["commits"] for f in c["files"] for ch in f["changes"]}


def codes(data: dict) -> set[str]:
    return {f["code"] for c in data["commits"] for f in c["findings"]}


def bob_commits(repo: Repo, message: str, *, verify: bool) -> subprocess.CompletedProcess[str]:
    extra = () if verify else ("--no-verify",)
    repo.git("add", "-A")
    return repo.git("commit", "-q", "-m", message, *extra, check=False, author="bob")


@pytest.fixture
def based(tmp_path: Path) -> Repo:
    """Hooks installed, the README's set-up committed by alice (an owner) and tagged `base`."""
    repo = make_repo(tmp_path)
    done = repo.commit("base")
    assert done.returncode == 0, done.stderr
    repo.git("tag", "base")
    return repo


def _assert_gate_fails(repo: Repo, *expected: str) -> dict:
    out, data = ci(repo, "--base", "base", "--require-hook-record")
    assert out.returncode == 1, out.stdout + out.stderr
    assert set(expected) <= kinds(data), kinds(data)
    assert "CA501" in codes(data)
    return data


# -- attack 1: the settings file decides its own fate ------------------------------------------


def _move_settings(repo: Repo) -> None:
    (repo.path / "sub").mkdir()
    repo.git("mv", ".config-audit.yaml", "sub/.config-audit.yaml")


def _remove_settings(repo: Repo) -> None:
    repo.git("rm", "-q", ".config-audit.yaml")


def _symlink_settings(repo: Repo) -> None:
    text = (repo.path / ".config-audit.yaml").read_text()
    repo.write(
        "lax/settings.yaml", text.replace('protected_entities: ["NW_*"]', "protected_entities: []")
    )
    repo.git("rm", "-q", ".config-audit.yaml")
    os.symlink("lax/settings.yaml", repo.path / ".config-audit.yaml")


def _second_settings(repo: Repo) -> None:
    repo.write("recognizers/.config-audit.yaml", "recognizers: ['nothing/*.yaml']\n")


@pytest.mark.parametrize(
    ("attack", "kind"),
    [
        (_move_settings, "settings.moved"),
        (_remove_settings, "settings.removed"),
        (_symlink_settings, "settings.not_regular"),
        (_second_settings, "settings.second"),
    ],
)
def test_attack1_settings_file_cannot_decide_its_own_fate(based: Repo, attack, kind) -> None:
    attack(based)
    based.write(CUSTOM, WEAK)
    blocked = bob_commits(based, "tidy up", verify=True)
    assert blocked.returncode != 0, blocked.stderr
    assert "CA501" in blocked.stderr
    assert bob_commits(based, "tidy up", verify=False).returncode == 0
    _assert_gate_fails(based, kind, "pattern.score_lowered")


def test_attack1_head_without_settings_is_judged_by_the_base(based: Repo) -> None:
    """Removed in one commit, the weakening in the next: the base's settings still govern."""
    _remove_settings(based)
    assert bob_commits(based, "drop settings", verify=False).returncode == 0
    based.write(CUSTOM, WEAK)
    assert bob_commits(based, "weaken", verify=False).returncode == 0
    data = _assert_gate_fails(based, "settings.removed", "pattern.score_lowered")
    weakened = [c for c in data["commits"] if any(f["path"] == CUSTOM for f in c["files"])]
    assert weakened and weakened[0]["findings"]


# -- attack 2: symlinked recognizer files ---------------------------------------------------


def test_attack2_symlink_is_audited_as_its_target(based: Repo) -> None:
    """The link text is never parsed: a link to a weak copy outside the globs is the weak copy."""
    based.write("lax/custom.yaml", WEAK)
    (based.path / CUSTOM).unlink()
    os.symlink("../lax/custom.yaml", based.path / CUSTOM)
    blocked = bob_commits(based, "point at a copy", verify=True)
    assert blocked.returncode != 0 and "CA501" in blocked.stderr, blocked.stderr
    assert bob_commits(based, "point at a copy", verify=False).returncode == 0
    data = _assert_gate_fails(based, "pattern.score_lowered")
    assert data["commits"]


@pytest.mark.parametrize("link", ["/etc/hostname", "../../outside.yaml", "missing.yaml"])
def test_attack2_symlink_out_of_the_tree_or_dangling_is_an_error(based: Repo, link: str) -> None:
    (based.path / CUSTOM).unlink()
    os.symlink(link, based.path / CUSTOM)
    blocked = bob_commits(based, "link away", verify=True)
    assert blocked.returncode != 0 and "CA005" in blocked.stderr, blocked.stderr
    assert bob_commits(based, "link away", verify=False).returncode == 0
    out, data = ci(based, "--base", "base")
    assert out.returncode == 1 and "CA005" in codes(data)
    records = [
        json.loads(line) for line in (based.path.parent / "ci.jsonl").read_text().splitlines()
    ]
    assert records[-1]["extra"]["mode"] == {"before": "100644", "after": "120000"}


# -- attacks 3 and 8: forged owner signatures, hook notes vouched for by the pusher ------------


def _ssh_key(tmp: Path, name: str) -> Path:
    key = tmp / f"{name}_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def test_attack3_signer_added_by_the_range_cannot_verify_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, mode="owner-signed", hooks=False)
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    mallory = _ssh_key(tmp_path, "mallory")
    # the non-owner maps the owner's e-mail to her own key, then signs as the owner
    signers = repo.path / ".config-audit" / "allowed_signers"
    signers.write_text(f"alice@nw.example {Path(f'{mallory}.pub').read_text()}")
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(mallory))
    repo.write(CUSTOM, WEAK)
    assert repo.commit("as alice", extra=("-S",)).returncode == 0
    out, data = ci(repo, "--base", "base")
    assert out.returncode == 1, out.stdout
    assert {c["assurance"] for c in data["commits"]} != {"verified-signature"}
    assert {"trust.entries_added", "pattern.score_lowered"} <= kinds(data)
    assert "CA501" in codes(data)


def test_attack8_trusted_keys_moved_to_the_pushers_key_vouch_for_nothing(based: Repo) -> None:
    from config_audit.ledger.keys import add_trusted_key, generate_key
    from config_audit.ledger.log import Ledger
    from config_audit.ledger.records import build_record_body
    from config_audit.ledger.signing import Ed25519Signer

    own = generate_key(based.path.parent / "bob.pem", owner="bob")
    add_trusted_key(based.path / "bob" / "keys.yaml", own.trusted)
    cfg = based.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text().replace(".config-audit/trusted-keys.yaml", "bob/keys.yaml"))
    based.write(CUSTOM, WEAK)
    based.git("add", "-A")
    based.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "w", author="bob")
    sha = based.head()
    signer = Ed25519Signer.from_pem((based.path.parent / "bob.pem").read_bytes(), origin="bob")
    body = build_record_body(
        source="post-commit", path=CUSTOM, commit=sha, extra={"pre_commit": "passed"}
    )
    forged = Ledger(based.path.parent / "forged.jsonl").append(body, signer)
    based.git("notes", "--ref=config-audit", "add", "-f", "-m", json.dumps(forged), sha)
    out, data = ci(based, "--base", "base", "--require-hook-record")
    assert out.returncode == 1
    assert "CA603" in codes(data) and "CA501" in codes(data)
    assert "trust.path_changed" in kinds(data)
    assert not any(c["hook_record"] for c in data["commits"])


# -- attack 11: hash_deny_list: false -------------------------------------------------------


def test_attack11_deny_lists_in_clear_need_an_owner(based: Repo) -> None:
    cfg = based.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text() + "hash_deny_list: false\n")
    blocked = bob_commits(based, "clear text", verify=True)
    assert blocked.returncode != 0 and "CA501" in blocked.stderr, blocked.stderr
    assert bob_commits(based, "clear text", verify=False).returncode == 0
    based.write(CUSTOM, RECOGNIZERS.replace("[Dr., Prof.]", "[Dr., Jane Roe]"))
    assert bob_commits(based, "names", verify=False).returncode == 0
    out, data = ci(based, "--base", "base")
    assert out.returncode == 1 and "records.deny_list_hashing_changed" in kinds(data)
    # judged by the base's settings: the names stay hashed in the signed CI records
    assert "Jane Roe" not in (based.path.parent / "ci.jsonl").read_text()


# -- attack 4: evil merges back to an older version ------------------------------------------


def test_attack4_merge_restoring_an_old_version_is_audited(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, hooks=False)
    repo.write(CUSTOM, WEAK)
    assert repo.commit("weak at first").returncode == 0
    old = repo.head()
    repo.write(CUSTOM, RECOGNIZERS)
    assert repo.commit("strengthened").returncode == 0
    repo.git("tag", "base")
    evil = repo.git(
        "commit-tree", f"{old}^{{tree}}", "-p", "HEAD", "-p", old, "-m", "merge", author="bob"
    ).stdout.strip()
    repo.git("update-ref", "refs/heads/main", evil)
    out, data = ci(repo, "--base", "base")
    assert out.returncode == 1, out.stdout
    assert "pattern.score_lowered" in kinds(data) and "CA501" in codes(data)


# -- attack 5: owner globs compared by what they match ---------------------------------------


@pytest.mark.parametrize("glob", ["[N]W_*", "*", "N?_*", "*_ID"])
def test_attack5_owner_glob_overlapping_a_protected_entity_needs_its_owners(
    based: Repo, glob: str
) -> None:
    cfg = based.path / ".config-audit.yaml"
    cfg.write_text(
        cfg.read_text().replace('"NW_*": [privacy]', f'"NW_*": [privacy]\n    "{glob}": [bob]')
    )
    blocked = bob_commits(based, "own more", verify=True)
    assert blocked.returncode != 0 and "CA501" in blocked.stderr, blocked.stderr
    assert bob_commits(based, "own more", verify=False).returncode == 0
    out, data = ci(based, "--base", "base")
    assert out.returncode == 1 and "policy.owners_added" in kinds(data)
    assert "CA501" in codes(data)


def test_glob_overlap_is_by_what_patterns_match() -> None:
    from config_audit.policy.globs import overlaps

    assert overlaps("[N]W_*", "NW_*") and overlaps("*", "NW_*") and overlaps("*_ID", "NW_*")
    assert overlaps("[A-Z]W_*", "NW_*") and overlaps("N?_X", "NW_*")
    assert not overlaps("AB_*", "NW_*") and not overlaps("[!N]W_*", "NW_*")
    assert not overlaps("[a-z]W_*", "NW_*") and not overlaps("NW", "NW_*")


# -- attack 6: moving the deployed file ------------------------------------------------------


@pytest.mark.parametrize("target", ["recognizers/other.yaml", "recognizers/Custom.yaml"])
def test_attack6_renaming_the_deployed_file_removes_it(based: Repo, target: str) -> None:
    based.git("mv", CUSTOM, target)  # a case-only rename too: Presidio's path no longer exists
    blocked = bob_commits(based, "reorganise", verify=True)
    assert blocked.returncode != 0 and "CA502" in blocked.stderr, blocked.stderr
    assert bob_commits(based, "reorganise", verify=False).returncode == 0
    out, data = ci(based, "--base", "base")
    assert out.returncode == 1 and "file.removed" in kinds(data)
    assert {"CA501", "CA502"} <= codes(data)


# -- attack 10: sequencer spoofing ----------------------------------------------------------


def _last_recognizer_record(repo: Repo) -> dict:
    lines = repo.log.read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    return [r for r in recs if r["path"] == CUSTOM][-1]


def test_attack10_reflog_action_alone_is_no_sequencer_evidence(based: Repo) -> None:
    based.write(CUSTOM, RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    based.git("add", "-A")
    env_commit = subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", "pretend"],
        cwd=based.path,
        env={**based.env, "GIT_REFLOG_ACTION": "cherry-pick"},
        capture_output=True,
        text=True,
    )
    assert env_commit.returncode == 0, env_commit.stderr
    assert _last_recognizer_record(based)["extra"]["pre_commit"] == "not-run"
    out, data = ci(based, "--base", "base", "--require-hook-record")
    assert out.returncode == 1 and "CA604" in codes(data)


def test_real_revert_is_still_recognised(based: Repo) -> None:
    based.write(CUSTOM, RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert based.commit("more context").returncode == 0
    assert based.git("revert", "--no-edit", "HEAD", check=False).returncode == 0
    assert _last_recognizer_record(based)["extra"]["pre_commit"] == "revert"


# -- attacks 13 and 17: non-UTF-8 and control characters in file names ------------------------


def test_attack13_17_odd_file_names_never_crash_or_lose_a_record(based: Repo) -> None:
    import base64

    raw = b"recognizers/x\xff\x1b[2J.yaml"
    text = RECOGNIZERS.replace("NW_EMPLOYEE_ID", "X_ID").replace("Employee ID", "Other")
    odd_file = os.path.join(os.fsencode(based.path), raw)
    with open(odd_file, "wb") as fh:
        fh.write(text.encode())
    based.git("add", "-A")
    done = based.git("commit", "-q", "--no-verify", "-m", "odd name", check=False)
    assert done.returncode == 0 and "internal error" not in done.stderr, done.stderr
    recs = [json.loads(x) for x in based.log.read_text().splitlines()]
    odd = [r for r in recs if (r.get("extra") or {}).get("path_bytes")]
    assert odd and base64.b64decode(odd[-1]["extra"]["path_bytes"]) == raw  # lossless
    out, data = ci(based, "--base", "base")
    assert out.returncode == 0, out.stderr
    assert data["commits"]
    shown = based.run("log", "--log", str(based.log))
    assert shown.returncode == 0 and "\x1b" not in shown.stdout
    assert "\\x1b[2J" in shown.stdout and "\\xff" in shown.stdout
    bad = RECOGNIZERS.replace("score: 0.8", "score: 0")
    with open(odd_file, "wb") as fh:
        fh.write(bad.encode())
    based.git("add", "-A")
    blocked = based.git("commit", "-q", "-m", "odd and bad", check=False)
    assert blocked.returncode == 1 and "\x1b" not in blocked.stderr, blocked.stderr


# -- attack 12: quadratic rename pairing (figures in bench/bench_renames.py) -------------------


def test_attack12_rename_pairing_grows_linearly() -> None:
    import time

    from config_audit.recognizers.diff import diff_sets
    from config_audit.recognizers.parse import parse_bytes

    def renamed(n: int) -> float:
        def text(prefix: str) -> bytes:
            rows = [
                f"- {{name: {prefix}{i}, supported_entity: E{i % 9}, deny_list: [w{i}]}}"
                for i in range(n)
            ]
            return ("recognizers:\n" + "\n".join(rows) + "\n").encode()

        a = parse_bytes(text("Old"), path="a").recognizers
        b = parse_bytes(text("New"), path="b").recognizers
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            changes = diff_sets(a, b)
            best = min(best, time.perf_counter() - start)
        assert sum(c.kind == "recognizer.renamed" for c in changes) == n
        return best

    small, large = renamed(1000), renamed(4000)
    assert large < 10 * small + 0.05, (small, large)  # quadratic pairing was 16x


# -- attack 9: checkpoint rollback ----------------------------------------------------------


def test_attack9_cut_log_with_an_older_checkpoint_is_caught_by_the_published_one(
    based: Repo, tmp_path: Path
) -> None:
    from config_audit.ledger.checkpoint import checkpoint_path

    beside = checkpoint_path(based.log)
    old_log, old_cp = based.log.read_bytes(), beside.read_bytes()
    based.write(CUSTOM, RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert based.commit("more context").returncode == 0
    assert len(based.log.read_bytes()) > len(old_log)
    # the writer cuts the log and restores the older, validly signed checkpoint beside it
    based.log.write_bytes(old_log)
    beside.write_bytes(old_cp)
    out = based.run("verify", "--log", str(based.log), "--require-checkpoint")
    assert out.returncode == 1 and "TRUNCATED" in out.stdout.upper(), out.stdout + out.stderr
    beside.unlink()
    out = based.run("verify", "--log", str(based.log), "--format", "json")
    assert out.returncode == 1 and not json.loads(out.stdout)["ok"]
    # a log with no checkpoint anywhere: the warning is in the JSON too
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "log.jsonl").write_bytes(old_log)
    alone = subprocess.run(
        [
            str(Path(based.env["PATH"].split(":")[0]) / "config-audit"),
            "verify",
            "--log",
            str(elsewhere / "log.jsonl"),
            "--trusted-keys",
            str(based.path / ".config-audit" / "trusted-keys.yaml"),
            "--format",
            "json",
        ],
        cwd=elsewhere,
        env=based.env,
        capture_output=True,
        text=True,
    )
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "no checkpoint" in json.loads(alone.stdout)["warnings"][0]


def test_attack2_editing_a_link_target_outside_the_globs_is_an_edit(based: Repo) -> None:
    based.write("lax/custom.yaml", RECOGNIZERS)
    (based.path / CUSTOM).unlink()
    os.symlink("../lax/custom.yaml", based.path / CUSTOM)
    assert based.commit("deploy through a link").returncode == 0  # alice: same content
    based.git("tag", "-f", "base")
    based.write("lax/custom.yaml", WEAK)
    assert bob_commits(based, "outside the globs", verify=True).returncode == 0
    data = _assert_gate_fails(based, "pattern.score_lowered")
    assert {f["path"] for c in data["commits"] for f in c["files"]} == {CUSTOM}


# -- attack 16: .gitattributes on audited paths ---------------------------------------------


def test_attack16_gitattributes_touching_recognizer_files_need_an_owner(based: Repo) -> None:
    based.write(".gitattributes", "*.md text\n")
    assert bob_commits(based, "docs eol", verify=True).returncode == 0  # not ours: passes
    based.git("tag", "-f", "base")
    based.write(".gitattributes", "*.md text\nrecognizers/custom.yaml export-ignore\n")
    blocked = bob_commits(based, "smaller archives", verify=True)
    assert blocked.returncode != 0 and "CA501" in blocked.stderr, blocked.stderr
    assert bob_commits(based, "smaller archives", verify=False).returncode == 0
    out, data = ci(based, "--base", "base")
    assert out.returncode == 1 and "attributes.changed" in kinds(data)


# -- attack 18: secrets at rest -------------------------------------------------------------


def test_attack18_caches_hold_deny_lists_only_hashed(based: Repo) -> None:
    based.write(CUSTOM, RECOGNIZERS.replace("[Dr., Prof.]", "[Dr., Jane Roe]"))
    assert based.commit("names").returncode == 0
    cache = based.path / ".git" / "config-audit" / "cache"
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert any(p.name.startswith("load-") for p in files)
    for path in files:
        assert b"Jane Roe" not in path.read_bytes() and b"Prof." not in path.read_bytes(), path
    # the cached load is still used, and still sees the entries (restored from the file)
    based.write(CUSTOM, RECOGNIZERS)
    done = based.commit("names out again")
    assert done.returncode == 0 and "internal error" not in done.stderr
    recs = [json.loads(x) for x in based.log.read_text().splitlines()]
    last = [r for r in recs if r["path"] == CUSTOM][-1]
    assert {c["kind"] for c in last["changes"]} >= {"deny_list.entries_added"}


def test_attack18_crash_logs_are_private(tmp_path: Path) -> None:
    import sys

    code = (
        "from config_audit.cli import _write_crash_log\n"
        "try:\n    raise RuntimeError('deny list: Jane Roe')\n"
        "except RuntimeError:\n    print(_write_crash_log())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CONFIG_AUDIT_CRASH_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    log = Path(out.stdout.strip())
    assert log.parent.parent == tmp_path
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700


# -- random sequences of the operations above (seeded; Hypothesis is not a dependency yet) -----


def _op_owner_glob(repo: Repo) -> None:
    cfg = repo.path / ".config-audit.yaml"
    if cfg.is_file() and not cfg.is_symlink():
        cfg.write_text(
            cfg.read_text().replace('"NW_*": [privacy]', '"NW_*": [privacy]\n    "*": [bob]')
        )


def _op_signer(repo: Repo) -> None:
    signers = repo.path / ".config-audit" / "allowed_signers"
    signers.write_text("alice@nw.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFake\n")


def _op_link_recognizer(repo: Repo) -> None:
    target = repo.path / CUSTOM
    if target.is_file() and not target.is_symlink():
        repo.write("lax/custom.yaml", target.read_text())
        target.unlink()
        os.symlink("../lax/custom.yaml", target)


def _op_settings(repo: Repo, rng: object) -> None:
    import random

    assert isinstance(rng, random.Random)
    if (repo.path / ".config-audit.yaml").is_file():
        rng.choice([_move_settings, _remove_settings, _symlink_settings, _second_settings])(repo)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sequences_never_leave_a_weakening_that_ci_passes(based: Repo, seed: int) -> None:
    import random

    rng = random.Random(seed)
    ops = [_op_owner_glob, _op_signer, _op_link_recognizer, lambda r: _op_settings(r, rng)]
    for step in range(2):
        rng.choice(ops)(based)
        based.git("add", "-A")
        based.git("commit", "-q", "--no-verify", "--allow-empty", "-m", f"{step}", author="bob")
    weak_at = based.path / "lax" / "custom.yaml"
    if not (based.path / CUSTOM).is_symlink():
        weak_at = based.path / CUSTOM
    weak_at.write_text(WEAK)
    assert bob_commits(based, "weaken", verify=False).returncode == 0
    if rng.random() < 0.5:  # and maybe bury it under a merge back to an old tree
        evil = based.git(
            "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-p", "base", "-m", "merge", author="bob"
        ).stdout.strip()
        based.git("update-ref", "refs/heads/main", evil)
    out, data = ci(based, "--base", "base", "--require-hook-record")
    assert out.returncode == 1, out.stdout
    assert "CA501" in codes(data) or "CA005" in codes(data)


# -- the `policy_owners` role: who may loosen the policy itself -----------------------------


def _repo_with_policy_owners(tmp_path: Path, policy_owners: str | None) -> Repo:
    repo = make_repo(tmp_path, mode="owner")  # claimed identity suffices: the role is the test
    if policy_owners is not None:
        cfg = repo.path / ".config-audit.yaml"
        extra = f"  min_score: 0.3\n  policy_owners: [{policy_owners}]\n"
        cfg.write_text(cfg.read_text().replace("  min_score: 0.3\n", extra))
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    return repo


@pytest.mark.parametrize(
    ("policy_owners", "who", "blocked"),
    [
        (None, "alice", False),  # default: the owners of what is protected, as before
        (None, "bob", True),
        ("bob", "alice", True),  # an entity owner who is not a policy owner
        ("bob", "bob", False),
    ],
)
def test_policy_owners_alone_may_loosen_the_policy(
    tmp_path: Path, policy_owners: str | None, who: str, blocked: bool
) -> None:
    repo = _repo_with_policy_owners(tmp_path, policy_owners)
    cfg = repo.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text().replace("min_score: 0.3", "min_score: 0.1"))
    done = repo.commit("lower the floor", author=who)
    assert (done.returncode != 0) == blocked, done.stderr
    if blocked:
        assert "CA501" in done.stderr
        assert repo.commit("lower the floor", author=who, extra=("--no-verify",)).returncode == 0
    out, data = ci(repo, "--base", "base")
    assert out.returncode == (1 if blocked else 0), out.stdout
    assert "policy.score_floor_changed" in kinds(data)


def test_granting_policy_ownership_needs_the_policy_owners(tmp_path: Path) -> None:
    repo = _repo_with_policy_owners(tmp_path, "alice")
    cfg = repo.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text().replace("policy_owners: [alice]", "policy_owners: [alice, bob]"))
    assert repo.commit("me too", author="bob", extra=("--no-verify",)).returncode == 0
    out, data = ci(repo, "--base", "base")
    assert out.returncode == 1 and "policy.policy_owners_added" in kinds(data)


# -- `deployed:` the paths Presidio reads --------------------------------------------------

DRAFT = "recognizers/drafts/next.yaml"


@pytest.fixture
def deploying(tmp_path: Path) -> Repo:
    """Only custom.yaml is deployed; a draft of a protected recognizer sits beside it."""
    repo = make_repo(tmp_path)
    cfg = repo.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text() + "deployed: [recognizers/custom.yaml]\n")
    repo.write(DRAFT, RECOGNIZERS)
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    return repo


def test_renaming_a_draft_is_no_removal(deploying: Repo) -> None:
    deploying.git("mv", DRAFT, "recognizers/drafts/Later.yaml")
    done = bob_commits(deploying, "rename the draft", verify=True)
    assert done.returncode == 0, done.stderr
    out, data = ci(deploying, "--base", "base", "--require-hook-record")
    assert out.returncode == 0, out.stdout
    assert "file.removed" not in kinds(data)


@pytest.mark.parametrize("target", ["recognizers/other.yaml", "recognizers/Custom.yaml"])
def test_renaming_a_deployed_file_named_in_deployed_removes_it(
    deploying: Repo, target: str
) -> None:
    deploying.git("mv", CUSTOM, target)
    blocked = bob_commits(deploying, "reorganise", verify=True)
    assert blocked.returncode != 0 and "CA502" in blocked.stderr, blocked.stderr
    assert bob_commits(deploying, "reorganise", verify=False).returncode == 0
    out, data = ci(deploying, "--base", "base")
    assert out.returncode == 1 and "file.removed" in kinds(data)


def test_narrowing_deployed_needs_an_owner(deploying: Repo) -> None:
    cfg = deploying.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text().replace("deployed: [recognizers/custom.yaml]", "deployed: []"))
    deploying.git("mv", CUSTOM, "recognizers/other.yaml")  # now "not deployed": no removal
    assert bob_commits(deploying, "nothing is deployed", verify=False).returncode == 0
    out, data = ci(deploying, "--base", "base")
    assert out.returncode == 1 and "file.removed" in kinds(data)  # the base's deployed decides
    assert "coverage.deployed_changed" in kinds(data)


# -- the external checkpoint anchor (`ledger.anchor`) -------------------------------------


def test_a_log_shorter_than_the_external_anchor_is_a_finding(based: Repo, tmp_path: Path) -> None:
    from config_audit.audit.publish import CHECKPOINTS_REF
    from config_audit.ledger.checkpoint import checkpoint_path

    anchor = tmp_path / "worm" / "anchor.txt"
    anchor.parent.mkdir()
    cfg = based.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text() + f"ledger: {{anchor: {anchor}}}\n")
    assert based.commit("anchor the log elsewhere").returncode == 0
    old_log = based.log.read_bytes()
    based.write(CUSTOM, RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert based.commit("more context").returncode == 0
    made = based.run("checkpoint", "--log", str(based.log))
    assert made.returncode == 0 and anchor.is_file(), made.stderr  # the anchor by default
    assert based.run("verify", "--log", str(based.log)).returncode == 0
    # the writer cuts the log and removes every checkpoint within his reach
    based.log.write_bytes(old_log)
    checkpoint_path(based.log).unlink()
    based.git("update-ref", "-d", f"refs/notes/{CHECKPOINTS_REF}", check=False)
    out = based.run("verify", "--log", str(based.log), "--format", "json")
    report = json.loads(out.stdout)
    assert out.returncode == 1 and not report["ok"], out.stdout
    assert {f["code"] for f in report["findings"]} == {"truncated"}, report["findings"]
    with_anchor = cfg.read_text()
    cfg.write_text(with_anchor.replace(f"ledger: {{anchor: {anchor}}}\n", ""))
    assert based.run("verify", "--log", str(based.log)).returncode == 0  # the anchor caught it
    cfg.write_text(with_anchor)
    anchor.unlink()  # and the anchor itself gone: a failure, not a skip
    gone = based.run("verify", "--log", str(based.log))
    assert gone.returncode == 1 and "ledger.anchor" in gone.stderr, gone.stdout + gone.stderr


# -- a glob added inside the range: later commits of the range are audited with it ----------

EXTRA = "extra/custom.yaml"


@pytest.fixture
def extra_based(tmp_path: Path) -> Repo:
    """`based`, plus a copy of the protected recognizers under extra/, outside every glob."""
    repo = make_repo(tmp_path)
    repo.write(EXTRA, RECOGNIZERS)
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    return repo


def _weaken_extra_hooks_off(repo: Repo) -> str:
    repo.write(EXTRA, WEAK)
    repo.git("add", "-A")
    done = repo.git(
        "-c", "core.hooksPath=/dev/null", "commit", "-q", "--no-verify", "-m", "tune extra",
        check=False, author="bob",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return repo.head()


def test_glob_added_in_the_range_audits_the_later_commits_of_the_range(
    extra_based: Repo,
) -> None:
    cfg = extra_based.path / ".config-audit.yaml"
    cfg.write_text(
        cfg.read_text()
        + "recognizers: ['recognizers/**/*.yaml', 'recognizers/**/*.yml', 'extra/*.yaml']\n"
    )
    added = extra_based.commit("audit extra/ too")  # alice, an owner: a widening is allowed
    assert added.returncode == 0, added.stderr
    weakened = _weaken_extra_hooks_off(extra_based)
    out, data = ci(extra_based, "--base", "base", "--require-hook-record")
    assert out.returncode == 1, out.stdout + out.stderr
    named = [c for c in data["commits"] if c["commit"] == weakened]
    assert named and any(f["path"] == EXTRA and f["blocked"] for f in named[0]["files"]), data
    assert "CA501" in {f["code"] for f in named[0]["findings"]}  # no hook record either


def test_without_the_glob_the_same_weakening_is_outside_coverage(extra_based: Repo) -> None:
    _weaken_extra_hooks_off(extra_based)
    out, data = ci(extra_based, "--base", "base", "--require-hook-record")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not data["commits"]


def _cover_extra(repo: Repo, *, covered: bool) -> None:
    cfg = repo.path / ".config-audit.yaml"
    text = cfg.read_text().split("recognizers: [")[0]
    globs = "'recognizers/**/*.yaml', 'recognizers/**/*.yml'" + (
        ", 'extra/*.yaml'" if covered else ""
    )
    cfg.write_text(f"{text}recognizers: [{globs}]\n")


def test_a_weakening_before_the_glob_is_added_is_still_outside_coverage(
    extra_based: Repo,
) -> None:
    """The globs of a commit's parent, not the range's widest: before the glob the file was
    nobody's, and the glob adopts the file as it then is."""
    _weaken_extra_hooks_off(extra_based)
    _cover_extra(extra_based, covered=True)
    assert extra_based.commit("audit extra/ too").returncode == 0
    out, data = ci(extra_based, "--base", "base", "--require-hook-record")
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(f["path"] != EXTRA for c in data["commits"] for f in c["files"]), data


def test_a_glob_removed_in_the_range_audits_until_the_range_ends(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.write(EXTRA, RECOGNIZERS)
    _cover_extra(repo, covered=True)
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    _cover_extra(repo, covered=False)
    assert repo.commit("stop auditing extra/").returncode == 0  # alice: judged on its own
    weakened = _weaken_extra_hooks_off(repo)
    out, data = ci(repo, "--base", "base", "--require-hook-record")
    assert out.returncode == 1, out.stdout + out.stderr
    assert any(c["commit"] == weakened for c in data["commits"]), data


def test_a_branch_forked_before_a_glob_was_removed_is_audited_with_it(tmp_path: Path) -> None:
    """The base no longer covers extra/, but a branch merged in the range forked where it did:
    its commits are audited with their parent's globs (read at the range's boundary)."""
    repo = make_repo(tmp_path)
    repo.write(EXTRA, RECOGNIZERS)
    _cover_extra(repo, covered=True)
    assert repo.commit("cover extra/").returncode == 0
    repo.git("branch", "side")
    _cover_extra(repo, covered=False)
    assert repo.commit("stop auditing extra/").returncode == 0
    repo.git("tag", "base")
    repo.git("checkout", "-q", "side")
    weakened = _weaken_extra_hooks_off(repo)
    repo.git("checkout", "-q", "main")
    repo.git("-c", "core.hooksPath=/dev/null", "merge", "-q", "--no-ff", "-m", "merge", "side")
    out, data = ci(repo, "--base", "base", "--require-hook-record")
    assert out.returncode == 1, out.stdout + out.stderr
    assert any(c["commit"] == weakened for c in data["commits"]), data
