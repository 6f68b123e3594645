"""The CI recipes as files (action.yml, the GitLab template): their steps' commands, run as
the runner would run them, in a fresh clone of a real bare "origin" the hooks pushed to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo

ROOT = Path(__file__).parents[1]
BIN = str(Path(sys.executable).parent)


def pushed_history(tmp_path: Path) -> tuple[Repo, Path, str]:
    """A repository with the hooks, pushed (branch and notes, by the pre-push hook) to a bare
    origin; returns it, the origin and the first commit."""
    repo = make_repo(tmp_path)
    assert repo.commit("initial recognizers").returncode == 0
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    base = repo.head()
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, staff]"))
    assert repo.commit("more context").returncode == 0
    pushed = repo.git("push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr
    return repo, origin, base


def fresh_clone(repo: Repo, origin: Path, name: str) -> Path:
    clone = origin.parent / name
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=repo.env)
    return clone


def run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # What GitHub runs for `shell: bash` (and close to GitLab's errexit shell).
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True,
    )  # fmt: skip


def github_steps(clone: Path, env: dict[str, str], inputs: dict[str, str]) -> tuple[int, str]:
    """Run action.yml's `run` steps in order; `uses` steps are GitHub's (upload) and skipped.
    Each step's env is given the values its expressions would have."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    output = clone.parent / f"{clone.name}-github-output"
    output.write_text("")
    values = {
        "CA_INSTALL": str(ROOT),
        "CA_BASE": inputs["base"],
        "CA_HEAD": inputs["head"],
        "CA_CONFIG": "",
        "CA_LOG": "config-audit-ci.jsonl",
        "CA_REQUIRE_HOOK_RECORD": inputs.get("require-hook-record", "false"),
    }
    stderr = ""
    for step in action["runs"]["steps"]:
        if "run" not in step:
            continue
        step_env = {**env, "GITHUB_OUTPUT": str(output)}
        for key in step.get("env", {}):
            if key == "CA_EXIT":
                outputs = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )
                step_env[key] = outputs.get("exit-code", "")
            else:
                step_env[key] = values[key]
        done = run_step(step["run"], clone, step_env)
        stderr += done.stdout + done.stderr
        if done.returncode != 0:
            return done.returncode, stderr
    return 0, stderr


def test_github_action_steps_audit_a_push_with_the_notes_fetched(tmp_path: Path) -> None:
    repo, origin, base = pushed_history(tmp_path)
    clone = fresh_clone(repo, origin, "runner")
    summary = tmp_path / "step-summary.md"
    env = {**repo.env, "PATH": f"{BIN}:/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary)}
    inputs = {"base": base, "head": repo.head(), "require-hook-record": "true"}
    code, out = github_steps(clone, env, inputs)
    assert code == 0, out
    sarif = json.loads((clone / "config-audit.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert not [r for r in sarif["runs"][0]["results"] if r["ruleId"] in ("CA603", "CA604")]
    assert (clone / "config-audit-ci.jsonl").read_text().strip()  # the log artifact
    assert "Presidio recognizer audit" in summary.read_text()
    assert "absent" not in out  # the notes were fetched: the hook records were checked
    # A commit whose pre-commit check was skipped fails the job (require-hook-record).
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[employee, hr]"))
    assert repo.commit("skip the check", extra=("--no-verify",)).returncode == 0
    repo.git("push", "-q", "origin", "main")
    again = fresh_clone(repo, origin, "runner2")
    inputs = {"base": inputs["head"], "head": repo.head(), "require-hook-record": "true"}
    code, out = github_steps(again, env, inputs)
    assert code == 1, out
    assert "CA604" in (again / "config-audit-summary.md").read_text()


def test_github_action_steps_on_a_pull_request_from_a_fork_audit_only(tmp_path: Path) -> None:
    """A pull request: the base is the PR's base commit; no secrets: audit only, no records."""
    repo, origin, _ = pushed_history(tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    assert repo.commit("invalid score", extra=("--no-verify",)).returncode == 0
    repo.git("push", "-q", "origin", "feature")
    clone = fresh_clone(repo, origin, "runner")
    subprocess.run(["git", "checkout", "-q", "feature"], cwd=clone, check=True)
    cfg = clone / ".config-audit.yaml"  # the fork's runner has no key at all
    cfg.write_text(cfg.read_text().replace("signing_key:", "# signing_key:"))
    env = {**repo.env, "PATH": f"{BIN}:/usr/bin:/bin"}
    env.pop("CONFIG_AUDIT_SIGNING_KEY", None)
    main = repo.git("rev-parse", "main").stdout.strip()
    code, out = github_steps(clone, env, {"base": main, "head": repo.head()})
    assert code == 1, out  # judged as usual: the invalid file fails the pull request
    assert "audit only" in out and not (clone / "config-audit-ci.jsonl").exists()
    assert "CA105" in (clone / "config-audit-summary.md").read_text()


def test_gitlab_template_script_audits_a_push(tmp_path: Path) -> None:
    repo, origin, base = pushed_history(tmp_path)
    clone = fresh_clone(repo, origin, "runner")
    template = yaml.safe_load((ROOT / "contrib" / "gitlab" / "config-audit.gitlab-ci.yml").read_text())
    job = template["config-audit"]
    env = {
        **repo.env,
        **{k: str(v) for k, v in template["variables"].items()},
        "PATH": f"{BIN}:/usr/bin:/bin",
        "CI_COMMIT_BEFORE_SHA": base,
        "CI_COMMIT_SHA": repo.head(),
        "CONFIG_AUDIT_ARGS": "--require-hook-record",
    }
    script = "\n".join(job["before_script"] + job["script"])
    done = run_step(script, clone, env)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in job["artifacts"]["paths"]:
        assert list(clone.glob(path)), path
    assert "CA603" not in done.stdout and "absent" not in done.stderr
    assert os.path.getsize(clone / "config-audit-ci.jsonl") > 0
