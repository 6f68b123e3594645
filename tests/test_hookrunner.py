"""The warm hook runner (issue 15): git hooks answered by a fork of a process that has already
imported the tool. Real repositories, real `git commit` with the installed hooks, real runner
processes; each promise is checked against the same commit made with no runner at all.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import config_audit
from config_audit.ledger.log import Ledger
from tests.gitfixtures import RECOGNIZERS, Repo, make_repo


@pytest.fixture(autouse=True)
def one_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One of these tests touches the tool's code (every runner goes stale): none of them
    runs while another does, whichever xdist worker has it."""
    lock = tmp_path_factory.getbasetemp().parent / "hookrunner-tests.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield

BAD_SCORE = RECOGNIZERS.replace("score: 0.8", "score: 0")  # CA105: blocks the commit


def warm(repo: Repo) -> Path:
    repo.env["CONFIG_AUDIT_WARM_IDLE_S"] = "120"
    return repo.path / ".git" / "config-audit" / "warm"


def runner_pid(directory: Path, timeout_s: float = 20.0) -> int:
    """The pid of the runner once it listens (the first in-process hook started it)."""
    from config_audit.hookrunner import client

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = client.query(str(directory), "status")
        if line:
            return int(json.loads(line)["pid"])
        time.sleep(0.05)
    raise AssertionError(f"no hook runner listens: {read_log(directory)}")


def read_log(directory: Path) -> str:
    log = directory / "hooks.log"
    return log.read_text() if log.exists() else ""


def served(directory: Path) -> list[str]:
    """What the runner's forks ran: `hook NAME: exit N` for each."""
    return re.findall(r"(hook [a-z-]+): exit (\d+)", read_log(directory))


def stop(repo: Repo, pid: int | None = None) -> None:
    repo.run("server", "stop")
    if pid is not None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.05)


def scrub(text: str) -> str:
    return re.sub(r"\b[0-9a-f]{12,40}\b", "<sha>", text)


def scenario(repo: Repo) -> list[tuple[int, str, str]]:
    """Three commits: a weakening one, a broken one (blocked), a fixed one."""
    outcomes = []
    for content in (
        RECOGNIZERS.replace("[employee]", "[staff]"),
        BAD_SCORE,
        RECOGNIZERS + "  - name: Badge\n    supported_entity: BADGE\n    deny_list: [Visitor]\n",
    ):
        repo.write("recognizers/custom.yaml", content)
        done = repo.commit("change")
        outcomes.append((done.returncode, scrub(done.stdout), scrub(done.stderr)))
        if done.returncode:
            repo.git("reset", "-q")
    return outcomes


def test_commits_through_the_runner_match_commits_without_one(tmp_path: Path) -> None:
    """Same exit codes, same output, same records: the runner changes only the time."""
    (tmp_path / "cold").mkdir()
    (tmp_path / "hot").mkdir()
    cold = make_repo(tmp_path / "cold")
    hot = make_repo(tmp_path / "hot")
    directory = warm(hot)
    pid = None
    try:
        assert cold.commit("first").returncode == 0
        assert hot.commit("first").returncode == 0  # in-process: it starts the runner
        pid = runner_pid(directory)
        expected, got = scenario(cold), scenario(hot)
        assert [code for code, _, _ in got] == [0, 1, 0]
        assert got == expected
        assert served(directory) == [
            ("hook pre-commit", "0"),
            ("hook post-commit", "0"),
            ("hook pre-commit", "1"),
            ("hook pre-commit", "0"),
            ("hook post-commit", "0"),
        ]
        # What differs between two repositories anyway: their paths, keys and times (and so
        # the settings and trust files, which name the keys, and every commit id).
        strip = {"signature", "prev_hash", "key_id", "id", "time", "commit", "repository"}

        def records(repo: Repo) -> list[object]:
            return [
                {k: v for k, v in r.items() if k not in strip}
                if not str(r.get("path")).startswith(".config-audit")
                else (r["path"], [c["kind"] for c in r["changes"]])
                for r in Ledger(repo.log).read_records()
            ]

        assert records(hot) == records(cold)
        assert hot.run("verify").returncode == 0
        assert "imported beyond the preload: none" in read_log(directory)
    finally:
        stop(hot, pid)


