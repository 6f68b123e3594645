"""Real repositories, real hooks fired by `git commit`, real Presidio validation, real signatures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config_audit.git.hooks import HOOK_NAMES, shim
from tests.chromium import screenshot
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


def test_hooks_run_without_the_venv_on_path(repo: Repo) -> None:
    """A commit from an IDE or a git GUI (no venv on PATH): the shim runs the interpreter that
    installed it, so the commit is still judged, recorded and noted."""
    env_no_tool = {**repo.env, "PATH": "/usr/bin:/bin"}
    assert shutil.which("config-audit", path=env_no_tool["PATH"]) is None
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    repo.git("add", "-A")
    bad = subprocess.run(
        ["git", "commit", "-q", "-m", "bad"],
        cwd=repo.path,
        env=env_no_tool,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "CA105" in bad.stderr, bad.stderr
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    repo.git("add", "-A")
    ok = subprocess.run(
        ["git", "commit", "-q", "-m", "more context"],
        cwd=repo.path,
        env=env_no_tool,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert repo.head() in {r["commit"] for r in records(repo)}
    assert repo.git("notes", "--ref=config-audit", "show", "HEAD", check=False).returncode == 0


def test_missing_tool_blocks_recognizer_commits_with_advice(repo: Repo) -> None:
    """The installing venv moved away and no config-audit on PATH: the commit is blocked and
    the message says exactly what to run."""
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    text = hook.read_text()
    assert f"INSTALL_PYTHON={sys.executable}" in text.splitlines()
    hook.write_text(text.replace(sys.executable, "/gone/venv/bin/python"))
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
    assert "config-audit: command not found" in done.stderr
    assert "/gone/venv/bin/python (the interpreter that installed this hook) is gone" in done.stderr
    assert "-m config_audit install-hooks" in done.stderr and "rm " in done.stderr
    assert "git commit --no-verify" in done.stderr
    # Run once from an environment that has config-audit: the shims name that interpreter.
    healed = subprocess.run(
        ["git", "commit", "-q", "-m", "x"], cwd=repo.path, env=repo.env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert healed.returncode == 0, healed.stderr
    assert f"INSTALL_PYTHON={sys.executable}" in hook.read_text().splitlines()


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


def test_pre_commit_framework_runs_our_hooks_records_notes_and_pushes(tmp_path: Path) -> None:
    """Through the real pre-commit framework, with our .pre-commit-hooks.yaml as it is in this
    work tree and all four stages installed: pre-commit blocks, post-commit writes a record and
    a note, pre-push sends the notes to the remote."""
    if shutil.which("pre-commit", path=str(Path(__file__).parents[1] / ".venv" / "bin")) is None:
        pytest.skip("pre-commit framework not installed")
    hooks_repo = tmp_path / "hooks-repo"  # a repository holding only our manifest (offline)
    hooks_repo.mkdir()
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks_repo / ".pre-commit-hooks.yaml")
    repo = make_repo(tmp_path, hooks=False)
    ident = ["-c", "user.name=Alice", "-c", "user.email=alice@nw.example"]
    for args in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-q", "-m", "manifest"]):
        subprocess.run(["git", *args], cwd=hooks_repo, env=repo.env, check=True)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hooks_repo, text=True, capture_output=True
    ).stdout.strip()
    repo.write(
        ".pre-commit-config.yaml",
        f"""\
default_install_hook_types: [pre-commit, post-commit, post-rewrite, pre-push]
repos:
  - repo: {hooks_repo}
    rev: {rev}
    hooks:
      - id: config-audit-system
      - id: config-audit-post-commit-system
      - id: config-audit-post-rewrite-system
      - id: config-audit-pre-push-system
