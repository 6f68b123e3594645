"""The validation worker as a self-contained directory any Python with Presidio can run.

The deployment's interpreter (`presidio.python`) has Presidio and its dependencies but not this
package, click or cryptography. So the worker is shipped as `python <bundle>`: a private
directory holding exactly the modules the worker imports (their closure, computed from the
source, so a new worker-side module is bundled without a list to update), keyed by the tool's
version and the modules' content. tests/test_worker_bundle.py checks that the closure needs only
the standard library and what Presidio itself brings.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from config_audit import __version__
from config_audit.durable import write_atomic

log = logging.getLogger(__name__)
PACKAGE = "config_audit"
WORKER = "config_audit.validate.worker"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../config_audit
CACHE_ENV = "CONFIG_AUDIT_CACHE_DIR"
PRUNE_AFTER_S = 7 * 86400
MAIN = (
    "# Written by config-audit: its Presidio validation worker, run as `python <this directory>`.\n"
    "from config_audit.validate.worker import run\n\nrun()\n"
)


@dataclass(frozen=True)
class Closure:
    modules: dict[str, Path]  # config_audit module name -> its source file
    external: frozenset[str]  # top-level names of everything else the modules import


def _module_file(name: str, root: Path) -> Path | None:
    parts = name.split(".")[1:]
    base = root.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module `tree` may import when run, wherever the import statement stands (lazy
    imports inside functions count: they run in the worker too); typing-only blocks do not."""
    names: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # maybe submodules
        stack.extend(ast.iter_child_nodes(node))
    return names


@functools.lru_cache(maxsize=4)
def worker_closure(root: Path = PACKAGE_ROOT, start: str = WORKER) -> Closure:
    """The package modules the worker can import, and the foreign top-level modules they use."""
    modules: dict[str, Path] = {}
    external: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in modules:
            continue
        if name.split(".")[0] != PACKAGE:
            if name:
                external.add(name.split(".")[0])
            continue
        source = _module_file(name, root)
        if source is None:
            continue  # `from pkg import attribute`: not a module
        modules[name] = source
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parents run first
        tree = ast.parse(source.read_bytes(), filename=str(source))
        todo.extend(_imported_names(tree, name, source.name == "__init__.py"))
    return Closure(modules, frozenset(external))


def _digest(closure: Closure, root: Path) -> str:
    digest = hashlib.sha256(__version__.encode() + b"\0" + MAIN.encode())
    for name in sorted(closure.modules):
        path = closure.modules[name]
        digest.update(f"\0{path.relative_to(root)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def cache_root(environ: dict[str, str] | None = None) -> Path:
    """$CONFIG_AUDIT_CACHE_DIR, else $XDG_CACHE_HOME/config-audit, else ~/.cache/config-audit."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "config-audit"


def _usable(directory: Path) -> bool:
    """Ours and private: the interpreter will run whatever code a bundle holds."""
    try:
        info = directory.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
        and (directory / "__main__.py").is_file()
    )


def worker_bundle(cache: Path | None = None, *, fallback: Path | None = None) -> Path:
    """The bundle directory for this version of the worker, built on first use (atomically:
    written beside it, then renamed into place). `fallback` (a private temporary directory)
    serves when the cache directory cannot be written."""
    parent = cache or cache_root()
    root = PACKAGE_ROOT
    # One index per installation: checkouts of other versions share the cache directory.
    where = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    index = parent / f"worker-{__version__}-{where}.json"
    known = _indexed(index, parent)
    if known is not None:
        return known  # the usual case: a dozen stats, no parsing
    closure = worker_closure(root)
    target = parent / f"worker-{__version__}-{_digest(closure, root)}"
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _usable(target):
            _build(closure, root, parent, target)
            _prune(parent, keep=target)
        sources = {str(p): _stamp(p) for p in closure.modules.values()}
        write_atomic(
            index, json.dumps({"bundle": target.name, "sources": sources}).encode(), mode=0o600
        )
        return target
    except OSError as exc:
        if fallback is None:
            raise
        log.debug("worker bundle not cached in %s (%s): built in %s", parent, exc, fallback)
        return _build(closure, root, fallback, fallback / target.name)


def _stamp(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def _indexed(index: Path, parent: Path) -> Path | None:
    """The bundle the index names, if none of the sources it was built from changed since (the
    closure only changes when one of its own files does: a new import is an edit there)."""
    try:
        data = json.loads(index.read_bytes())
        name, sources = str(data["bundle"]), dict(data["sources"])
        if "/" in name or not name.startswith("worker-"):
            return None
        if any(_stamp(Path(p)) != list(s) for p, s in sources.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    target = parent / name
    return target if _usable(target) else None


def _prune(parent: Path, *, keep: Path) -> None:
    """Bundles of edited sources pile up in a development checkout: drop week-old ones (a
    worker still using one has imported its modules; a new one would rebuild)."""
    cutoff = time.time() - PRUNE_AFTER_S
    for old in parent.glob("worker-*"):
        try:
            if old != keep and old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _build(closure: Closure, root: Path, parent: Path, target: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=parent))  # 0700
    try:
        for path in closure.modules.values():
            dest = staging / PACKAGE / path.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copyfile(path, dest)
        (staging / "__main__.py").write_text(MAIN, encoding="utf-8")
        try:
            staging.rename(target)
        except OSError:
            if not _usable(target):  # another process won the race with a good bundle: fine
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
