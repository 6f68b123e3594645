"""Validation against the deployment's Presidio (issue 16), in a second real environment.

The deployment's venv (tests/deployenv.py) has Presidio and exactly its dependencies, plus its
own `acme_pii.AuBsbRecognizer`, and neither this tool nor cryptography. Everything runs through
the real CLI, a real worker in that interpreter, and once through a real `git commit`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from config_audit.model import ConfigFormat
from config_audit.settings import parse_settings
from config_audit.settings.presidio import PresidioSettings, diff_presidio
from config_audit.validate import ValidationLimits, Validator
from config_audit.validate.release import CODE_OTHER_RELEASE, VERIFIED_RELEASES
from tests.deployenv import add_module, make_deployment
from tests.gitfixtures import RECOGNIZERS, make_repo

ROOT = Path(__file__).resolve().parents[1]
TOOL = str(Path(sys.executable).parent / "config-audit")
REGISTRY = """\
supported_languages: [en]
recognizers:
  - name: AuBsbRecognizer
    type: predefined
"""
LOOPING = '''\
import os, subprocess, sys
from presidio_analyzer import PatternRecognizer


class LoopingRecognizer(PatternRecognizer):
    """Construction never ends; it first starts a child, which must die with the worker."""

    def __init__(self, **kwargs):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.environ["ACME_CHILD_PID_FILE"], "w") as fh:
            fh.write(str(child.pid))
        while True:
            pass
'''


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = make_deployment(tmp_path_factory.mktemp("deploy") / "venv")
    add_module(python, "acme_hangs", "import time\ntime.sleep(600)\n")
    add_module(python, "acme_looping", LOOPING)
    return python


def _project(tmp: Path, presidio: str | None, registry: str = REGISTRY) -> Path:
    project = tmp / "project"
    project.mkdir(exist_ok=True)
    settings = 'recognizers: ["conf/*.yaml"]\nvalidation: {timeout_s: 5}\n'
    if presidio is not None:
        settings += f"presidio: {presidio}\n"
    (project / ".config-audit.yaml").write_text(settings)
    (project / "conf").mkdir(exist_ok=True)
    (project / "conf" / "registry.yaml").write_text(registry)
    return project


def _validate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TOOL, "validate", *args, "conf/registry.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_deployment_environment_is_not_ours(deployment: Path, tmp_path: Path) -> None:
    def imports(module: str) -> bool:
        code = f"import {module}"
        run = subprocess.run([str(deployment), "-c", code], cwd=tmp_path, capture_output=True)
        return run.returncode == 0

    assert imports("presidio_analyzer") and imports("acme_pii") and imports("yaml")
    assert not imports("config_audit") and not imports("cryptography")
    assert importlib.util.find_spec("acme_pii") is None  # the class exists only there


def test_own_class_is_valid_in_the_deployment_and_ca202_without(
    deployment: Path, tmp_path: Path
) -> None:
    rel = os.path.relpath(deployment, tmp_path / "project")  # relative: from the settings file
    project = _project(tmp_path, f"{{python: {rel}, imports: [acme_pii]}}")
    out = _validate(project, "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    (report,) = json.loads(out.stdout)["files"]
    assert report["valid"] and report["recognizer_count"] == 1
    assert report["presidio_interpreter"] == str(deployment)
    assert report["presidio_version"] == "2.2.366"
    assert report["python_version"].startswith("3.")
    text = _validate(project)
    assert text.returncode == 0
    assert f"validated with presidio-analyzer 2.2.366 in {deployment}" in text.stdout

    (project / ".config-audit.yaml").write_text('recognizers: ["conf/*.yaml"]\n')
    without = _validate(project, "--format", "json")
    assert without.returncode == 1
    (report,) = json.loads(without.stdout)["files"]
    assert "CA202" in {f["code"] for f in report["findings"]}
    assert report["presidio_interpreter"] == sys.executable


@pytest.mark.parametrize(
    ("presidio", "named"),
    [
        ("{python: ../nowhere/bin/python}", "presidio.python"),
        ("{python: conf/registry.yaml}", "presidio.python"),  # a file, not executable
        ("{python: /bin/true}", "presidio.python"),  # runs, but is no Python
        ("{python: DEPLOY, imports: [acme_missing]}", "presidio.imports: acme_missing"),
        ("{python: DEPLOY, imports: [acme_pii], version: 2.2.300}", "presidio.version"),
        ("{version: 2.2.300}", "presidio.version"),  # the tool's own Presidio is checked too
        ("{pyhton: DEPLOY}", "unknown presidio key"),
    ],
)
def test_a_wrong_presidio_setting_is_a_settings_error(
    deployment: Path, tmp_path: Path, presidio: str, named: str
) -> None:
    project = _project(tmp_path, presidio.replace("DEPLOY", str(deployment)))
    out = _validate(project)
    assert out.returncode == 2, out.stdout + out.stderr
    assert named in out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_bounds_hold_in_the_deployment_interpreter(deployment: Path, tmp_path: Path) -> None:
    """A recognizer class whose construction loops: CA210 within the bound, and the worker's
    whole process group (the child the class started too) is killed."""
    pid_file = tmp_path / "child.pid"
    os.environ["ACME_CHILD_PID_FILE"] = str(pid_file)
    try:
        presidio = PresidioSettings(python=deployment, imports=("acme_looping",))
        limits = ValidationLimits(timeout_s=3, memory_mb=900)
        registry = REGISTRY.replace("AuBsbRecognizer", "LoopingRecognizer").encode()
        with Validator(limits=limits, presidio=presidio) as validator:
            warm = validator.load(RECOGNIZERS.encode(), path="r.yaml", fmt=ConfigFormat.ADHOC)
            assert warm.valid and warm.interpreter == str(deployment)
            worker = validator.worker_pid
            assert worker is not None
            limit_line = next(
                line
                for line in Path(f"/proc/{worker}/limits").read_text().splitlines()
                if line.startswith("Max address space")
            )
            environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
            started = time.monotonic()
            result = validator.load(registry, path="conf/registry.yaml", fmt=ConfigFormat.REGISTRY)
            elapsed = time.monotonic() - started
    finally:
        del os.environ["ACME_CHILD_PID_FILE"]
    assert [f.code for f in result.findings] == ["CA210"]
    assert result.interpreter == str(deployment)
    assert 3 <= elapsed < 3 + 5, elapsed
    child = int(pid_file.read_text())
    assert not _alive(child), "the class's child outlived the killed worker's group"
    assert not _alive(worker)
    assert str(900 << 20) in limit_line  # RLIMIT_AS, set by the worker itself
    assert b"TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=" in environ  # offline, as in our own interpreter


def test_a_deployment_module_that_hangs_at_import_is_stopped(
    deployment: Path, tmp_path: Path
) -> None:
    presidio = PresidioSettings(python=deployment, imports=("acme_hangs",))
    with Validator(limits=ValidationLimits(timeout_s=2), presidio=presidio) as validator:
        result = validator.load(
            REGISTRY.encode(), path="conf/registry.yaml", fmt=ConfigFormat.REGISTRY
        )
    (finding,) = result.findings
    assert finding.code == "CA210" and "presidio.imports" in finding.message


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
        except (OSError, IndexError):
            return False
        if state == "Z":
            return False
        time.sleep(0.05)
    return True


def test_a_commit_is_validated_by_the_deployment_presidio(deployment: Path, tmp_path: Path) -> None:
    """Through real hooks, with the interpreter named by a wrapper kept in the repository (a
    relative path): the registry naming the deployment's class is committed, its record names
    the deployment's interpreter; changing the wrapper or the settings needs the owners."""
    repo = make_repo(tmp_path)
    repo.write("tools/presidio-python", f'#!/bin/sh\nexec {deployment} "$@"\n')
    (repo.path / "tools" / "presidio-python").chmod(0o755)
    settings = repo.path / ".config-audit.yaml"
    settings.write_text(
        settings.read_text() + "presidio:\n  python: tools/presidio-python\n  imports: [acme_pii]\n"
    )
    assert repo.commit("adopt, validating with the deployment's Presidio").returncode == 0
    repo.write("recognizers/au.yaml", REGISTRY)
    done = repo.commit("add the deployment's BSB recognizer", author="bob")
    assert done.returncode == 0, done.stdout + done.stderr
    records = [json.loads(line) for line in repo.log.read_text().splitlines()]
    (au,) = [r for r in records if r["path"] == "recognizers/au.yaml"]
    assert au["validation"]["valid"] is True
    assert au["validation"]["presidio_interpreter"] == str(deployment)
    assert au["validation"]["presidio_version"] == "2.2.366"
    # CI starts a worker of its own Presidio before it reads the base's settings: one that
    # names another interpreter must be judged by that one (the early worker is not adopted).
    ci_log = tmp_path / "ci.jsonl"
    audited = repo.run("ci", "--base", "HEAD~1", "--log", str(ci_log), "--format", "json")
    assert audited.returncode == 0, audited.stdout + audited.stderr
    (ci_au,) = [json.loads(x) for x in ci_log.read_text().splitlines()]
    assert ci_au["validation"]["valid"] is True
    assert ci_au["validation"]["presidio_interpreter"] == str(deployment)

    # bob (no owner of the protected NW_* entities) may not change what decides validity
    wrapper = repo.path / "tools" / "presidio-python"
    wrapper.write_text(wrapper.read_text() + "# tuned\n")
    blocked = repo.commit("tune the wrapper", "tools/presidio-python", author="bob")
    assert blocked.returncode != 0
    assert "presidio_interpreter_changed" in blocked.stdout + blocked.stderr
    repo.git("checkout", "--", "tools/presidio-python")
    settings.write_text(settings.read_text().replace("  imports: [acme_pii]\n", ""))
    blocked = repo.commit("validate without the imports", ".config-audit.yaml", author="bob")
    assert blocked.returncode != 0
    assert "presidio_imports_changed" in blocked.stdout + blocked.stderr