""",
    )
    repo.git("add", "-A")
    env = {**repo.env, "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    pc = str(ROOT / ".venv" / "bin" / "pre-commit")
    installed = subprocess.run(
        [pc, "install"], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    for stage in ("pre-commit", "post-commit", "post-rewrite", "pre-push"):
        assert (repo.path / ".git" / "hooks" / stage).exists(), stage

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=repo.path, env=env, capture_output=True, text=True
        )

    ok = git("commit", "-q", "-m", "ok")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    head = repo.head()
    assert head in {r["commit"] for r in records(repo) if r["source"] == "post-commit"}
    note = git("notes", "--ref=config-audit", "show", head)
    assert note.returncode == 0 and json.loads(note.stdout.splitlines()[0])["commit"] == head
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    repo.git("add", "-A")
    bad = git("commit", "-q", "-m", "bad")
    assert bad.returncode != 0 and "CA105" in bad.stdout + bad.stderr
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    repo.git("add", "-A")
    assert git("commit", "-q", "-m", "context").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, hr]"))
    repo.git("add", "-A")
    amended = git("commit", "-q", "--amend", "-m", "hr context")
    assert amended.returncode == 0, amended.stdout + amended.stderr
    assert repo.head() in {r["commit"] for r in records(repo)}
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    pushed = git("push", "-q", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "refs/notes/config-audit\n" in repo.git("ls-remote", "origin").stdout


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
    from config_audit.ledger.keys import add_trusted_key, generate_key, load_signer
    from config_audit.ledger.log import seal

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


def test_pre_push_sends_the_notes_and_says_when_the_remote_refuses(
    repo: Repo, tmp_path: Path
) -> None:
    """git push sends no refs/notes/*: the pre-push hook pushes ours with the branch, so a
    fresh clone (and CI) finds the hook records; a refusing remote is named, the push goes on."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    pushed = repo.git("push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed refs/notes/config-audit" in pushed.stderr
    remote_refs = repo.git("ls-remote", "origin").stdout
    assert "refs/notes/config-audit\n" in remote_refs
    assert "refs/notes/config-audit-checkpoints" in remote_refs
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=repo.env)
    subprocess.run(
        ["git", "fetch", "-q", "origin", "refs/notes/config-audit*:refs/notes/config-audit*"],
        cwd=clone,
        check=True,
        env=repo.env,
    )
    base = repo.git("rev-list", "--max-parents=0", "HEAD").stdout.strip()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    repo.git("push", "-q", "origin", "main")
    subprocess.run(["git", "pull", "-q", "origin", "main"], cwd=clone, check=True, env=repo.env)
    subprocess.run(
        ["git", "fetch", "-q", "origin", "refs/notes/config-audit*:refs/notes/config-audit*"],
        cwd=clone,
        check=True,
        env=repo.env,
    )
    ci = subprocess.run(
        [f"{Path(sys.executable).parent}/config-audit", "ci", "--base", base,
         "--require-hook-record", "--log", str(tmp_path / "ci.jsonl"), "--format", "json"],
        cwd=clone, env=repo.env, capture_output=True, text=True,
    )  # fmt: skip
    assert ci.returncode == 0, ci.stdout + ci.stderr
    data = json.loads(ci.stdout)
    assert data["hook_notes_present"] and all(c["hook_record"] for c in data["commits"])
    # A remote that refuses notes: the branch still goes, the warning says what to do.
    refuse = origin / "hooks" / "update"
    refuse.write_text(
        '#!/bin/sh\ncase "$1" in refs/notes/*) echo "notes not allowed here" >&2; exit 1;; esac\n'
    )
    refuse.chmod(0o755)
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, hr]"))
    assert repo.commit("hr context").returncode == 0
    refused = repo.git("push", "-q", "origin", "main", check=False)
    assert refused.returncode == 0, refused.stderr
    assert "origin refused the audit notes" in refused.stderr
    assert "notes not allowed here" in refused.stderr and "CA603" in refused.stderr
    assert repo.git("ls-remote", "origin", "main").stdout.split()[0] == repo.head()


def test_ci_says_once_when_the_notes_were_not_fetched(repo: Repo, tmp_path: Path) -> None:
    """A clone without refs/notes/config-audit: one clear note, not a bypass per commit; with
    --require-hook-record the job fails (closed)."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    base = repo.head()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    repo.git("push", "-q", "origin", "main")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=repo.env)
    cmd = [f"{Path(sys.executable).parent}/config-audit", "ci", "--base", base, "--log",
           str(tmp_path / "ci.jsonl"), "--format", "json"]  # fmt: skip
    lax = subprocess.run(cmd, cwd=clone, env=repo.env, capture_output=True, text=True)
    assert lax.returncode == 0, lax.stdout + lax.stderr
    data = json.loads(lax.stdout)
    assert not data["hook_notes_present"]
    assert "CA603" not in {f["code"] for c in data["commits"] for f in c["findings"]}
    assert "refs/notes/config-audit is absent" in lax.stderr and "git fetch origin" in lax.stderr
    strict = subprocess.run(
        [*cmd, "--require-hook-record"], cwd=clone, env=repo.env, capture_output=True, text=True
    )
    assert strict.returncode == 1 and json.loads(strict.stdout)["failed"]


def test_every_reading_command_finds_the_records_and_merges_several_logs(
    repo: Repo, tmp_path: Path
) -> None:
    """No --log: the hooks' log of this repository, for every reading command. Several --log
    values are read together (each chain verified on its own), never one silently dropped."""
    base = repo.git("rev-list", "--max-parents=0", "HEAD").stdout.strip()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    for args in (["log"], ["show", "1"], ["verify"], ["checkpoint"], ["export"], ["report"]):
        done = repo.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    where = repo.run("where")
    assert where.returncode == 0 and str(repo.log) in where.stdout
    assert "watcher" in where.stdout and "refs/notes/config-audit" in where.stdout
    ci_log = tmp_path / "ci.jsonl"
    assert repo.run("ci", "--base", base, "--log", str(ci_log)).returncode == 0
    hooks_n = len(repo.run("log", "--log", str(repo.log)).stdout.splitlines())
    ci_n = len(repo.run("log", "--log", str(ci_log)).stdout.splitlines())
    both = repo.run("log", "--log", str(repo.log), "--log", str(ci_log))
    assert len(both.stdout.splitlines()) == hooks_n + ci_n and ci_n > 0
    assert f"[{ci_log}]" in both.stdout and f"[{repo.log}]" in both.stdout  # each one's origin
    merged = repo.run("log", "--log", str(repo.log), "--log", str(ci_log), "--format", "json")
    origins = {(r["source"], r["_log"]) for r in map(json.loads, merged.stdout.splitlines())}
    assert ("ci", str(ci_log)) in origins and ("post-commit", str(repo.log)) in origins
    exported = repo.run("export", "--log", str(repo.log), "--log", str(ci_log))
    assert len(exported.stdout.splitlines()) == hooks_n + ci_n
    verified = repo.run("verify", "--log", str(repo.log), "--log", str(ci_log))
    assert verified.returncode == 0 and verified.stdout.count("OK ") == 2, verified.stdout
    report = repo.run("report", "--log", str(repo.log), "--log", str(ci_log))
    assert report.returncode == 0 and str(ci_log) in report.stdout and str(repo.log) in report.stdout
    two = repo.run("checkpoint", "--log", str(repo.log), "--log", str(ci_log))
    assert two.returncode == 2 and "one record log, 2 given" in two.stderr
    # --from picks writers by name: CI's default log here, with the hooks' log.
    assert repo.run("ci", "--base", base).returncode == 0  # writes config-audit-ci.jsonl
    every = repo.run("verify", "--from", "all")
    assert every.returncode == 0 and every.stdout.count("OK ") == 2, every.stdout + every.stderr
    listed = repo.run("log", "--from", "hooks", "--from", "ci").stdout
    assert "config-audit-ci.jsonl]" in listed and f"[{repo.log}]" in listed
    none = repo.run("log", "--from", "watcher")
    assert none.returncode == 2 and "no watcher record log" in none.stderr


def test_report_of_a_real_hook_log_sorts_bypassed_blocked_and_verified(
    repo: Repo, tmp_path: Path
) -> None:
    """A verified SSH-signed commit is not "unverified"; a blocked attempt is a blocked attempt;
    an invalid file committed with --no-verify is a bypassed hook, not a blocked attempt."""
    from tests.test_ci import sign_with_ssh, ssh_key

    sign_with_ssh(repo, ssh_key(tmp_path, "alice"), "alice@nw.example")
    assert repo.commit("alice's signing key", ".config-audit/allowed_signers").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("signed context", extra=("-S",)).returncode == 0
    signed = repo.head()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    blocked = repo.commit("invalid score")
    assert blocked.returncode == 1 and "CA105" in blocked.stderr
    assert "commit blocked" in blocked.stderr
    bypass = repo.commit("invalid anyway", extra=("--no-verify",))
    assert bypass.returncode == 0
    # post-commit: the commit landed, so nothing is "BLOCKED"; it says what was recorded.
    assert "BLOCKED" not in bypass.stderr
    assert "recorded: would have been blocked" in bypass.stderr, bypass.stderr
    bypassed = repo.head()
    out = repo.run("report", "--since", "2000-01-01", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    unverified = " ".join(r["detail"] for r in data["unverified"])
    assert signed[:12] not in unverified and bypassed[:12] in unverified
    assert [r["source"] for r in data["blocked"]] == ["pre-commit"]
    assert "CA105" in data["blocked"][0]["detail"]
    assert len(data["bypassed"]) == 1 and bypassed[:12] in data["bypassed"][0]["detail"]
    assert data["bypassed"][0]["committed"].startswith("2026-01-01T00:00:00")  # author time
    assert "CA105" in data["bypassed"][0]["detail"]
    md = repo.run("report", "--since", "2000-01-01").stdout
    assert "## Hooks bypassed (1)" in md and "## Blocked attempts (1)" in md


def test_post_commit_names_gits_reason_when_a_signature_cannot_be_checked(
    repo: Repo, tmp_path: Path
) -> None:
    """A signed commit whose signer git cannot check (no principal in allowed_signers) is
    recorded as claimed; post-commit says git's own reason."""
    from tests.test_ci import ssh_key

    key = ssh_key(tmp_path, "carol")
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    done = repo.commit("signed by a key nobody listed", extra=("-S",))
    assert done.returncode == 0, done.stderr
    assert "git could not verify the signature" in done.stderr, done.stderr
    assert "No principal matched" in done.stderr
    [record] = [r for r in records(repo) if r["commit"] == repo.head()]
    assert record["author"]["assurance"] != "verified-signature"


def test_one_report_over_the_hook_ci_and_watcher_logs_renders(repo: Repo, tmp_path: Path) -> None:
    """The review report read from all three writers (`--from all`): records of real hooks, a
    real CI run and a real watcher daemon, each chain verified on its own; the HTML renders
    in headless Chromium (issue 13)."""
    import signal
    import time

    from tests.gitfixtures import BIN

    base = repo.head()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    ci_log = tmp_path / "ci.jsonl"
    assert repo.run("ci", "--base", base, "--log", str(ci_log)).returncode == 0
    watcher = subprocess.Popen(
        [f"{BIN}/config-audit", "-v", "watch", "--no-presidio"],
        cwd=repo.path, env=repo.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        where = repo.run("where").stdout
        watch_log = Path(
            next(w.split()[1] for w in where.splitlines() if w.startswith("  watcher "))
        )
        while not watch_log.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.6"))
        def edits() -> list[dict[str, object]]:
            lines = [json.loads(x) for x in watch_log.read_text().splitlines() if x.strip()]
            return [r for r in lines if (r.get("extra") or {}).get("detected_by") == "event"]

        while not edits():
            assert time.monotonic() < deadline, "the watcher did not record the edit"
            time.sleep(0.1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    html = tmp_path / "report.html"
    out = repo.run("report", "--since", "2000-01-01", "--from", "all", "--log", str(ci_log),
                   "--format", "html", "--out", str(html))  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    text = html.read_text()
    assert "Out-of-band edits (1)" in text and "ci" in text and "post-commit" in text
    screenshot(html, tmp_path)


def test_adopting_commit_with_its_trust_files_is_not_a_weakening(tmp_path: Path) -> None:
    """The first commit brings the settings, the trusted keys and the allowed signers: nothing
    was protected before it, so it passes even under owner-signed; the next commit that adds
    a key to the trust files is judged by it (the demo's first commit was blocked)."""
    repo = make_repo(tmp_path, mode="owner-signed")
    first = repo.commit("adopt config-audit")
    assert first.returncode == 0, first.stderr
    trusted = repo.path / ".config-audit" / "trusted-keys.yaml"
    repo.write(".config-audit/trusted-keys.yaml", trusted.read_text() + "# another key\n")
    later = repo.commit("trust one more key")
    assert later.returncode == 1 and "CA501" in later.stderr, later.stderr
