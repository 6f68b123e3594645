"""A new user's afternoon, end to end: Presidio's shipped files and a custom one under
config/presidio/, `init`, a commit from a shell (an IDE) without the venv on PATH, a push to a
bare origin, a fresh clone, `ci` with the notes fetched; records found without --log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import presidio_analyzer

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
TOOL = str(BIN / "config-audit")
CONF = Path(presidio_analyzer.__file__).parent / "conf"


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)


def test_a_new_team_adopts_it_in_an_afternoon(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8", "CONFIG_AUDIT_CRASH_DIR": str(tmp_path),
        "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@nw.example",
        "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@nw.example",
        "CONFIG_AUDIT_WARM_IDLE_S": "0",  # no warm validator outliving the test
    }  # fmt: skip
    ide = {**env, "PATH": "/usr/bin:/bin"}  # a git GUI: no venv, no config-audit on PATH
    repo = tmp_path / "pii-config"
    conf = repo / "config" / "presidio"
    conf.mkdir(parents=True)
    for name in ("default_analyzer.yaml", "default.yaml"):  # Presidio's own analyzer and NLP files
        (conf / name).write_text((CONF / name).read_text())
    (conf / "northwind.yaml").write_text((ROOT / "recognizers" / "custom.yaml").read_text())
    assert run(["git", "init", "-q", "-b", "main"], repo, env).returncode == 0

    init = run([TOOL, "init"], repo, env)
    assert init.returncode == 0, init.stderr
    settings = (repo / ".config-audit.yaml").read_text()
    # All three are Presidio's formats (NLP engine config included): the folder's glob.
    assert '"config/presidio/*.yaml"' in settings and str(home) not in settings

    assert run(["git", "add", "-A"], repo, ide).returncode == 0
    first = run(["git", "commit", "-q", "-m", "Presidio config under audit"], repo, ide)
    assert first.returncode == 0, first.stderr
    (conf / "northwind.yaml").write_text(
        (ROOT / "recognizers" / "custom.yaml").read_text().replace("score: 0.8", "score: 0")
    )
    assert run(["git", "add", "-A"], repo, ide).returncode == 0
    blocked = run(["git", "commit", "-q", "-m", "zero score"], repo, ide)
    assert blocked.returncode == 1 and "CA105" in blocked.stderr
    assert run(["git", "checkout", "--", "."], repo, ide).returncode == 0
    assert run(["git", "reset", "-q"], repo, ide).returncode == 0

    origin = tmp_path / "origin.git"
    assert run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path, env).returncode == 0
    assert run(["git", "remote", "add", "origin", str(origin)], repo, env).returncode == 0
    pushed = run(["git", "push", "-q", "origin", "main"], repo, ide)
    assert pushed.returncode == 0 and "pushed refs/notes/config-audit" in pushed.stderr, pushed.stderr

    clone = tmp_path / "ci-runner"
    assert run(["git", "clone", "-q", str(origin), str(clone)], tmp_path, env).returncode == 0
    fetch = ["git", "fetch", "-q", "origin", "refs/notes/config-audit*:refs/notes/config-audit*"]
    assert run(fetch, clone, env).returncode == 0
    ci_key = tmp_path / "ci.pem"
    assert run([TOOL, "keygen", "--out", str(ci_key)], clone, env).returncode == 0
    ci_env = {**env, "CONFIG_AUDIT_SIGNING_KEY": ci_key.read_text()}
    ci = run([TOOL, "ci", "--base", "0" * 40, "--require-hook-record", "--format", "json",
              "--log", str(tmp_path / "ci.jsonl")], clone, ci_env)  # fmt: skip
    assert ci.returncode == 0, ci.stdout + ci.stderr
    data = json.loads(ci.stdout)
    assert data["commits"] and all(c["hook_record"] for c in data["commits"])
    assert "CA603" not in ci.stdout and "CA604" not in ci.stdout

    for args in (["log"], ["show", "1"], ["verify"], ["checkpoint"], ["export"], ["report"]):
        done = run([TOOL, *args], repo, env)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    listed = run([TOOL, "log"], repo, env).stdout
    assert "INVALID file" in listed  # the blocked attempt shows its real verdict
    where = run([TOOL, "where"], repo, env).stdout
    assert str(repo / ".git" / "config-audit" / "log.jsonl") in where
