"""The command line contract: every command teaches with --help, exit codes, JSON, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from config_audit.cli import COMMANDS, cli

ROOT = Path(__file__).parents[1]
TOOL = str(Path(sys.executable).parent / "config-audit")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_top_level_help_lists_every_command_without_importing_them() -> None:
    code = ("import sys; from config_audit.cli import main; sys.argv=['config-audit','--help'];\n"
            "try: main()\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('presidio_analyzer', 'cryptography', 'watchdog', 'yaml') "
            "if m in sys.modules]; print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    for name in COMMANDS:
        assert name in out.stdout
    assert "HEAVY []" in out.stdout


def test_every_finding_code_is_documented() -> None:
    source = "".join(p.read_text() for p in (ROOT / "config_audit").rglob("*.py"))
    codes = set(re.findall(r'"(CA\d{3})"', source))
    documented = set(re.findall(r"\| (CA\d{3}) \|", (ROOT / "docs" / "findings.md").read_text()))
    assert codes <= documented, sorted(codes - documented)


def test_validate_exit_codes_and_json(tmp_path: Path) -> None:
    good = ROOT / "recognizers" / "custom.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("recognizers:\n  - name: X\n    supported_entity: X\n    patterns: [{name: p, regex: 'a', score: 0}]\n")
    ok = subprocess.run([TOOL, "validate", "--no-presidio", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    fail = subprocess.run([TOOL, "validate", "--no-presidio", "--format", "json", str(bad)],
                          capture_output=True, text=True)
    assert fail.returncode == 1
    data = json.loads(fail.stdout)
    assert data["files"][0]["findings"][0]["code"] == "CA105"
    missing = subprocess.run([TOOL, "validate", "--no-presidio", str(tmp_path / "nope.yaml")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "CA100" in missing.stdout
    assert "no such file or directory" in missing.stderr
    usage = subprocess.run([TOOL, "validate", "--format", "xml"], capture_output=True, text=True)
    assert usage.returncode == 2


def test_diff_paths_and_rev_path(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@x", "CONFIG_AUDIT_WARM_IDLE_S": "0", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    src = (ROOT / "recognizers" / "custom.yaml").read_text()
    (repo / "custom.yaml").write_text(src)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    (repo / "custom.yaml").write_text(src.replace("score: 0.85", "score: 0.5"))
    out = subprocess.run([TOOL, "diff", "HEAD:custom.yaml", "custom.yaml", "--format", "json"],
                         cwd=repo, capture_output=True, text=True)
    assert out.returncode == 1, out.stderr  # a weakening change
    data = json.loads(out.stdout)
    assert [c["kind"] for c in data["changes"]] == ["pattern.score_lowered"]
    same = subprocess.run([TOOL, "diff", "HEAD:custom.yaml", "HEAD:custom.yaml"], cwd=repo,
                          capture_output=True, text=True)
    assert same.returncode == 0 and "no semantic change" in same.stdout
    unknown = subprocess.run([TOOL, "diff", "nope:custom.yaml", "custom.yaml"], cwd=repo,
                             capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown revision" in unknown.stderr


def test_bad_configuration_is_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("recognizers: 12\n")
    out = subprocess.run([TOOL, "validate", "--no-presidio", "--config", str(cfg)],
                         capture_output=True, text=True, env={"CONFIG_AUDIT_CRASH_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert "Traceback" not in out.stderr
    assert out.returncode == 2 and "'recognizers' must be a list" in out.stderr


@click.command()
def boom() -> None:
    """A command that fails in an unexpected way."""
    raise RuntimeError("unexpected state")


def test_internal_error_is_exit_3_with_a_crash_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from config_audit import cli as cli_module

    monkeypatch.setitem(cli_module.COMMANDS, "boom", ("tests.test_cli", "boom", "fails"))
    monkeypatch.setenv("CONFIG_AUDIT_CRASH_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        cli_module.main(["boom"])
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: unexpected state" in err and "Traceback" not in err
    logs = list(tmp_path.glob("config-audit-crash-*.log"))
    assert logs and "Traceback" in logs[0].read_text()


def test_init_sets_up_a_repository_and_is_idempotent(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@x", "CONFIG_AUDIT_WARM_IDLE_S": "0"}
    subprocess.run(["git", "init", "-q"], cwd=repo, env=env, check=True)
    first = subprocess.run([TOOL, "init"], cwd=repo, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    key = tmp_path / ".config" / "config-audit" / "signing-key.pem"
    assert key.stat().st_mode & 0o077 == 0
    assert (repo / ".config-audit.yaml").exists() and (repo / ".git" / "hooks" / "pre-commit").exists()
    again = subprocess.run([TOOL, "init"], cwd=repo, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "kept" in again.stdout
    trusted = (repo / ".config-audit" / "trusted-keys.yaml").read_text()
    assert trusted.count("key_id") == 1
    (repo / "recognizers").mkdir()
    (repo / "recognizers" / "custom.yaml").write_text((ROOT / "recognizers" / "custom.yaml").read_text())
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    done = subprocess.run(["git", "commit", "-qm", "first"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    log = repo / ".git" / "config-audit" / "log.jsonl"
    verified = subprocess.run([TOOL, "verify", "--log", str(log)], cwd=repo, env=env, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_progress_in_a_ci_log_is_a_line_now_and_then_not_a_redraw(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No terminal (a CI job's log): whole lines, throttled; nothing for short runs."""
    from config_audit.commands.common import Progress

    short = Progress("audited commits", 3)
    for i in range(1, 4):
        short(i)
    assert capsys.readouterr().err == ""
    chatty = Progress("audited commits", 20, every_s=0.0)
    quiet = Progress("validating", 20, every_s=3600.0)
    for i in range(1, 21):
        chatty(i)
        quiet(i)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"audited commits {i}/20" for i in range(1, 21)]
    assert "\r" not in "".join(lines)


