"""Install and remove the git hook shims; keep foreign hooks by chaining them.

The files in the repository's `hooks/` directory are exactly `shim(name)` (a test keeps them so).
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from config_audit.errors import UsageError

HOOK_NAMES = ("pre-commit", "post-commit", "post-rewrite", "pre-push")
MARKER = "# presidio-config-audit managed hook"
CHAINED_SUFFIX = ".config-audit-chained"

# Fast paths in shell, so a commit that touches no recognizer file never starts Python.
DEFAULT_PATHSPECS = (":(icase)*.yaml", ":(icase)*.yml")


def pathspecs_for(
    globs: Sequence[str],
    *,
    prefix: str = "",
    config: str | None = None,
    trust: Sequence[str] = (),
) -> tuple[str, ...]:
    """Git pathspecs for the configured recognizer globs (relative to the repository root),
    plus the settings file, any file of its name (moved or a second one) and the trust files,
    so changing what decides a verdict also wakes the hook."""
    specs = [f":(glob,icase){prefix}{g}" for g in globs]
    if config:
        specs.append(f":(literal){config}")
        specs.append(":(glob,icase)**/.config-audit.yaml")
        specs.append(":(glob)**/.gitattributes")
    specs += [f":(literal){t}" for t in trust]
    return tuple(specs) or DEFAULT_PATHSPECS


def _fast_path(name: str, pathspecs: Sequence[str]) -> str:
    if name in ("post-rewrite", "pre-push") or any("'" in p for p in pathspecs):
        return ""  # no cheap filter (or one we cannot quote): always audit
    quoted = " ".join(f"'{p}'" for p in pathspecs)
    if name == "pre-commit":
        # --no-renames: a recognizer file renamed to README.bak must still be seen as deleted.
        return (
            "# Fast path: no staged recognizer file, nothing to audit "
            "(CONFIG_AUDIT_HOOK_ALWAYS=1 disables it).\n"
            'if [ -z "$CONFIG_AUDIT_HOOK_ALWAYS" ] && git rev-parse -q --verify HEAD >/dev/null && '
            f'[ -z "$(git diff --cached --name-only --no-renames -- {quoted} | head -n 1)" ]; '
            "then exit 0; fi"
        )
    return (
        'if [ -z "$CONFIG_AUDIT_HOOK_ALWAYS" ] && [ -z "$(git diff-tree --cc --root '
        f'--no-commit-id --no-renames --name-only -r HEAD -- {quoted} | head -n 1)" ]; '
        "then exit 0; fi"
    )


def shim(
    name: str,
    *,
    chained: bool = False,
    pathspecs: Sequence[str] = DEFAULT_PATHSPECS,
    config: str | None = None,
    python: str | None = None,
) -> str:
    """The hook script: a few lines of shell that exec `config-audit hook NAME`. `config` is
    the settings file (relative to the work tree, where git runs hooks) when it is not the one
    at the top: a hook never finds a subdirectory's settings on its own. `python` is the
    interpreter that installed the hook (as pre-commit's INSTALL_PYTHON): commits from an IDE
    or a git GUI, where the venv is not on PATH, still run it; PATH is the fallback."""
    lines = [
        "#!/bin/sh",
        f"{MARKER}: {name} (config-audit install-hooks; remove with uninstall-hooks)",
    ]
    if name == "post-rewrite":
        lines.append(
            'input=$(cat)  # git passes "old new" pairs on stdin; chained hooks see them too'
        )
    if chained:
        chain = f'"$0{CHAINED_SUFFIX}" "$@"'
        if name == "post-rewrite":
            chain = f'printf "%s\\n" "$input" | {chain}'
        if name == "pre-commit":
            lines.append(f"# The hook that was here before runs first.\n{chain} || exit $?")
        else:  # git ignores post-hook status: a failing foreign hook must not skip our record
            lines.append(f"# The hook that was here before runs first.\n{chain} || true")
    body = _fast_path(name, pathspecs)
    if body:
        lines.append(body)
    if config is not None and "'" in config:
        raise UsageError(f"settings path {config!r} holds a quote: the hook cannot name it")
    settings = f" --config '{config}'" if config else ""
    args = f'hook {name}{settings} "$@"'

    def feed(cmd: str) -> str:
        return f'printf "%s\\n" "$input" | {cmd}' if name == "post-rewrite" else cmd

    if python is not None:
        lines += [
            f"INSTALL_PYTHON={shlex.quote(python)}",
            'if [ -x "$INSTALL_PYTHON" ]; then '
            + feed(f'exec "$INSTALL_PYTHON" -m config_audit {args}')
            + "; exit $?; fi",
        ]
    lines.append(
        "if command -v config-audit >/dev/null 2>&1; then "
        + feed(f"exec config-audit {args}")
        + "; exit $?; fi"
    )
    lines += _not_found(name, python)
    return "\n".join(lines) + "\n"


def _not_found(name: str, python: str | None) -> list[str]:
    """What to say when neither the installing interpreter nor PATH has config-audit: the
    exact commands, since the user may be in an IDE with no venv to activate."""
    gone = (
        "$INSTALL_PYTHON (the interpreter that installed this hook) is gone (venv moved or "
        "deleted?) and config-audit is not on PATH"
        if python is not None
        else "config-audit is not on PATH"
    )
    out = [
        f'echo "config-audit: command not found: the {name} hook cannot run: {gone}." >&2',
        'echo "  reinstall the hooks with the config-audit you use, from this repository:" >&2',
        'echo "    /path/to/venv/bin/config-audit install-hooks   (or: python -m config_audit '
        'install-hooks)" >&2',
        'echo "  or remove them: rm \\"$0\\"   (config-audit uninstall-hooks removes all)" >&2',
    ]
    if name == "pre-commit":
        out.append(
            'echo "  or commit once without the check: git commit --no-verify '
            '(CI reports the commit as unaudited)" >&2'
        )
    out.append(f"exit {1 if name == 'pre-commit' else 0}")  # a push without notes is CI's to flag
    return out


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install(
    hooks_dir: Path,
    *,
    pathspecs: Sequence[str] = DEFAULT_PATHSPECS,
    config: str | None = None,
    python: str | None = None,
) -> list[str]:
    """Install every shim; idempotent; a foreign hook is kept and chained, never overwritten.
    The shims run `python` (default: this interpreter) and fall back to PATH."""
    python = python or sys.executable
    hooks_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name in HOOK_NAMES:
        target = hooks_dir / name
        chained = hooks_dir / (name + CHAINED_SUFFIX)
        if target.exists() and not is_ours(target):
            if chained.exists():
                raise UsageError(
                    f"{target} and {chained} both exist",
                    advice="merge them by hand, then run install-hooks again",
                )
            target.rename(chained)
            done.append(f"{name} (kept the existing hook as {chained.name}, chained)")
        else:
            done.append(name)
        wanted = shim(
            name, chained=chained.exists(), pathspecs=pathspecs, config=config, python=python
        )
        _write_executable(target, wanted)
    return done


def refresh(
    hooks_dir: Path,
    *,
    pathspecs: Sequence[str],
    config: str | None = None,
    python: str | None = None,
) -> list[str]:
    """Rewrite our installed shims whose fast path no longer matches the configured globs
    (a glob added later must not be skipped by an old shim). Foreign hooks are not touched;
    a hook not installed (pre-push, added later) is not added: install-hooks does that.
    The interpreter a shim names is kept while it exists; else this one takes its place."""
    changed = []
    for name in HOOK_NAMES:
        target = hooks_dir / name
        if not is_ours(target):
            continue
        chained = (hooks_dir / (name + CHAINED_SUFFIX)).exists()
        current = target.read_text(encoding="utf-8", errors="replace")
        keep = installed_python(current)
        if keep is not None and not os.access(keep, os.X_OK):
            keep = None  # that venv is gone: the interpreter running now takes its place
        wanted = shim(
            name,
            chained=chained,
            pathspecs=pathspecs,
            config=config,
            python=keep or python or sys.executable,
        )
        if current != wanted:
            _write_executable(target, wanted)
            changed.append(name)
    return changed


def installed_python(text: str) -> str | None:
    """The interpreter a shim names (None for a PATH-only shim)."""
    for line in text.splitlines():
        if line.startswith("INSTALL_PYTHON="):
            words = shlex.split(line.partition("=")[2])
            return words[0] if words else None
    return None


def uninstall(hooks_dir: Path) -> list[str]:
    """Remove our shims and put chained foreign hooks back where they were."""
    done = []
    for name in HOOK_NAMES:
        target = hooks_dir / name
        chained = hooks_dir / (name + CHAINED_SUFFIX)
        if target.exists() and is_ours(target):
            target.unlink()
            done.append(name)
        if chained.exists() and not target.exists():
            chained.rename(target)
            done.append(f"{name} (restored the original hook)")
    return done


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    mode = tmp.stat().st_mode
    os.chmod(tmp, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    tmp.replace(path)
