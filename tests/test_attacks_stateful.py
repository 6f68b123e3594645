"""Issue 11's property: whatever an insider does to the trust material (rename, move or link the
settings, link a recognizer file, merge, edit trust files, owner globs), a weakening of a protected
recognizer committed without hooks never passes `ci --require-hook-record`.

A Hypothesis state machine on a real repository: every rule edits the working tree and commits
(hooks off, as an insider would), every example ends with a weakening, and the gate is run on
real `config-audit ci`. A fixed seed and no example database: the same sequences on every run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from tests.gitfixtures import Repo, make_repo
from tests.test_attacks import (
    CUSTOM,
    WEAK,
    _move_settings,
    _op_link_recognizer,
    _op_owner_glob,
    _op_signer,
    _remove_settings,
    _second_settings,
    _symlink_settings,
    ci,
    codes,
)

SETTINGS = ".config-audit.yaml"


def _template(tmp: Path) -> Repo:
    tmp.mkdir()
    repo = make_repo(tmp)
    assert repo.commit("base").returncode == 0
    repo.git("tag", "base")
    return repo


def test_no_sequence_of_operations_lets_a_protected_weakening_pass(tmp_path: Path) -> None:
    template = _template(tmp_path / "template")
    runs = iter(range(10_000))

    class Insider(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            work = tmp_path / f"run{next(runs)}"
            shutil.copytree(template.path, work / "repo", symlinks=True)
            self.repo = Repo(work / "repo", template.env)
            self.steps: list[str] = []

        def commit(self, what: str) -> None:
            self.steps.append(what)
            self.repo.git("add", "-A")
            self.repo.git(
                "-c",
                "core.hooksPath=/dev/null",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                what,
                author="bob",
            )

        def settings_regular(self) -> bool:
            path = self.repo.path / SETTINGS
            return path.is_file() and not path.is_symlink()

        @precondition(settings_regular)
        @rule()
        def move_settings(self) -> None:
            _move_settings(self.repo)
            self.commit("move settings")

        @precondition(settings_regular)
        @rule()
        def remove_settings(self) -> None:
            _remove_settings(self.repo)
            self.commit("remove settings")

        @precondition(settings_regular)
        @rule()
        def symlink_settings(self) -> None:
            _symlink_settings(self.repo)
            self.commit("symlink settings")

        @precondition(lambda self: not (self.repo.path / "recognizers" / SETTINGS).exists())
        @rule()
        def second_settings(self) -> None:
            _second_settings(self.repo)
            self.commit("second settings")

        @rule()
        def owner_glob(self) -> None:
            _op_owner_glob(self.repo)
            self.commit("owner glob")

        @rule()
        def trust_files(self) -> None:
            _op_signer(self.repo)
            keys = self.repo.path / ".config-audit" / "trusted-keys.yaml"
            if keys.is_file():
                keys.write_text(keys.read_text() + "# bob was here\n")
            self.commit("trust files")

        @rule()
        def link_recognizer(self) -> None:
            _op_link_recognizer(self.repo)
            self.commit("link recognizer")

        @rule()
        def weaken(self) -> None:
            link = self.repo.path / CUSTOM
            target = self.repo.path / "lax" / "custom.yaml" if link.is_symlink() else link
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(WEAK)
            self.commit("weaken")

        @rule()
        def merge_to_an_old_tree(self) -> None:
            """`git commit-tree OLD^{tree} -p HEAD -p OLD` (attack 4), or a merge of HEAD's."""
            merged = self.repo.git(
                "commit-tree",
                "base^{tree}",
                "-p",
                "HEAD",
                "-p",
                "base",
                "-m",
                "merge",
                author="bob",
            ).stdout.strip()
            self.repo.git("update-ref", "refs/heads/main", merged)
            self.repo.git("reset", "-q", "--hard", "HEAD")
            self.steps.append("merge to base's tree")

        def teardown(self) -> None:
            if "weaken" not in self.steps:
                self.weaken()  # every sequence ends with a weakening that must not pass
            out, data = ci(self.repo, "--base", "base", "--require-hook-record")
            assert out.returncode == 1, (self.steps, out.stdout, out.stderr)
            assert codes(data) & {"CA501", "CA502", "CA005"}, (self.steps, codes(data))

    run_state_machine_as_test(
        seed(int(os.environ.get("ATTACK_SEED", "2026")))(Insider),  # fixed: CI is deterministic
        settings=settings(
            max_examples=int(os.environ.get("ATTACK_EXAMPLES", "5")),
            stateful_step_count=4,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