def _presidio_conf() -> Path:
    import presidio_analyzer

    return Path(presidio_analyzer.__file__).parent / "conf"


@pytest.mark.parametrize("subdir", ["", "services/pii"])
def test_init_fits_the_repository_and_commits_no_machine_path(tmp_path: Path, subdir: str) -> None:
    """Presidio files under config/presidio/ (found by content, not by folder name), beside
    YAML that is not Presidio's; the settings name no path of this machine; a commit from a
    shell without the venv on PATH is recorded with the key from the user's home."""
    repo = tmp_path / "r"
    here = repo / subdir
    conf = here / "config" / "presidio"
    conf.mkdir(parents=True)
    for name in ("default_analyzer.yaml", "default.yaml"):  # analyzer config; NLP config
        (conf / name).write_text((_presidio_conf() / name).read_text())
    (conf / "custom.yaml").write_text((ROOT / "recognizers" / "custom.yaml").read_text())
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home),
           "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@x", "CONFIG_AUDIT_WARM_IDLE_S": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, env=env, check=True)
    done = subprocess.run([TOOL, "init"], cwd=here, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    settings = (here / ".config-audit.yaml").read_text()
    # Every YAML file there is Presidio's (the NLP engine config is the fourth format, issue 12):
    # the folder's glob; the workflow file is not one.
    assert '"config/presidio/*.yaml"' in settings
    assert "ci.yml" not in settings
    assert str(tmp_path) not in settings and "signing_key:" not in settings
    assert "next steps:" in done.stdout and "  3. " in done.stdout
    assert (home / ".config" / "config-audit" / "signing-key.pem").exists()
    validated = subprocess.run([TOOL, "validate"], cwd=here, env=env, capture_output=True,
                               text=True)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "custom.yaml" in validated.stdout
    no_venv = {**env, "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "add", "-A"], cwd=repo, env=no_venv, check=True)
    committed = subprocess.run(["git", "commit", "-qm", "first"], cwd=repo, env=no_venv,
                               capture_output=True, text=True)
    assert committed.returncode == 0, committed.stderr
    log = repo / ".git" / "config-audit" / "log.jsonl"
    paths = {json.loads(line)["path"] for line in log.read_text().splitlines()}
    prefix = f"{subdir}/" if subdir else ""
    assert f"{prefix}config/presidio/custom.yaml" in paths
    note = subprocess.run(["git", "notes", "--ref=config-audit", "show", "HEAD"], cwd=repo,
                          env=env, capture_output=True, text=True)
    assert note.returncode == 0


def test_settings_errors_are_exit_2_naming_the_key(tmp_path: Path) -> None:
    """An absolute glob in `recognizers:` is a settings error (it used to be an internal
    error, exit 3); a glob matching nothing names the setting."""
    (tmp_path / ".config-audit.yaml").write_text(f"recognizers: ['{tmp_path}/*.yaml']\n")
    absolute = subprocess.run([TOOL, "validate", "--no-presidio"], cwd=tmp_path,
                              capture_output=True, text=True)
    assert absolute.returncode == 2, absolute.stderr
    assert "'recognizers' glob" in absolute.stderr and "not relative" in absolute.stderr
    (tmp_path / ".config-audit.yaml").write_text("recognizers: ['config/presidio/*.yaml']\n")
    nothing = subprocess.run([TOOL, "validate", "--no-presidio"], cwd=tmp_path,
                             capture_output=True, text=True)
    assert nothing.returncode == 2 and "'recognizers' globs" in nothing.stderr
    assert "config/presidio/*.yaml" in nothing.stderr


@pytest.mark.parametrize(
    ("settings", "key", "hint"),
    [
        ("recognizer: ['x/*.yaml']\n", "unknown key(s) ['recognizer']", "did you mean 'recognizers'"),
        ("validation: {timeout: 5}\n", "unknown validation key(s) ['timeout']",
         "did you mean 'timeout_s'"),
        ("validation: {timeout_s: 0}\n", "'validation.timeout_s'", "positive"),
        ("policy: {protected_entity: [NW_ID]}\n", "unknown policy key(s) ['protected_entity']",
         "did you mean 'protected_entities'"),
    ],
)
def test_validate_checks_every_settings_key_with_a_did_you_mean(
    tmp_path: Path, settings: str, key: str, hint: str
) -> None:
    (tmp_path / ".config-audit.yaml").write_text(settings)
    (tmp_path / "recognizers").mkdir()
    (tmp_path / "recognizers" / "custom.yaml").write_text(
        (ROOT / "recognizers" / "custom.yaml").read_text()
    )
    done = subprocess.run([TOOL, "validate", "--no-presidio"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert key in done.stderr and hint in done.stderr, done.stderr