def test_settings_parse_and_diff() -> None:
    parsed = parse_settings(
        {"presidio": {"python": "venv/bin/python", "imports": "acme_pii", "version": 2.2}},
        root=Path("/srv/conf"),
        config_path=None,
    ).presidio
    assert parsed == PresidioSettings(Path("/srv/conf/venv/bin/python"), ("acme_pii",), "2.2")
    changes = diff_presidio(
        {"presidio": {"python": "a"}}, {"presidio": {"python": "b", "version": "2"}}, ("X",)
    )
    assert [(c.kind, c.impact.value, c.entities) for c in changes] == [
        ("validation.presidio_python_changed", "weakens", ("X",)),
        ("validation.presidio_version_changed", "weakens", ("X",)),
    ]
    assert diff_presidio({}, {}, ("X",)) == []


def test_another_release_is_named_and_release_specific_checks_say_so(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The same code under another release's name (only the version plumbing is under test)."""
    python = make_deployment(tmp_path_factory.mktemp("relabelled") / "venv", version="2.2.999")
    project = _project(
        tmp_path_factory.mktemp("rel"),
        f"{{python: {python}, imports: [acme_pii], version: 2.2.999}}",
        REGISTRY.replace("[en]", "[en]\nbogus_key: 1"),
    )
    out = _validate(project, "--format", "json")
    (report,) = json.loads(out.stdout)["files"]
    assert report["presidio_version"] == "2.2.999"
    by_code = {f["code"]: f for f in report["findings"]}
    assert by_code[CODE_OTHER_RELEASE]["severity"] == "info"
    assert "2.2.999" in by_code[CODE_OTHER_RELEASE]["message"]
    noted = [f for f in report["findings"] if "not on 2.2.999" in f.get("hint", "")]
    assert noted and all(
        f["code"].startswith("CA1") or f["code"] in ("CA203", "CA207") for f in noted
    )


def test_the_dependency_range_is_the_verified_releases() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("presidio-analyzer")]
    lowest, highest = VERIFIED_RELEASES[0], VERIFIED_RELEASES[-1]
    assert pins == [f"presidio-analyzer>={lowest},<={highest}"]


def test_the_warm_server_validates_with_the_deployment_presidio(
    deployment: Path, tmp_path: Path
) -> None:
    """The hooks' warm server runs its worker in the deployment's interpreter too: the class
    only that environment has is found through the server, and the verdict names it."""
    from config_audit.validate.warm_client import WarmValidator
    from tests.test_warm import Servers

    directory = tmp_path / "git" / "config-audit" / "warm"
    directory.parent.mkdir(parents=True)
    servers = Servers(directory)
    presidio = PresidioSettings(python=deployment, imports=("acme_pii",))
    client = WarmValidator(
        directory=directory, settings_digest="deploy", start=True, idle_s=60.0, presidio=presidio
    )
    try:
        result = client.load(REGISTRY.encode(), path="conf/registry.yaml", fmt=ConfigFormat.REGISTRY)
        assert client.served_warm == 1, "the server answered, not the in-process fallback"
        assert result.valid, [f.code for f in result.findings]
        assert result.interpreter == str(deployment)
        assert servers.seen()["pid"] != os.getpid()
    finally:
        client.close()
        servers.stop()
