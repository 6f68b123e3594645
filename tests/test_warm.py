"""The warm validator: real server processes on real Unix sockets, real Presidio, real hooks.

Whatever happens to the server (absent, killed mid-request, stale, refused), the verdict is the
one in-process validation gives: the suite's validation cases are run both ways and compared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config_audit.audit.check import check_bytes
from config_audit.model import ConfigFormat
from config_audit.validate import ValidationLimits, Validator
from config_audit.validate import warm_wire as wire
from config_audit.validate.warm_client import WarmValidator
from config_audit.validate.warm_connect import ask
from tests.gitfixtures import RECOGNIZERS, make_repo

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = ROOT / "recognizers" / "samples.yaml"
CASES = sorted(
    [
        *(FIXTURES / "validate").glob("*.yaml"),
        *(FIXTURES / "lint").glob("*.yaml"),
        *(FIXTURES / "corpus").glob("*.y*ml"),
        ROOT / "recognizers" / "custom.yaml",
    ]
)
CLEAN = (FIXTURES / "lint" / "clean_adhoc.yaml").read_bytes()


def status(directory: Path) -> dict[str, Any] | None:
    answer = ask(directory, {"op": "status"})
    return answer["status"] if answer else None


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b") ", 1)[1][:1] == b"Z"
    except OSError:
        return True


def wait_gone(pids: set[int], timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(_gone(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


class Servers:
    """Every server (and its worker) a test saw, stopped at the end whatever happened."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pids: set[int] = set()

    def seen(self) -> dict[str, Any]:
        info = status(self.directory)
        assert info is not None, "no warm validator answers"
        self.pids |= {info["pid"], *([info["worker_pid"]] if info["worker_pid"] else [])}
        return info

    def client(self, **kwargs: Any) -> WarmValidator:
        kwargs.setdefault("settings_digest", "settings-1")
        kwargs.setdefault("start", True)
        kwargs.setdefault("idle_s", 120.0)
        kwargs.setdefault("samples_path", SAMPLES)
        return WarmValidator(directory=self.directory, **kwargs)

    def stop(self) -> None:
        with contextlib.suppress(AssertionError):
            self.seen()
        ask(self.directory, {"op": "stop"})
        if not wait_gone(self.pids):
            for pid in self.pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            wait_gone(self.pids, 5)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    directory = tmp_path / "git" / "config-audit" / "warm"
    directory.parent.mkdir(parents=True)
    found = Servers(directory)
    yield found
    found.stop()


def test_the_suites_validation_cases_get_the_same_verdicts_warm_and_in_process(
    servers: Servers,
) -> None:
    with Validator(samples_path=SAMPLES) as cold, servers.client() as warm:
        for case in CASES:
            data = case.read_bytes()
            name = case.relative_to(ROOT).as_posix()
            here = check_bytes(data, path=name, validator=cold).report
            there = check_bytes(data, path=name, validator=warm).report
            assert there.to_dict() == here.to_dict(), name
        assert warm.served_warm >= len(CASES) // 2  # most cases reach Presidio: via the server
        assert warm.workers_started == 0  # and never in this process
    info = servers.seen()
    assert info["requests"] >= warm.served_warm and info["presidio_version"]


def test_a_server_killed_mid_request_leaves_the_verdict_to_in_process_validation(
    servers: Servers,
) -> None:
    data = (FIXTURES / "validate" / "adhoc_unknown_key.yaml").read_bytes()
    with Validator(samples_path=SAMPLES) as cold:
        expected = cold.load(data, path="a.yaml", fmt=ConfigFormat.ADHOC)
    with servers.client() as warm:
        warm.load(CLEAN, path="clean.yaml", fmt=ConfigFormat.ADHOC)
        pid = servers.seen()["pid"]
        os.kill(pid, signal.SIGSTOP)  # it takes the connection but never answers...
        killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))  # ...and dies meanwhile
        killer.start()
        try:
            got = warm.load(data, path="a.yaml", fmt=ConfigFormat.ADHOC)
        finally:
            killer.join()
        assert got == expected
        assert warm.workers_started == 1  # the fallback: a worker of our own
    assert wait_gone(servers.pids)
    assert (servers.directory / wire.SOCKET).exists()  # a dead server's socket file is left...
    with servers.client() as again:  # ...and a new server replaces it
        assert again.load(data, path="a.yaml", fmt=ConfigFormat.ADHOC) == expected
        assert again.served_warm == 1 and servers.seen()["pid"] != pid


