"""The worker's time and memory bounds, replacement after failures, isolation of the parent."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from config_audit.model import ConfigFormat
from config_audit.validate import ValidationLimits, Validator

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
ROOT = Path(__file__).parent.parent
CUSTOM = (ROOT / "recognizers" / "custom.yaml").read_bytes()

# A pattern that backtracks catastrophically on the sample text below, and a sample that makes
# the worker run it with a generous Presidio regex timeout: only our time bound stops it.
HANGING = b"""recognizers:
  - name: Words
    supported_entity: WORDS
    patterns:
      - {name: words, regex: '(\\w+\\s?)+$', score: 0.5}
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); check its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_time_bound_kills_and_replaces_worker(tmp_path: Path) -> None:
    samples = tmp_path / "samples.yaml"
    samples.write_text(
        "samples:\n  - {id: w, entity: WORDS, text: '" + "a" * 5000 + "!', expect: found}\n"
    )
    limits = ValidationLimits(timeout_s=3.0, regex_timeout_s=60)
    with Validator(limits=limits, samples_path=samples) as v:
        started = time.monotonic()
        result = v.load(HANGING, path="hang.yaml", fmt=ConfigFormat.ADHOC)
        assert time.monotonic() - started < 10
        [finding] = result.findings
        assert finding.code == "CA210" and "time bound of 3.0s" in finding.message
        assert not result.valid and result.effective is None
        first_pid = v.workers_started
        ok = v.load(CUSTOM, path="custom.yaml", fmt=ConfigFormat.ADHOC)
        assert ok.valid and ok.recognizer_count == 2
        assert v.workers_started == first_pid + 1


def test_memory_bound_gives_finding_and_fresh_worker() -> None:
    with Validator(limits=ValidationLimits(memory_mb=700)) as v:
        data = (FIXTURES / "registry_memory_bomb.yaml").read_bytes()
        result = v.load(data, path="bomb.yaml", fmt=ConfigFormat.REGISTRY)
        assert [f.code for f in result.findings] == ["CA211"]
        assert "700 MB" in result.findings[0].message
        ok = v.load(CUSTOM, path="custom.yaml", fmt=ConfigFormat.ADHOC)
        assert ok.valid
        assert v.workers_started == 2


def test_worker_dying_while_idle_is_replaced_silently() -> None:
    with Validator() as v:
        assert v.load(CUSTOM, path="a.yaml", fmt=ConfigFormat.ADHOC).valid
        pid = v.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        v._state["worker"].proc.wait(timeout=10)  # dead for sure before the next request
        result = v.load(CUSTOM, path="b.yaml", fmt=ConfigFormat.ADHOC)
        assert result.valid and v.worker_pid != pid


def test_worker_dying_during_request_is_a_finding(tmp_path: Path) -> None:
    samples = tmp_path / "samples.yaml"
    samples.write_text(
        "samples:\n  - {id: w, entity: WORDS, text: '" + "a" * 5000 + "!', expect: found}\n"
    )
    limits = ValidationLimits(timeout_s=30.0, regex_timeout_s=60)
    with Validator(limits=limits, samples_path=samples) as v:
        assert v.load(CUSTOM, path="warm.yaml", fmt=ConfigFormat.ADHOC).valid
        pid = v.worker_pid
        assert pid is not None
        killer = threading.Timer(1.5, os.kill, (pid, signal.SIGKILL))
        killer.start()
        result = v.load(HANGING, path="hang.yaml", fmt=ConfigFormat.ADHOC)
        killer.join()
        assert [f.code for f in result.findings] == ["CA212"]
        assert "SIGKILL" in result.findings[0].message
        assert v.load(CUSTOM, path="after.yaml", fmt=ConfigFormat.ADHOC).valid


def test_close_stops_worker_and_removes_private_dir() -> None:
    v = Validator()
    v.load(CUSTOM, path="a.yaml", fmt=ConfigFormat.ADHOC)
    pid = v.worker_pid
    tmpdir = Path(v._state["tmpdir"])
    assert stat.S_IMODE(tmpdir.stat().st_mode) == 0o700
    assert list(tmpdir.glob("*.yaml")) == []  # the copy is deleted right after loading
    v.close()
    assert pid is not None and not _alive(pid)
    assert not tmpdir.exists()
    v.close()  # idempotent


def test_parent_never_imports_presidio() -> None:
    code = (
        "import sys, config_audit.validate as v; "
        "from config_audit.validate import pool, samples, regex_safety, effective; "
        "v.presidio_version(); "
        "bad = [m for m in sys.modules if m.startswith(('presidio', 'spacy', 'regex'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_worker_protocol_channel_stays_clean() -> None:
    # Presidio prints to stdout when an ad-hoc file fails; the protocol must survive it.
    with Validator() as v:
        bad = (FIXTURES / "adhoc_unknown_key.yaml").read_bytes()
        for _ in range(2):
            assert v.load(bad, path="bad.yaml", fmt=ConfigFormat.ADHOC).findings[0].code == "CA202"
        assert v.load(CUSTOM, path="ok.yaml", fmt=ConfigFormat.ADHOC).valid
        assert v.workers_started == 1


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_no_network_is_touched(tmp_path: Path) -> None:
    # tldextract must use its bundled snapshot: point any fetch at a closed port and make sure
    # an e-mail sample (which triggers tldextract) still validates quickly.
    samples = tmp_path / "samples.yaml"
    samples.write_text(
        "samples:\n  - {id: e, entity: EMAIL_ADDRESS, text: 'mail a@example.co.uk', expect: found}\n"
    )
    env_before = os.environ.get("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS")
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = "http://127.0.0.1:9/never"
    try:
        with Validator(samples_path=samples) as v:
            data = b"supported_languages: [en]\nrecognizers:\n  - name: EmailRecognizer\n"
            result = v.load(data, path="e.yaml", fmt=ConfigFormat.REGISTRY)
    finally:
        if env_before is None:
            del os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"]
        else:
            os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = env_before
    assert result.valid and [s.ok for s in result.samples] == [True]


def test_nested_repeats_are_named_statically_and_never_reach_the_worker() -> None:
    """Deeply nested repeats make the regex engine compile in exponential memory (at 30 levels
    the memory bound is hit): lint names recognizer and line, and the worker is spared."""
    from config_audit.audit.check import check_bytes

    nested = "(?:" * 30 + "a+" + ")+" * 30
    data = (
        "recognizers:\n  - name: Nested\n    supported_entity: NESTED\n    patterns:\n"
        f"      - {{name: n, regex: '{nested}', score: 0.5}}\n"
    ).encode()
    with Validator() as v:
        checked = check_bytes(data, path="nested.yaml", fmt=ConfigFormat.ADHOC, validator=v)
        assert v.workers_started == 0
    [finding] = [f for f in checked.report.findings if f.code == "CA127"]
    assert (finding.line, finding.recognizer) == (5, "Nested")
    assert "31 repeated groups" in finding.message
    assert not checked.report.valid
