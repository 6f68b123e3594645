"""Real git repositories in temporary directories, with pinned identities and dates."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from config_audit.ledger.keys import generate_key

BIN = str(Path(sys.executable).parent)

CONFIG = """\
signing_key: {key}
trusted_keys: .config-audit/trusted-keys.yaml
allowed_signers: .config-audit/allowed_signers
policy:
  people:
    alice: [alice@nw.example]
    bob: [bob@nw.example]
  teams:
    privacy: [alice]
  owners:
    "NW_*": [privacy]
  protected_entities: ["NW_*"]
  weakening_protected: {mode}
  min_score: 0.3
"""

RECOGNIZERS = """\
recognizers:
  - name: Employee ID
    supported_entity: NW_EMPLOYEE_ID
    patterns:
      - {name: emp, regex: '\\bNW-EMP-\\d{6}\\b', score: 0.8}
    context: [employee]
  - name: Titles
    supported_entity: TITLE
    deny_list: [Dr., Prof.]
"""


@dataclass
class Repo:
    path: Path
    env: dict[str, str]

    def git(
        self, *args: str, check: bool = True, input: str | None = None, author: str = "alice"
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **self.env,
            "GIT_AUTHOR_NAME": author.title(),
            "GIT_AUTHOR_EMAIL": f"{author}@nw.example",
            "GIT_COMMITTER_NAME": author.title(),
            "GIT_COMMITTER_EMAIL": f"{author}@nw.example",
        }
        return subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=env,
            text=True,
            input=input,
            capture_output=True,
            check=check,
        )

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(
        self, message: str, *paths: str, author: str = "alice", extra: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        self.git("add", *(paths or ("-A",)))
        return self.git("commit", "-q", "-m", message, *extra, check=False, author=author)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def run(
        self, *args: str, check: bool = False, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [f"{BIN}/config-audit", *args],
            cwd=self.path,
            env=self.env,
            text=True,
            capture_output=True,
            check=check,
            input=input,
        )

    @property
    def log(self) -> Path:
        return self.path / ".git" / "config-audit" / "log.jsonl"


def make_repo(tmp: Path, *, mode: str = "owner", hooks: bool = True) -> Repo:
    path = tmp / "repo"
    path.mkdir()
    home = tmp / "home"
    home.mkdir()
    env = {
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        "CONFIG_AUDIT_CRASH_DIR": str(tmp),
        "LANG": "C.UTF-8",
        # No warm validator outliving the test (tests/test_warm.py turns it on where it is tested).
        "CONFIG_AUDIT_WARM_IDLE_S": "0",
    }
    repo = Repo(path, env)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.name", "Alice")
    repo.git("config", "user.email", "alice@nw.example")
    key = tmp / "signing.pem"
    generated = generate_key(key, owner="auditor")
    trusted = path / ".config-audit" / "trusted-keys.yaml"
    from config_audit.ledger.keys import add_trusted_key

    add_trusted_key(trusted, generated.trusted)
    repo.write(".config-audit/allowed_signers", "")
    repo.write(".config-audit.yaml", CONFIG.format(key=key, mode=mode))
    repo.write("recognizers/custom.yaml", RECOGNIZERS)
    if hooks:
        repo.run("install-hooks", check=True)
    return repo