def test_a_client_with_another_key_makes_the_server_exit_and_starts_its_own(
    servers: Servers,
) -> None:
    with servers.client() as first:
        first.load(CLEAN, path="clean.yaml", fmt=ConfigFormat.ADHOC)
    old = servers.seen()
    with servers.client(settings_digest="settings-2") as second:  # the settings changed
        assert second.key != old["key"]
        second.load(CLEAN, path="clean.yaml", fmt=ConfigFormat.ADHOC)
        assert second.served_warm == 1
    new = servers.seen()
    assert new["key"] == second.key and new["pid"] != old["pid"]
    assert wait_gone({old["pid"]})
    with servers.client(settings_digest="settings-3", start=False) as reader:  # `validate`
        result = reader.load(CLEAN, path="clean.yaml", fmt=ConfigFormat.ADHOC)
        assert result.valid and reader.served_warm == 0  # stale: in-process, nothing started
    assert status(servers.directory) is None


def test_an_idle_server_exits_and_removes_its_socket(servers: Servers) -> None:
    with servers.client(idle_s=1.0) as warm:
        warm.load(CLEAN, path="clean.yaml", fmt=ConfigFormat.ADHOC)
    servers.seen()
    assert wait_gone(servers.pids, 20)
    assert not (servers.directory / wire.SOCKET).exists()
    log = (servers.directory / wire.LOG).read_text()
    assert "idle for 1s: exiting" in log


def test_two_clients_starting_at_once_share_one_server(servers: Servers) -> None:
    results: list[bool] = []

    def run() -> None:
        with servers.client() as warm:
            results.append(warm.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC).valid)
            results.append(warm.served_warm == 1)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4
    info = servers.seen()
    assert info["requests"] >= 2
    assert "another server holds the lock" in (servers.directory / wire.LOG).read_text()


def test_a_symlink_at_the_socket_path_is_refused(servers: Servers, tmp_path: Path) -> None:
    servers.directory.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(elsewhere))  # a live socket the link points at
    listener.listen(1)
    (servers.directory / wire.SOCKET).symlink_to(elsewhere)
    try:
        with servers.client() as warm:
            assert warm.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC).valid
            assert warm.served_warm == 0 and warm.workers_started == 1
    finally:
        listener.close()
    assert (servers.directory / wire.SOCKET).is_symlink()  # left alone, never followed
    assert status(servers.directory) is None


@pytest.mark.parametrize("problem", ["open mode", "directory is a link"])
def test_a_directory_others_can_enter_is_refused(
    servers: Servers, tmp_path: Path, problem: str
) -> None:
    if problem == "open mode":
        servers.directory.mkdir(mode=0o755)
        servers.directory.chmod(0o755)
    else:
        (tmp_path / "other").mkdir(mode=0o700)
        servers.directory.symlink_to(tmp_path / "other")
    with servers.client() as warm:
        assert warm.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC).valid
        assert warm.served_warm == 0
    assert not (servers.directory / wire.SOCKET).exists()  # nothing started there


