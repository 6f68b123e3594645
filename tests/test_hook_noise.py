"""Less noise (issue 12, deliverable 7), with real `git commit`s through the installed hooks:
each file's verdict is printed once per commit (post-commit says one line when pre-commit
already showed it) and each attempt raises one alert, however many rules it trips."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitfixtures import RECOGNIZERS, Repo, make_repo

FILE_LINE = "config-audit: recognizers/custom.yaml:"
LOWERED = RECOGNIZERS.replace("score: 0.8", "score: 0.5")  # weakens NW_EMPLOYEE_ID (protected)


def verdicts(stderr: str) -> int:
    return sum(line.startswith(FILE_LINE) for line in stderr.splitlines())


def with_alerts(tmp_path: Path) -> tuple[Repo, Path]:
    repo = make_repo(tmp_path)
    sink = tmp_path / "alerts.jsonl"
    cfg = repo.path / ".config-audit.yaml"
    cfg.write_text(
        cfg.read_text()
        + f"alerts:\n  dedup_window_s: 0\n  channels:\n"
        f"    - {{type: command, argv: [sh, -c, 'cat >> {sink}; echo >> {sink}']}}\n"
    )
    return repo, sink


def alerts(sink: Path) -> list[dict[str, object]]:
    if not sink.exists():
        return []
    return [json.loads(line) for line in sink.read_text().splitlines() if line.strip()]


def test_each_file_verdict_is_printed_once_per_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    first = repo.commit("initial")
    assert first.returncode == 0, first.stderr
    assert verdicts(first.stderr) == 1, first.stderr  # pre-commit's; post-commit: one line
    # The recognizer file, the settings and two trust files: all recorded, one summary line.
    assert "recorded 4 file(s), as shown before the commit" in first.stderr, first.stderr
    assert len(repo.log.read_text().splitlines()) == 4
    repo.write("recognizers/custom.yaml", LOWERED)
    lowered = repo.commit("alice lowers a score")  # alice owns NW_*: allowed, shown as weakening
    assert lowered.returncode == 0, lowered.stderr
    assert verdicts(lowered.stderr) == 1 and lowered.stderr.count("weakens:") == 1, lowered.stderr
    assert len(repo.log.read_text().splitlines()) == 5  # quiet terminal, full record


def test_a_commit_pre_commit_did_not_judge_is_printed_in_full_after_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    assert repo.commit("initial").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0"))
    blocked = repo.commit("zero score")
    assert blocked.returncode != 0 and verdicts(blocked.stderr) == 1
    bypass = repo.commit("zero score", extra=("--no-verify",))
    assert bypass.returncode == 0
    assert verdicts(bypass.stderr) == 1 and "recorded: would have been blocked" in bypass.stderr
    assert "as shown before the commit" not in bypass.stderr


def test_one_alert_per_attempt(tmp_path: Path) -> None:
    repo, sink = with_alerts(tmp_path)
    assert repo.commit("initial").returncode == 0
    [trust] = alerts(sink)  # the trust file's keys: one landed commit, one alert
    assert trust["kind"] == "weakening-change"
    sink.unlink()
    repo.write("recognizers/custom.yaml", LOWERED)
    # bob is no owner of NW_*: a policy violation, a protected weakening, a weakening change.
    assert repo.commit("bob lowers", author="bob").returncode != 0
    [blocked] = alerts(sink)
    assert blocked["kind"] == "policy-violation" and blocked["severity"] == "critical"
    assert "protected-weakening" in str(blocked["summary"])
    assert "weakening-change" in str(blocked["summary"])
    assert "Prof." not in sink.read_text()
    sink.unlink()
    assert repo.commit("bob lowers", author="bob", extra=("--no-verify",)).returncode == 0
    [bypassed] = alerts(sink)  # post-commit only: the attempt pre-commit did not see
    assert bypassed["kind"] == "policy-violation" and bypassed["record_seq"] is not None
    sink.unlink()
    repo.write("recognizers/custom.yaml", LOWERED.replace("score: 0.5", "score: 0.45"))
    assert repo.commit("alice lowers more").returncode == 0
    [landed] = alerts(sink)  # allowed, but it weakens: said once, when it lands
    assert landed["kind"] == "protected-weakening"
