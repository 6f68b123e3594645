"""Real repositories, real hooks fired by `git commit`, real Presidio validation, real signatures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config_audit.git.hooks import HOOK_NAMES, shim
from tests.gitfixtures import RECOGNIZERS, Repo, make_repo

ROOT = Path(__file__).parents[1]


def records(repo: Repo) -> list[dict]:
    if not repo.log.exists():
        return []
    return [json.loads(line) for line in repo.log.read_text().splitlines() if line.strip()]


def recognizer_records(repo: Repo) -> list[dict]:
    """Records of recognizer files (the settings file gets records of its own)."""
    return [r for r in records(repo) if not (r.get("extra") or {}).get("settings_file")]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = make_repo(tmp_path)
    done = r.commit("initial recognizers")
    assert done.returncode == 0, done.stderr
    return r


def test_shipped_shims_are_what_the_installer_writes() -> None:
    for name in HOOK_NAMES:
        assert (ROOT / "hooks" / name).read_text() == shim(name)


def test_initial_commit_is_recorded_signed_and_noted(repo: Repo) -> None:
    settings = [r for r in records(repo) if (r.get("extra") or {}).get("settings_file")]
    assert [c["kind"] for c in settings[0]["changes"]] == ["policy.created"]
    recs = recognizer_records(repo)
    assert [r["source"] for r in recs] == ["post-commit"]
    assert recs[0]["commit"] == repo.head()
    assert recs[0]["author"]["author_email"] == "alice@nw.example"
    assert recs[0]["author"]["assurance"] == "claimed"
    assert {c["kind"] for c in recs[0]["changes"]} == {"recognizer.added"}
    # deny-list values never reach the record in clear text
    assert "Prof." not in repo.log.read_text()
    note = repo.git("notes", "--ref=config-audit", "show", "HEAD").stdout
    assert json.loads(note.splitlines()[0])["id"] == recs[0]["id"]
    verified = repo.run("verify", "--log", str(repo.log))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_invalid_edit_is_blocked_with_file_line_and_recognizer(repo: Repo) -> None:
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    done = repo.commit("zero score")
    assert done.returncode != 0
    assert "recognizers/custom.yaml:5" in done.stderr
    assert "CA105" in done.stderr and "Employee ID" in done.stderr
    assert repo.git("rev-list", "--count", "HEAD").stdout.strip() == "1"
    blocked = records(repo)[-1]
    assert blocked["source"] == "pre-commit" and blocked["validation"]["valid"] is False


def test_weakening_by_non_owner_is_blocked_and_by_owner_passes(repo: Repo) -> None:
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    bob = repo.commit("bob lowers the score", author="bob")
    assert bob.returncode != 0
    assert "CA501" in bob.stderr and "not an owner" in bob.stderr
    alice = repo.commit("alice lowers the score", author="alice")
    assert alice.returncode == 0, alice.stderr
    assert "weakens: pattern.score_lowered" in alice.stderr
    last = records(repo)[-1]
    assert last["source"] == "post-commit"
    assert [c["kind"] for c in last["changes"]] == ["pattern.score_lowered"]


def test_partial_staging_audits_the_index_not_the_working_tree(repo: Repo) -> None:
    good = RECOGNIZERS.replace("context: [employee]", "context: [employee, staff]")
    repo.write("recognizers/custom.yaml", good)
    repo.git("add", "recognizers/custom.yaml")
    repo.write("recognizers/custom.yaml", good.replace("score: 0.8", "score: 0"))  # unstaged
    done = repo.git("commit", "-q", "-m", "staged is fine", check=False)
    assert done.returncode == 0, done.stderr
    repo.git("add", "recognizers/custom.yaml")  # now the bad version is staged
    repo.write("recognizers/custom.yaml", good)  # and the working tree is fine
    done = repo.git("commit", "-q", "-m", "staged is bad", check=False)
    assert done.returncode != 0 and "CA105" in done.stderr


def test_rename_is_recorded_as_a_rename(repo: Repo) -> None:
    # Issue 11 (attack 6): Presidio reads the file at its path, so renaming a deployed file
    # removes it there (file.removed, forbidden for protected entities like a deletion).
    repo.git("mv", "recognizers/custom.yaml", "recognizers/northwind.yaml")
    done = repo.git("commit", "-q", "-m", "rename", check=False)
    assert done.returncode != 0 and "CA502" in done.stderr, done.stderr
    removed = records(repo)[-1]  # pre-commit records the blocked half
    assert removed["path"] == "recognizers/custom.yaml"
    assert removed["extra"]["renamed_to"] == "recognizers/northwind.yaml"
    assert "file.removed" in {c["kind"] for c in removed["changes"]}


def test_deleting_a_protected_recognizer_is_forbidden(repo: Repo) -> None:
    repo.git("rm", "-q", "recognizers/custom.yaml")
    done = repo.git("commit", "-q", "-m", "delete", check=False)
    assert done.returncode != 0 and "CA502" in done.stderr


def test_commit_without_recognizer_files_never_starts_python(repo: Repo) -> None:
    repo.write("README.md", "hello\n")
    env_no_tool = {**repo.env, "PATH": "/usr/bin:/bin"}  # config-audit is not reachable
    done = subprocess.run(
        ["git", "commit", "-qam", "docs"],
        cwd=repo.path,
        env=env_no_tool,
        capture_output=True,
        text=True,
    )
    repo.git("add", "README.md")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "docs"],
        cwd=repo.path,
        env=env_no_tool,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "command not found" not in done.stderr, done.stderr


def test_missing_tool_blocks_recognizer_commits_with_advice(repo: Repo) -> None:
    repo.write("recognizers/custom.yaml", RECOGNIZERS + "# touch\n")
    repo.git("add", "-A")
    env_no_tool = {**repo.env, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "x"],
        cwd=repo.path,
        env=env_no_tool,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "config-audit: command not found" in done.stderr and "uninstall-hooks" in done.stderr


def test_amend_and_rebase_are_recorded_once_per_commit(repo: Repo) -> None:
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    repo.write(
        "recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff, hr]")
    )
    repo.git("add", "-A")
    assert (
        repo.git("commit", "-q", "--amend", "-m", "even more context", check=False).returncode == 0
    )
    commits = [
        (r["commit"], r["path"])
        for r in records(repo)
        if r["source"] in ("post-commit", "post-rewrite")
    ]
    assert len(commits) == len(set(commits))  # one record per commit and file
    assert repo.head() in {c for c, _ in commits}
    # rebase onto a new base commit rewrites the recognizer commit
    repo.git("checkout", "-q", "-b", "side", "HEAD~1")
    repo.write("notes.txt", "x\n")
    assert repo.commit("unrelated").returncode == 0
    repo.git("checkout", "-q", "main")
    assert repo.git("rebase", "-q", "side", check=False).returncode == 0
    recorded = {r["commit"] for r in records(repo)}
    assert repo.head() in recorded
    assert repo.run("verify", "--log", str(repo.log)).returncode == 0


def test_install_is_idempotent_honours_hookspath_and_chains_foreign_hooks(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, hooks=False)
    hooks = repo.path / "custom-hooks"
    hooks.mkdir()
    foreign = hooks / "pre-commit"
    foreign.write_text("#!/bin/sh\necho foreign-hook-ran >&2\n")
    foreign.chmod(0o755)
    repo.git("config", "core.hooksPath", "custom-hooks")
    assert repo.run("install-hooks").returncode == 0
    assert repo.run("install-hooks").returncode == 0  # idempotent: no double chaining
    original = "#!/bin/sh\necho foreign-hook-ran >&2\n"
    assert (hooks / "pre-commit.config-audit-chained").read_text() == original
    assert "config-audit-chained" in (hooks / "pre-commit").read_text()
    assert not (hooks / "pre-commit.config-audit-chained.config-audit-chained").exists()
    assert not (repo.path / ".git" / "hooks" / "post-commit").exists()
    done = repo.commit("first")
    assert done.returncode == 0, done.stderr
    assert "foreign-hook-ran" in done.stderr
    assert repo.log.exists()
    assert repo.run("uninstall-hooks").returncode == 0
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\necho foreign-hook-ran >&2\n"
    assert not (hooks / "post-commit").exists()


def test_pre_commit_framework_runs_our_hook(tmp_path: Path) -> None:
    if shutil.which("pre-commit", path=str(Path(__file__).parents[1] / ".venv" / "bin")) is None:
        pytest.skip("pre-commit framework not installed")
    repo = make_repo(tmp_path, hooks=False)
    repo.write(
        ".pre-commit-config.yaml",
        f"""\