def test_the_runner_never_holds_the_signing_key(tmp_path: Path) -> None:
    """The key travels in the client's environment to the fork that runs that hook; the
    runner itself was started without it and never reads a request."""
    repo = make_repo(tmp_path)
    directory = warm(repo)
    pem = (tmp_path / "signing.pem").read_text()
    repo.env["CONFIG_AUDIT_SIGNING_KEY"] = pem
    pid = None
    try:
        assert repo.commit("first").returncode == 0
        pid = runner_pid(directory)
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
        done = repo.commit("weaker")
        assert done.returncode == 0, done.stderr
        assert served(directory)[-1] == ("hook post-commit", "0")
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"CONFIG_AUDIT_SIGNING_KEY" not in environ
        assert pem.splitlines()[1].encode() not in environ
        assert pem.splitlines()[1] not in read_log(directory)
        head = repo.head()
        assert any(r.get("commit") == head for r in Ledger(repo.log).read_records())
        assert repo.run("verify").returncode == 0
    finally:
        stop(repo, pid)


def test_a_partial_commit_is_judged_on_its_own_index(tmp_path: Path) -> None:
    """`git commit PATH` hands the hook a temporary index (GIT_INDEX_FILE): the fork must
    judge that one, not the repository's index, which holds a valid version."""
    repo = make_repo(tmp_path)
    directory = warm(repo)
    pid = None
    try:
        assert repo.commit("first").returncode == 0
        pid = runner_pid(directory)
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
        repo.git("add", "recognizers/custom.yaml")  # staged: valid
        repo.write("recognizers/custom.yaml", BAD_SCORE)  # the working tree: broken
        done = repo.git("commit", "-q", "-m", "partial", "recognizers/custom.yaml", check=False)
        assert done.returncode == 1 and "CA105" in done.stderr, done.stderr
        assert served(directory)[-1] == ("hook pre-commit", "1")
    finally:
        stop(repo, pid)


def test_a_runner_of_changed_code_does_not_answer(tmp_path: Path) -> None:
    """After the tool's code changes, the fork that notices says "stale": the hook runs
    in-process (same verdict), the old runner exits and a new one starts."""
    repo = make_repo(tmp_path)
    directory = warm(repo)
    marker = Path(config_audit.__file__).parent / "hookrunner" / "__init__.py"
    original = marker.stat()
    pid = new = None
    try:
        assert repo.commit("first").returncode == 0
        pid = runner_pid(directory)
        os.utime(marker, ns=(original.st_atime_ns, original.st_mtime_ns + 10**9))
        repo.write("recognizers/custom.yaml", BAD_SCORE)
        done = repo.commit("broken")
        assert done.returncode == 1 and "CA105" in done.stderr, done.stderr
        assert "the tool's code changed: exiting" in read_log(directory)
        assert ("hook pre-commit", "1") not in served(directory)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}")
        new = runner_pid(directory)
        assert new != pid
    finally:
        os.utime(marker, ns=(original.st_atime_ns, original.st_mtime_ns))
        stop(repo, new)


def test_a_socket_that_is_not_ours_is_never_used(tmp_path: Path) -> None:
    """A file planted at the socket's path, or a directory others may enter: the hooks run
    in-process with the same verdict, and no runner starts there."""
    repo = make_repo(tmp_path)
    directory = warm(repo)
    try:
        assert repo.commit("first").returncode == 0
        stop(repo, runner_pid(directory))
        (directory / "hooks.sock").unlink(missing_ok=True)
        (directory / "hooks.sock").write_text("planted")
        repo.write("recognizers/custom.yaml", BAD_SCORE)
        done = repo.commit("broken")
        assert done.returncode == 1 and "CA105" in done.stderr, done.stderr
        deadline = time.monotonic() + 10
        while "refusing the socket path" not in read_log(directory):
            assert time.monotonic() < deadline, read_log(directory)
            time.sleep(0.05)
        (directory / "hooks.sock").unlink()
        os.chmod(directory, 0o755)
        repo.git("reset", "-q")
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
        done = repo.commit("weaker")
        assert done.returncode == 0, done.stderr
        time.sleep(0.5)
        assert not (directory / "hooks.sock").exists()
    finally:
        os.chmod(directory, 0o700)
        stop(repo)


