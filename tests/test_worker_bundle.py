"""The worker bundle: what the deployment's interpreter runs must need nothing this tool brings.

The closure is computed from the source (validate/bundle.py), so a new worker-side module is
bundled without a list; this test is the guard that it, too, imports only the standard library
and what Presidio itself depends on (a future edit importing click or cryptography, or any of
our own dependencies Presidio lacks, fails here instead of in a deployment).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from config_audit.validate.bundle import worker_bundle, worker_closure
from tests.deployenv import presidio_top_levels


def test_the_worker_closure_is_stdlib_and_presidio_dependencies_only() -> None:
    closure = worker_closure()
    allowed = set(sys.stdlib_module_names) | presidio_top_levels()
    assert closure.external <= allowed, sorted(closure.external - allowed)
    assert "presidio_analyzer" in closure.external  # the closure really is followed
    for ours in ("click", "cryptography", "rfc8785", "watchdog", "boto3"):
        assert ours not in closure.external


def test_the_closure_follows_lazy_imports_and_skips_typing_only_ones() -> None:
    modules = worker_closure().modules
    # imported inside Session.load, not at the top of worker.py
    assert "config_audit.validate.loading" in modules
    assert "config_audit.validate.worker" in modules
    # validate/__init__ names the pool only under TYPE_CHECKING: parent side, never bundled
    assert "config_audit.validate.pool" not in modules
    assert "config_audit.ledger" not in {m.rsplit(".", 1)[0] for m in modules}


def test_the_bundle_is_private_and_holds_exactly_the_closure(tmp_path: Path) -> None:
    bundle = worker_bundle(tmp_path / "cache")
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
    held = {
        str(p.relative_to(bundle)) for p in bundle.rglob("*.py") if "__pycache__" not in p.parts
    }
    expected = {
        str(Path(*name.split(".")) / "__init__.py")
        if path.name == "__init__.py"
        else str(Path(*name.split(".")).with_suffix(".py"))
        for name, path in worker_closure().modules.items()
    }
    assert held == expected | {"__main__.py"}
    assert worker_bundle(tmp_path / "cache") == bundle  # found again by its index, not rebuilt


def test_the_bundle_answers_from_its_own_copy(tmp_path: Path) -> None:
    """Its `config_audit` is the bundle's, and it speaks the protocol (the deployment's
    interpreter, without this package at all, is tests/test_presidio_env.py)."""
    bundle = worker_bundle(tmp_path / "cache")
    probe = (
        "import sys, runpy; sys.path.insert(0, sys.argv[1]); import config_audit; "
        "assert config_audit.__file__.startswith(sys.argv[1]), config_audit.__file__; "
        "runpy.run_path(sys.argv[1] + '/__main__.py', run_name='__main__')"
    )
    work = tmp_path / "work"
    work.mkdir(mode=0o700)
    out = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(bundle)],
        input='{"op": "ping", "id": 1}\n',
        capture_output=True,
        text=True,
        env={**os.environ, "CONFIG_AUDIT_WORKER_TMPDIR": str(work)},
        timeout=120,
        cwd=work,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[0]["ready"] and lines[1]["imported"], out.stderr[-2000:]
    assert lines[2]["ok"] and lines[2]["result"]["interpreter"] == sys.executable


def test_an_unwritable_cache_falls_back_to_the_private_directory(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    bundle = worker_bundle(blocked / "cache", fallback=private)
    assert bundle.parent == private and (bundle / "__main__.py").is_file()
