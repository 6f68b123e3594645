"""A second Python environment, as a deployment has one: Presidio and exactly its dependencies
(linked from ours), plus the deployment's own recognizer package, and not this tool."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ACME = '''\
"""The deployment's own recognizers (an in-house image's): not in the tool's environment."""

from presidio_analyzer import Pattern, PatternRecognizer


class AuBsbRecognizer(PatternRecognizer):
    """Australian bank-state-branch numbers, e.g. 062-000."""

    def __init__(self, supported_language="en", supported_entity="AU_BSB", **kwargs):
        super().__init__(
            supported_entity=supported_entity,
            supported_language=supported_language,
            patterns=[Pattern("bsb", r"\\b\\d{3}-\\d{3}\\b", 0.4)],
            context=["bsb", "branch"],
            **kwargs,
        )
'''


def presidio_distributions() -> dict[str, metadata.Distribution]:
    """presidio-analyzer and everything it requires (no extras), as installed here."""
    seen: dict[str, metadata.Distribution] = {}
    todo = ["presidio-analyzer"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def presidio_top_levels() -> set[str]:
    """The importable top-level names Presidio and its dependencies bring."""
    names = set()
    for dist in presidio_distributions().values():
        for file in dist.files or ():
            top = file.parts[0]
            if top.endswith(".py"):
                names.add(top[:-3])
            elif "." not in top and top not in ("..", "__pycache__"):
                names.add(top)
            elif top.endswith(".so"):
                names.add(top.split(".")[0])
    return names


def make_deployment(where: Path, *, version: str | None = None) -> Path:
    """A venv at `where` with Presidio (relabelled `version`, if given) and `acme_pii`; its
    python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120
    )
    python = where / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    ours = Path(sysconfig.get_paths()["purelib"])
    for dist in presidio_distributions().values():
        for file in dist.files or ():
            top = file.parts[0]
            if top in ("..", "__pycache__") or (site / top).exists():
                continue
            if version and top.startswith("presidio_analyzer-") and top.endswith(".dist-info"):
                continue
            if (ours / top).exists():
                os.symlink(ours / top, site / top)
    if version:  # the same code under another release's name: tests the version plumbing only
        info = site / f"presidio_analyzer-{version}.dist-info"
        info.mkdir()
        original = metadata.distribution("presidio-analyzer").read_text("METADATA") or ""
        lines = [
            f"Version: {version}" if line.startswith("Version:") else line
            for line in original.splitlines()
        ]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
    package = site / "acme_pii"
    package.mkdir()
    (package / "__init__.py").write_text(ACME)
    return python


def add_module(python: Path, name: str, source: str) -> None:
    """Install one more module into the deployment whose interpreter is `python`."""
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    (site / f"{name}.py").write_text(source)
