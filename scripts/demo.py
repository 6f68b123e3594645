"""`make demo`: the whole story in a temporary repository, using the bundled Northwind sample.

init -> two authors commit (one SSH-signed) -> an invalid edit is blocked -> a weakening edit by
a non-owner is blocked -> a valid one passes -> CI audits the range -> the log verifies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOOL = str(BIN / "config-audit")


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def sh(args: list[str], cwd: Path, env: dict[str, str], *, expect: int | None = 0,
       quiet: bool = False) -> subprocess.CompletedProcess[str]:
    print("$ " + " ".join(a if " " not in a else repr(a) for a in args), flush=True)
    done = subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True)
    if not quiet:
        for stream in (done.stdout, done.stderr):
            if stream.strip():
                print("  " + stream.strip("\n").replace("\n", "\n  "))
    if expect is not None and done.returncode != expect:
        sys.exit(f"demo: expected exit {expect}, got {done.returncode}")
    return done


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="config-audit-demo-"))
    repo = tmp / "northwind"
    repo.mkdir()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(tmp),
           "GIT_CONFIG_NOSYSTEM": "1"}

    def as_(who: str) -> dict[str, str]:
        return {**env, "GIT_AUTHOR_NAME": who.title(), "GIT_AUTHOR_EMAIL": f"{who}@northwind.example",
                "GIT_COMMITTER_NAME": who.title(), "GIT_COMMITTER_EMAIL": f"{who}@northwind.example"}

    step("1. A repository with the Northwind recognizers, a signing key, a policy and the hooks")
    sh(["git", "init", "-q", "-b", "main"], repo, env)
    shutil.copytree(ROOT / "recognizers", repo / "recognizers")
    (repo / ".config-audit").mkdir()
    sh([TOOL, "keygen", "--out", str(tmp / "auditor.pem"), "--owner", "auditor",
        "--trust", ".config-audit/trusted-keys.yaml"], repo, env, quiet=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice",
                    "-f", str(tmp / "alice")], check=True)
    pub = (tmp / "alice.pub").read_text()
    (repo / ".config-audit" / "allowed_signers").write_text(f"alice@northwind.example {pub}")
    (repo / ".config-audit.yaml").write_text(f"""\
signing_key: {tmp / 'auditor.pem'}
trusted_keys: .config-audit/trusted-keys.yaml
allowed_signers: .config-audit/allowed_signers
policy:
  people:
    alice: [alice@northwind.example]
    bob: [bob@northwind.example]
  teams:
    privacy: [alice]
  owners:
    "NW_*": [privacy]
  protected_entities: ["NW_*"]
  weakening_protected: owner-signed
  min_score: 0.3
""")
    sh([TOOL, "install-hooks"], repo, env)
    sh(["git", "add", "-A"], repo, env)
    sh(["git", "commit", "-q", "-m", "Northwind recognizers"], repo, as_("alice"))
    base = sh(["git", "rev-parse", "HEAD"], repo, env, quiet=True).stdout.strip()

    custom = repo / "recognizers" / "custom.yaml"
    registry = repo / "recognizers" / "registry.yaml"
    original = registry.read_text()

    step("2. Bob adds a title to the deny list (strengthens: allowed)")
    custom.write_text(custom.read_text().replace("- Prof.", "- Prof.\n      - Rev.", 1))
    sh(["git", "commit", "-qam", "Add Rev. to the title deny list"], repo, as_("bob"))

    step("3. Bob writes \"\\b\" in double quotes: YAML makes it a backspace (blocked)")
    registry.write_text(original.replace("'\\bNW-EMP-", '"\\bNW-EMP-', 1).replace(
        "\\d{6}\\b'", "[0-9]{6}\\b\"", 1))
    sh(["git", "commit", "-qam", "Tweak employee id"], repo, as_("bob"), expect=1)
    sh(["git", "checkout", "--", "."], repo, env)

    step("4. Bob lowers the employee-id score: weakens a protected entity (blocked)")
    registry.write_text(original.replace("score: 0.9", "score: 0.6", 1))
    sh(["git", "commit", "-qam", "Fewer false positives"], repo, as_("bob"), expect=1)

    step("5. Alice, an owner, makes the same change with an SSH-signed commit (passes)")
    sh(["git", "config", "gpg.format", "ssh"], repo, env)
    sh(["git", "config", "user.signingkey", str(tmp / "alice")], repo, env)
    sh(["git", "config", "commit.gpgsign", "true"], repo, env)
    sh(["git", "commit", "-qam", "Lower employee-id score (reviewed)"], repo, as_("alice"))

    step("6. CI audits the pushed range")
    ci_log = tmp / "ci-log.jsonl"
    sh([TOOL, "ci", "--base", base, "--log", str(ci_log), "--sarif", str(tmp / "audit.sarif")],
       repo, env)

    step("7. The logs verify; the hook log shows every record")
    sh([TOOL, "verify", "--log", str(repo / ".git" / "config-audit" / "log.jsonl")], repo, env)
    sh([TOOL, "verify", "--log", str(ci_log)], repo, env)
    sh([TOOL, "log", "--log", str(repo / ".git" / "config-audit" / "log.jsonl")], repo, env,
       expect=None)

    step("8. Someone quietly edits a record (bob's blocked attempt becomes a pass): verify says where")
    tampered = tmp / "tampered-log.jsonl"
    lines = (repo / ".git" / "config-audit" / "log.jsonl").read_text().splitlines(keepends=True)
    blocked = next(i for i, line in enumerate(lines) if '"verdict":"violation"' in line)
    lines[blocked] = lines[blocked].replace('"verdict":"violation"', '"verdict":"pass"')
    tampered.write_text("".join(lines))
    sh([TOOL, "verify", "--log", str(tampered)], repo, env, expect=1)

    step("9. The hooks' warm processes (Presidio kept loaded, the tool kept imported) stop")
    sh([TOOL, "server", "status"], repo, env, expect=None)
    sh([TOOL, "server", "stop"], repo, env)
    print(f"\ndemo: done. Everything is in {tmp}")


if __name__ == "__main__":
    main()
