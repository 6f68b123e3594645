"""Install and remove the git hook shims; keep foreign hooks by chaining them.

The files in the repository's `hooks/` directory are exactly `shim(name)` (a test keeps them so).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from config_audit.errors import UsageError

HOOK_NAMES = ("pre-commit", "post-commit", "post-rewrite")
MARKER = "# presidio-config-audit managed hook"
CHAINED_SUFFIX = ".config-audit-chained"

# Fast paths in shell, so a commit that touches no YAML never starts Python.
_YAML = "':(icase)*.yaml' ':(icase)*.yml'"
_FAST_PATH = {
    # --no-renames: a recognizer file renamed to README.bak must still be seen as deleted.
    "pre-commit": (
        "# Fast path: no staged YAML, nothing to audit (CONFIG_AUDIT_HOOK_ALWAYS=1 disables it).\n"
        'if [ -z "$CONFIG_AUDIT_HOOK_ALWAYS" ] && git rev-parse -q --verify HEAD >/dev/null && '
        '[ -z "$(git diff --cached --name-only --no-renames -- ' + _YAML + ' | head -n 1)" ]; '
        "then exit 0; fi\n"
    ),
    "post-commit": (
        'if [ -z "$CONFIG_AUDIT_HOOK_ALWAYS" ] && [ -z "$(git diff-tree --cc --root '
        "--no-commit-id --no-renames --name-only -r HEAD -- " + _YAML + ' | head -n 1)" ]; '
        "then exit 0; fi\n"
    ),
    "post-rewrite": "",
}


def shim(name: str, *, chained: bool = False) -> str:
    """The hook script: a few lines of shell that exec `config-audit hook NAME`."""
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
    body = _FAST_PATH[name]
    if body:
        lines.append(body.rstrip("\n"))
    run = f'exec config-audit hook {name} "$@"'
    if name == "post-rewrite":
        run = f'printf "%s\\n" "$input" | {run}'
    lines += [
        f"if command -v config-audit >/dev/null 2>&1; then {run}; exit $?; fi",
        f'echo "config-audit: command not found; the {name} hook cannot audit recognizer changes." >&2',
        'echo "  install it (pip install presidio-config-audit) or run: config-audit uninstall-hooks" >&2',
        f"exit {1 if name == 'pre-commit' else 0}",
    ]
    return "\n".join(lines) + "\n"


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install(hooks_dir: Path) -> list[str]:
    """Install every shim; idempotent; a foreign hook is kept and chained, never overwritten."""
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
        _write_executable(target, shim(name, chained=chained.exists()))
    return done


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