repos:
  - repo: {ROOT}
    rev: {subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, text=True, capture_output=True).stdout.strip()}
    hooks:
      - id: config-audit-system
""",
    )
    repo.git("add", "-A")
    env = {**repo.env, "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    pc = str(ROOT / ".venv" / "bin" / "pre-commit")
    installed = subprocess.run(
        [pc, "install"], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    ok = subprocess.run(
        ["git", "commit", "-q", "-m", "ok"], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    repo.git("add", "-A")
    bad = subprocess.run(
        ["git", "commit", "-q", "-m", "bad"], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert bad.returncode != 0 and "CA105" in bad.stdout + bad.stderr


def test_merge_with_a_resolved_conflict_goes_through_the_hooks(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "side")
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("side: staff").returncode == 0
    repo.git("checkout", "-q", "main")
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, hr]"))
    assert repo.commit("main: hr").returncode == 0
    assert repo.git("merge", "-q", "side", check=False).returncode != 0  # conflict
    resolved = RECOGNIZERS.replace("[employee]", "[employee, hr, staff]")
    repo.write("recognizers/custom.yaml", resolved)
    repo.git("add", "recognizers/custom.yaml")
    bad = resolved.replace("score: 0.8", "score: 0")
    repo.write("recognizers/custom.yaml", bad)
    repo.git("add", "recognizers/custom.yaml")
    blocked = repo.git("commit", "-q", "--no-edit", check=False)
    assert blocked.returncode != 0 and "CA105" in blocked.stderr  # the merge is audited too
    repo.write("recognizers/custom.yaml", resolved)
    repo.git("add", "recognizers/custom.yaml")
    merged = repo.git("commit", "-q", "--no-edit", check=False)
    assert merged.returncode == 0, merged.stderr
    last = records(repo)[-1]
    assert last["commit"] == repo.head() and last["source"] == "post-commit"
    assert repo.run("verify", "--log", str(repo.log)).returncode == 0


def test_truncated_hook_log_is_caught_by_the_checkpoint_beside_it(repo: Repo) -> None:
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    checkpoint = Path(str(repo.log) + ".checkpoint")
    assert checkpoint.read_text().splitlines()[1] == str(len(records(repo)))
    published = repo.git("notes", "--ref=config-audit-checkpoints", "show", "HEAD").stdout
    assert published == checkpoint.read_text()
    lines = repo.log.read_text().splitlines(keepends=True)
    repo.log.write_text("".join(lines[:-1]))  # the last record removed: the chain alone is fine
    out = repo.run("verify", "--log", str(repo.log))
    assert out.returncode == 1 and "truncat" in out.stdout.lower(), out.stdout
    # The next commit must not re-sign the cut log (that would erase the evidence): the old
    # checkpoint stays, the committer is warned, and verify still fails.
    kept = checkpoint.read_text()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, crew]"))
    later = repo.commit("even more context")
    assert later.returncode == 0
    assert "not re-signing the checkpoint" in later.stderr, later.stderr
    assert checkpoint.read_text() == kept
    assert repo.run("verify", "--log", str(repo.log)).returncode == 1
    # Once a human has looked, --force re-anchors the checkpoint on the log as it is.
    assert repo.run("checkpoint", "--log", str(repo.log)).returncode == 1
    assert repo.run("checkpoint", "--log", str(repo.log), "--force").returncode == 0
    assert repo.run("verify", "--log", str(repo.log)).returncode == 0


def test_renaming_a_recognizer_file_away_is_audited_as_a_deletion(repo: Repo) -> None:
    repo.git("mv", "recognizers/custom.yaml", "recognizers/custom.yaml.bak")
    done = repo.git("commit", "-q", "-m", "hide it", check=False)
    assert done.returncode != 0 and "CA502" in done.stderr  # protected recognizers removed


def test_a_failing_foreign_post_commit_hook_does_not_skip_the_record(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, hooks=False)
    foreign = repo.path / ".git" / "hooks" / "post-commit"
    foreign.write_text("#!/bin/sh\necho flaky >&2\nexit 1\n")
    foreign.chmod(0o755)
    assert repo.run("install-hooks").returncode == 0
    done = repo.commit("first")
    assert done.returncode == 0 and "flaky" in done.stderr
    assert [r["source"] for r in recognizer_records(repo)] == ["post-commit"]


def test_verdict_cache_never_holds_deny_list_entries_in_clear(repo: Repo) -> None:
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[Dr., Prof.]", "[Dr., Jane Roe]"))
    assert repo.commit("names").returncode == 0
    cache = repo.path / ".git" / "config-audit" / "cache"
    entries = list(cache.glob("*.json"))
    assert entries  # post-commit reused what pre-commit proved
    for entry in entries:
        assert entry.stat().st_mode & 0o077 == 0
        assert "Jane Roe" not in entry.read_text() and "Prof." not in entry.read_text()
    assert "Jane Roe" not in repo.log.read_text()
    # Presidio's results per version live beside them (0600), derived only from .git's blobs.
    loads = list((cache / "loads").glob("load-*.json"))
    assert len(loads) >= 2 and all(p.stat().st_mode & 0o077 == 0 for p in loads)


def test_deleted_checkpoint_is_noticed(repo: Repo) -> None:
    Path(str(repo.log) + ".checkpoint").unlink()
    plain = repo.run("verify", "--log", str(repo.log))
    assert plain.returncode == 0 and "no checkpoint" in plain.stderr
    strict = repo.run("verify", "--log", str(repo.log), "--require-checkpoint")
    assert strict.returncode == 1 and "no checkpoint" in strict.stderr


def test_a_commit_is_judged_by_the_policy_before_it(repo: Repo) -> None:
    cfg = repo.path / ".config-audit.yaml"
    promoted = cfg.read_text().replace("privacy: [alice]", "privacy: [alice, bob]")
    cfg.write_text(promoted)
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    sneaky = repo.commit("bob makes himself an owner and weakens", author="bob")
    assert sneaky.returncode != 0 and "CA501" in sneaky.stderr
    repo.git("reset", "-q", "recognizers/custom.yaml")
    repo.git("checkout", "--", "recognizers/custom.yaml")
    assert repo.commit("alice adds bob to the team", ".config-audit.yaml").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    assert repo.commit("bob, now an owner, weakens", author="bob").returncode == 0


def test_configured_globs_reach_the_shell_fast_path(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, hooks=False)
    cfg = repo.path / ".config-audit.yaml"
    cfg.write_text('recognizers: ["conf/*.rec"]\n' + cfg.read_text())
    assert repo.run("install-hooks").returncode == 0
    assert "conf/*.rec" in (repo.path / ".git" / "hooks" / "pre-commit").read_text()
    repo.write("conf/a.rec", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    blocked = repo.commit("not a .yaml file, still a recognizer file")
    assert blocked.returncode != 0 and "CA105" in blocked.stderr
    repo.write("conf/a.rec", RECOGNIZERS)
    assert repo.commit("fixed").returncode == 0
    # Globs changed later: the next hook run rewrites the shims, so the new files are seen.
    cfg.write_text(cfg.read_text().replace('["conf/*.rec"]', '["conf/*.rec", "more/*.rules"]'))
    refreshed = repo.commit("more recognizer files", ".config-audit.yaml")
    assert refreshed.returncode == 0 and "hooks updated" in refreshed.stderr
    repo.write("more/b.rules", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    assert "CA105" in repo.commit("new kind of file").stderr


def test_loosening_the_policy_is_audited_and_needs_an_owner(repo: Repo) -> None:
    cfg = repo.path / ".config-audit.yaml"
    original = cfg.read_text()
    cfg.write_text(original.replace("privacy: [alice]", "privacy: [alice, bob]"))
    bob = repo.commit("bob promotes himself", ".config-audit.yaml", author="bob")
    assert bob.returncode != 0 and "CA501" in bob.stderr and "policy.owners_added" in bob.stderr
    cfg.write_text(original.replace('protected_entities: ["NW_*"]', "protected_entities: []"))
    alice = repo.commit("alice drops the protection", ".config-audit.yaml", author="alice")
    assert alice.returncode == 0, alice.stderr
    last = records(repo)[-1]
    assert last["path"] == ".config-audit.yaml" and last["extra"]["settings_file"] is True
    assert [c["kind"] for c in last["changes"]] == ["policy.protection_removed"]
    cfg.write_text("policy: {owners: {'X': [nobody]}}\n")
    broken = repo.commit("broken settings", ".config-audit.yaml")
    assert broken.returncode != 0 and "Traceback" not in broken.stderr


def test_commits_in_a_linked_worktree_share_the_log_and_survive_its_removal(
    repo: Repo, tmp_path: Path
) -> None:
    """The log lives in the common git directory: `git worktree remove` deletes the worktree's
    private git directory, and with it would go every record written there."""
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"), "-b", "feature")
    linked = Repo(tmp_path / "linked", repo.env)
    linked.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    done = linked.commit("in the worktree")
    assert done.returncode == 0, done.stderr
    sha = linked.head()
    shown = linked.run("log", "--format", "json")  # from inside the worktree: the same log
    assert shown.returncode == 0, shown.stderr
    assert sha in shown.stdout
    repo.git("worktree", "remove", str(tmp_path / "linked"))
    assert [r["commit"] for r in recognizer_records(repo)][-1] == sha
    assert repo.run("verify", "--log", str(repo.log)).returncode == 0


def test_settings_in_a_subdirectory_govern_the_hooks(tmp_path: Path) -> None:
    """A monorepo: services/pii/.config-audit.yaml and its recognizers. Git runs hooks at the
    top, where no settings are found: the hooks must name the file (or find the only one)."""
    repo = make_repo(tmp_path, hooks=False)
    sub = repo.path / "services" / "pii"
    sub.mkdir(parents=True)
    for name in (".config-audit.yaml", "recognizers", ".config-audit"):
        (repo.path / name).rename(sub / name)
    installed = subprocess.run(
        [str(Path(sys.executable).parent / "config-audit"), "install-hooks"],
        cwd=sub, env=repo.env, capture_output=True, text=True,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    shim_text = (repo.path / ".git" / "hooks" / "pre-commit").read_text()
    assert "--config 'services/pii/.config-audit.yaml'" in shim_text
    assert repo.commit("base").returncode == 0
    target = sub / "recognizers" / "custom.yaml"
    target.write_text(RECOGNIZERS.replace("score: 0.8", "score: 7"))
    blocked = repo.commit("invalid score in the subdirectory")
    assert blocked.returncode == 1 and "CA105" in blocked.stderr, blocked.stderr
    assert (repo.path / ".git" / "hooks" / "pre-commit").read_text() == shim_text  # kept
    # Hooks installed before they named the file: the only tracked one is found, and the
    # hooks are healed to name it.
    for name in HOOK_NAMES:
        hook = repo.path / ".git" / "hooks" / name
        hook.write_text(hook.read_text().replace(" --config 'services/pii/.config-audit.yaml'", ""))
    again = repo.commit("invalid score in the subdirectory")
    assert again.returncode == 1 and "CA105" in again.stderr, again.stderr
    assert (repo.path / ".git" / "hooks" / "pre-commit").read_text() == shim_text
    # CI jobs start at the top too: the range is judged by the same settings.
    base = repo.head()
    assert repo.commit("bypass", extra=("--no-verify",)).returncode == 0
    ci = repo.run("ci", "--base", base, "--log", str(tmp_path / "ci.jsonl"), "--format", "json")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "CA105" in ci.stdout
    validated = repo.run("validate")  # from the top, no arguments: the subdirectory's files
    assert validated.returncode == 1 and "services/pii/recognizers/custom.yaml" in validated.stdout


def test_narrowing_the_recognizer_globs_needs_an_owner(repo: Repo) -> None:
    """Two steps past the audit: drop a directory from `recognizers:`, then weaken what is in
    it unchecked. The first step is a weakening of every protected entity."""
    cfg = repo.path / ".config-audit.yaml"
    original = cfg.read_text()
    narrowed = "recognizers: ['other/**/*.yaml']\n" + original
    cfg.write_text(narrowed)
    bob = repo.commit("bob narrows the audit", ".config-audit.yaml", author="bob")
    assert bob.returncode == 1 and "CA501" in bob.stderr, bob.stderr
    assert "coverage.globs_removed" in bob.stderr
    alice = repo.commit("alice moves the audit", ".config-audit.yaml", author="alice")
    assert alice.returncode == 0, alice.stderr
    kinds = [c["kind"] for c in records(repo)[-1]["changes"]]
    assert sorted(kinds) == ["coverage.globs_added", "coverage.globs_removed"], kinds
    cfg.write_text(narrowed + "formats: {'recognizers/custom.yaml': analyzer}\n")
    formats = repo.commit("bob reads a file as another format", ".config-audit.yaml", author="bob")
    assert formats.returncode == 1 and "coverage.formats_changed" in formats.stderr


def test_upper_case_extensions_are_audited_not_skipped(repo: Repo) -> None:
    """The shell filter wakes on `*.YAML` (icase): the hook must then audit it too."""
    repo.write("recognizers/Extra.YAML", RECOGNIZERS.replace("score: 0.8", "score: 7"))
    blocked = repo.commit("upper-case extension")
    assert blocked.returncode == 1 and "CA105" in blocked.stderr, blocked.stderr


def test_no_verify_and_forged_hook_notes_are_flagged_by_ci(repo: Repo, tmp_path: Path) -> None:
    """`--no-verify` skips pre-commit but not post-commit: the record says so (CA604). And
    `git notes add` is open to anyone: a forged note, or a real record copied from another
    commit, is not a hook record (CA603)."""
    base = repo.head()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("through the hooks").returncode == 0
    hooked = repo.head()
    assert records(repo)[-1]["extra"]["pre_commit"] == "passed"
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, crew]"))
    assert repo.commit("bypass", extra=("--no-verify",)).returncode == 0
    bypass = repo.head()
    assert records(repo)[-1]["extra"]["pre_commit"] == "not-run"
    args = ("ci", "--base", base, "--log", str(tmp_path / "ci.jsonl"), "--format", "json")

    def by_commit(*more: str) -> tuple[int, dict[str, dict]]:
        out = repo.run(*args, *more)
        data = json.loads(out.stdout)
        return out.returncode, {c["commit"]: c for c in data["commits"]}

    code, commits = by_commit()
    assert code == 0  # a warning unless hook records are required
    assert [f["code"] for f in commits[hooked]["findings"]] == []
    assert [f["code"] for f in commits[bypass]["findings"]] == ["CA604"]
    assert by_commit("--require-hook-record")[0] == 1
    forged = json.dumps({"commit": bypass, "source": "post-commit", "signature": "AAAA"})
    repo.git("notes", "--ref=config-audit", "add", "-f", "-m", forged, bypass)
    code, commits = by_commit("--require-hook-record")
    assert code == 1 and commits[bypass]["hook_record"] is False
    [finding] = [f for f in commits[bypass]["findings"] if f["code"] == "CA603"]
    assert "signed by a trusted key" in finding["message"]
    repo.git("notes", "--ref=config-audit", "copy", "-f", hooked, bypass)  # a real record
    code, commits = by_commit("--require-hook-record")
    assert code == 1 and commits[bypass]["hook_record"] is False
    assert commits[hooked]["hook_record"] is True


def test_a_key_added_by_the_push_cannot_vouch_for_its_commits(repo: Repo, tmp_path: Path) -> None:
    """CI trusts the keys of the base commit: a push that adds its own key to the trusted keys
    and signs a 'pre-commit passed' record for a bypassed commit gains nothing."""
    from config_audit.ledger.keys import add_trusted_key, generate_key
    from config_audit.ledger.log import seal
    from config_audit.ledger.signing import load_signer

    base = repo.head()
    rogue = generate_key(tmp_path / "rogue.pem", owner="mallory")
    add_trusted_key(repo.path / ".config-audit" / "trusted-keys.yaml", rogue.trusted)
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, crew]"))
    assert repo.commit("bypass with my own key", extra=("--no-verify",)).returncode == 0
    bypass = repo.head()
    body = {**records(repo)[-1], "extra": {"pre_commit": "passed"}}
    for key in ("seq", "prev_hash", "key_id", "signature"):
        body.pop(key)
    record, _, _ = seal(body, load_signer(path=rogue.path, environ={}), seq=1, prev_hash="0" * 64)
    repo.git("notes", "--ref=config-audit", "add", "-f", "-m", json.dumps(record), bypass)
    out = repo.run("ci", "--base", base, "--log", str(tmp_path / "ci.jsonl"), "--format", "json")
    [commit] = [c for c in json.loads(out.stdout)["commits"] if c["commit"] == bypass]
    assert commit["hook_record"] is False
    assert "CA603" in [f["code"] for f in commit["findings"]]


def test_a_cherry_picked_backport_is_not_taken_for_no_verify(repo: Repo, tmp_path: Path) -> None:
    """git's sequencer (cherry-pick, revert) runs post-commit but never pre-commit."""
    base = repo.head()
    repo.git("checkout", "-q", "-b", "release")
    repo.write("README", "release notes\n")
    assert repo.commit("release only").returncode == 0
    repo.git("checkout", "-q", "main")
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("fix on main").returncode == 0
    fix = repo.head()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, crew]"))
    assert repo.commit("later on main").returncode == 0  # pre-commit has passed other blobs since
    repo.git("checkout", "-q", "release")
    assert repo.git("cherry-pick", fix, check=False).returncode == 0
    assert records(repo)[-1]["extra"]["pre_commit"] == "cherry-pick"
    out = repo.run(
        "ci", "--base", base, "--log", str(tmp_path / "ci.jsonl"), "--format", "json",
        "--require-hook-record",
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