def test_server_status_and_stop_cover_the_runner(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    directory = warm(repo)
    try:
        assert repo.commit("first").returncode == 0
        pid = runner_pid(directory)
        shown = repo.run("server", "status", "--format", "json")
        assert json.loads(shown.stdout)["hook_runner"]["pid"] == pid
        assert f"hook runner: pid {pid}" in repo.run("server", "status").stdout
        stopped = repo.run("server", "stop")
        assert f"hook runner {pid} stopped" in stopped.stdout, stopped.stdout
        assert not os.path.exists(f"/proc/{pid}")
    finally:
        stop(repo)


def test_settings_that_disable_the_warm_validator_start_no_runner(tmp_path: Path) -> None:
    """`validation.warm_idle_s: 0` in the settings in force (no environment override): no
    runner; one that runs when the settings change to 0 exits after that hook."""
    repo = make_repo(tmp_path)
    directory = warm(repo)
    del repo.env["CONFIG_AUDIT_WARM_IDLE_S"]
    settings = (repo.path / ".config-audit.yaml").read_text()
    assert repo.commit("first").returncode == 0
    pid = runner_pid(directory)
    try:
        repo.write(".config-audit.yaml", settings + "validation: {warm_idle_s: 0}\n")
        assert repo.commit("no warm validator").returncode == 0
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
        done = repo.commit("weaker")  # judged with the settings that disable it
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}"), read_log(directory)
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[worker]"))
        assert repo.commit("again").returncode == 0
        time.sleep(1.0)
        assert not (directory / "hooks.sock").exists()
    finally:
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGTERM)
        stop(repo)


def test_a_runner_that_does_not_answer_costs_seconds_not_the_commit(tmp_path: Path) -> None:
    """A runner that is stuck (stopped here) accepts nothing: after ACCEPT_TIMEOUT_S the hook
    runs in-process, with the same verdict, and the commit is never left hanging."""
    from config_audit.hookrunner.client import ACCEPT_TIMEOUT_S

    repo = make_repo(tmp_path)
    directory = warm(repo)
    assert repo.commit("first").returncode == 0
    pid = runner_pid(directory)
    os.kill(pid, signal.SIGSTOP)
    try:
        repo.write("recognizers/custom.yaml", BAD_SCORE)
        started = time.monotonic()
        done = repo.commit("broken")
        took = time.monotonic() - started
        assert done.returncode == 1 and "CA105" in done.stderr, done.stderr
        assert ACCEPT_TIMEOUT_S <= took < ACCEPT_TIMEOUT_S + 60
    finally:
        os.kill(pid, signal.SIGCONT)
        stop(repo, pid)


def test_ctrl_c_reaches_the_fork_that_runs_the_hook(tmp_path: Path) -> None:
    """SIGINT to the hook (what the terminal sends on Ctrl-C) is forwarded to the fork: the
    hook stops as it would in-process ("interrupted", exit 130) and no fork is left behind.
    The warm validator is stopped here, so the fork's validation waits long enough to be cut."""
    import subprocess
    import sys

    repo = make_repo(tmp_path)
    directory = warm(repo)
    assert repo.commit("first").returncode == 0
    pid = runner_pid(directory)
    validator = json.loads(repo.run("server", "status", "--format", "json").stdout)["pid"]
    os.kill(validator, signal.SIGSTOP)
    try:
        repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("[employee]", "[staff]"))
        repo.git("add", "-A")
        hook = subprocess.Popen(
            [sys.executable, "-m", "config_audit", "hook", "pre-commit"],
            cwd=repo.path,
            env=repo.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)  # accepted in milliseconds; its validation now waits for the validator
        assert hook.poll() is None
        hook.send_signal(signal.SIGINT)
        out, err = hook.communicate(timeout=60)
        assert hook.returncode == 130, (out, err)
        assert "interrupted" in err
        assert "hook pre-commit: exit 130" in read_log(directory)
    finally:
        os.kill(validator, signal.SIGCONT)
        stop(repo, pid)


def test_a_socket_of_another_user_is_never_used(tmp_path: Path) -> None:
    """The runner's socket handed to another uid (as a planted server of someone else's would
    be): the client refuses it, the hook runs in-process with the same verdict, and nothing
    the runner serves counts."""
    repo = make_repo(tmp_path)
    directory = warm(repo)
    assert repo.commit("first").returncode == 0
    pid = runner_pid(directory)
    try:
        os.chown(directory / "hooks.sock", 65534, 65534)
        before = served(directory)
        repo.write("recognizers/custom.yaml", BAD_SCORE)
        done = repo.commit("broken")
        assert done.returncode == 1 and "CA105" in done.stderr, done.stderr
        assert served(directory) == before
    finally:
        stop(repo, pid)
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGTERM)
