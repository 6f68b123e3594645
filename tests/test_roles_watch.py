"""Roles in the watcher: a host edit is judged by the roles its file owner holds, with the
directory (a SCIM export beside the settings) read by the watcher's own policy."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path

from tests.test_watcher_support import file_records, make_daemon, no_leaks, recognizer, wait_for

__all__ = ["no_leaks"]


def test_the_watcher_enforces_roles_from_the_directory(tmp_path: Path) -> None:
    me = getpass.getuser()
    (tmp_path / "scim.json").write_text(
        json.dumps(
            {
                "Resources": [
                    {
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "id": "u1",
                        "userName": me,
                        "active": True,
                    },
                    {
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "id": "g1",
                        "displayName": "hosts",
                        "members": [{"value": "u1"}],
                    },
                ]
            }
        )
    )
    (tmp_path / "recognizers").mkdir()
    target = tmp_path / "recognizers" / "a.yaml"
    target.write_text(recognizer(0.5))
    policy = {
        "directory": {"scim": "scim.json"},
        "roles": {"operator": {"grants": ["hosts"], "may": ["strengthen"]}},
    }
    daemon = make_daemon(tmp_path, policy=policy)
    daemon.start()
    log = daemon.options.log_path

    def verdicts() -> list[str]:
        return [r["policy"]["verdict"] for r in file_records(log, "recognizers/a.yaml")]

    try:
        wait_for(lambda: len(verdicts()) >= 1, timeout=30)  # the baseline
        target.write_text(recognizer(0.9))
        wait_for(lambda: len(verdicts()) >= 2, timeout=30)
        time.sleep(0.3)
        target.write_text(recognizer(0.4))
        wait_for(lambda: len(verdicts()) >= 3, timeout=30)
    finally:
        daemon.stop()
    got = file_records(log, "recognizers/a.yaml")
    assert got[1]["policy"]["verdict"] == "pass"  # the operator may strengthen
    assert got[-1]["policy"]["verdict"] == "violation"
    [violation] = got[-1]["policy"]["violations"]
    assert violation["code"] == "CA505" and me in violation["message"]
    assert "no role permits pattern.score_lowered" in violation["message"]