def test_the_server_holds_no_signing_key_and_logs_no_content(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_AUDIT_SIGNING_KEY", "-----BEGIN PRIVATE KEY----- secret")
    secret = b"recognizers:\n  - name: Titles\n    supported_entity: T\n    deny_list: [Zyxwvu]\n"
    with servers.client() as warm:
        assert warm.load(secret, path="secret-name.yaml", fmt=ConfigFormat.ADHOC).valid
        assert warm.served_warm == 1
    info = servers.seen()
    environ = Path(f"/proc/{info['pid']}/environ").read_bytes()
    assert b"CONFIG_AUDIT_SIGNING_KEY" not in environ
    log = (servers.directory / wire.LOG).read_text()
    assert "Zyxwvu" not in log and "secret-name" not in log and "load:" in log
    modes = {p.name: p.lstat().st_mode & 0o777 for p in servers.directory.iterdir()}
    assert modes == {wire.SOCKET: 0o600, wire.LOCK: 0o600, wire.LOG: 0o600}
    assert servers.directory.stat().st_mode & 0o777 == 0o700


def test_a_commit_starts_the_server_the_next_uses_it_and_server_stop_status(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    repo.env["CONFIG_AUDIT_WARM_IDLE_S"] = "120"
    found = Servers(repo.path / ".git" / "config-audit" / "warm")
    try:
        assert repo.commit("first").returncode == 0
        first = found.seen()
        added = "  - name: Badge\n    supported_entity: BADGE\n    deny_list: [Visitor]\n"
        repo.write("recognizers/custom.yaml", RECOGNIZERS + added)
        done = repo.commit("second")
        assert done.returncode == 0, done.stderr
        second = found.seen()
        assert second["pid"] == first["pid"] and second["requests"] > first["requests"]
        broken = (FIXTURES / "validate" / "adhoc_unknown_key.yaml").read_text()
        repo.write("recognizers/custom.yaml", broken)
        blocked = repo.commit("broken")
        assert blocked.returncode != 0 and "BLOCKED" in blocked.stderr
        shown = repo.run("server", "status")
        assert shown.returncode == 0 and f"pid {first['pid']}" in shown.stdout
        assert repo.run("server", "stop").returncode == 0
        assert wait_gone(found.pids)
        assert repo.run("server", "status").returncode == 1
        started = repo.run("server", "start")
        assert started.returncode == 0, started.stderr
        found.seen()
    finally:
        found.stop()


def test_limits_travel_to_the_server(servers: Servers) -> None:
    limits = ValidationLimits(timeout_s=7.0, probe_timeout_s=0.1)
    with servers.client(limits=limits) as warm:
        warm.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC)
    assert servers.seen()["key"] == warm.key


def test_sigterm_stops_the_server_cleanly(servers: Servers) -> None:
    with servers.client() as warm:
        warm.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC)
    os.kill(servers.seen()["pid"], signal.SIGTERM)
    assert wait_gone(servers.pids)
    assert not (servers.directory / wire.SOCKET).exists()


def test_warm_idle_comes_from_the_environment_else_the_settings(tmp_path: Path) -> None:
    from config_audit.audit.runtime import warm_idle
    from config_audit.errors import UsageError
    from config_audit.settings import parse_settings

    def settings(raw: dict[str, Any]):  # type: ignore[no-untyped-def]
        return parse_settings(raw, root=tmp_path, config_path=None)

    assert warm_idle(settings({}), {}) == 900.0
    assert warm_idle(settings({"validation": {"warm_idle_s": 0}}), {}) == 0.0
    assert warm_idle(settings({"validation": {"warm_idle_s": 60}}), {}) == 60.0
    assert warm_idle(settings({}), {"CONFIG_AUDIT_WARM_IDLE_S": "0"}) == 0.0
    for bad in (-1, "soon", True):
        with pytest.raises(UsageError, match="warm_idle_s"):
            warm_idle(settings({"validation": {"warm_idle_s": bad}}), {})


def test_without_a_server_prestart_starts_our_own_worker_as_before(servers: Servers) -> None:
    with servers.client(start=False) as validate:  # `validate`: uses a server, never starts one
        validate.prestart()  # Presidio's import overlaps parsing and linting, as in-process
        assert validate.workers_started == 1
        assert validate.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC).valid
        assert validate.served_warm == 0 and validate.workers_started == 1
    assert status(servers.directory) is None


class _BrokenSpec(WarmValidator):
    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "limits": {"no_such_bound": 1}}  # the server dies building it


def test_a_server_dying_at_start_is_noticed_at_once(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    warm = _BrokenSpec(
        directory=servers.directory, settings_digest="s", start=True, samples_path=SAMPLES
    )
    with warm, caplog.at_level("WARNING"):
        assert warm.load(CLEAN, path="c.yaml", fmt=ConfigFormat.ADHOC).valid  # in-process
        assert warm.served_warm == 0 and warm.workers_started == 1
        assert warm._server_pid is not None
        servers.pids.add(warm._server_pid)
    assert "no_such_bound" in (servers.directory / wire.LOG).read_text()
    # seen dead, not waited for until the launch bound
    assert "warm validator exited at start" in caplog.text
