"""Options and helpers shared by commands."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from config_audit.settings import Settings, load_settings

# Set by a command whose files, threads and children are all closed when it returns: the
# command line then exits without interpreter teardown (`cli._leave`).
LEAVE_FAST: list[bool] = []


def leave_fast() -> None:
    LEAVE_FAST[:] = [True]


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output for people (text) or machines (json).",
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Path to .config-audit.yaml (default: found upward from the current directory).",
)


def settings_from(config_path: Path | None, *, top: Path | None = None) -> Settings:
    """The named settings file, else the nearest one upward, else (inside a git repository,
    `top` if the caller knows it) the only one it tracks, else the defaults."""
    if config_path is None:
        from config_audit.settings import find_config

        if find_config(Path.cwd()) is None:
            from config_audit.errors import GitError
            from config_audit.git import repo as gitrepo

            try:
                return repo_settings(top or gitrepo.toplevel())
            except GitError:
                pass  # not in a repository (or no git): the defaults
    return load_settings(config_path)


def repo_settings(top: Path) -> Settings:
    """Settings for a command that works on the repository (hooks, ci) when none is named: the
    nearest file upward, else the only one tracked anywhere in the repository (a monorepo's
    `services/pii/.config-audit.yaml`: git runs hooks, and CI jobs start, at the top)."""
    from config_audit.errors import UsageError
    from config_audit.git import repo as gitrepo
    from config_audit.settings import CONFIG_NAME, find_config

    cwd = Path.cwd() if Path.cwd().is_relative_to(top) else top
    path = find_config(cwd)
    if path is None:
        tracked = gitrepo.tracked_named(CONFIG_NAME, cwd=top)
        if len(tracked) > 1:
            raise UsageError(
                f"{len(tracked)} settings files in this repository ({', '.join(tracked[:3])}) "
                "and none at the top: which one governs?",
                advice="name it with --config (install-hooks run in its directory names it "
                "in the hooks)",
            )
        path = top / tracked[0] if tracked else None
    return load_settings(path, cwd=cwd)


def expand_paths(paths: Iterable[str], settings: Settings) -> list[str]:
    """Files named, files under directories named, or the configured globs."""
    out: list[str] = []
    given = list(paths)
    samples = settings.samples_path.resolve() if settings.samples_path else None
    if not given:
        from config_audit.recognizers.globs import files_matching

        out = [os.path.relpath(p) for p in files_matching(settings.root, settings.recognizer_globs)]
        return sorted({p for p in out if Path(p).resolve() != samples})
    for raw in given:
        path = Path(raw)
        if path.is_dir():
            out += sorted(
                str(p)
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml") and p.is_file() and p.resolve() != samples
            )
        else:
            out.append(raw)  # a missing file is a finding, not a usage error
    return out


def progress(items: list[str], label: str) -> Iterator[str]:
    """Yield items, showing progress on stderr for long runs."""
    report = Progress(label, len(items))
    for i, item in enumerate(items, 1):
        report(i)
        yield item


class Progress:
    """`label i/n` on stderr: redrawn in place on a terminal; in a CI log (no terminal) a line
    every `every_s` seconds, so a long job shows it is alive without flooding the log."""

    def __init__(self, label: str, total: int, *, minimum: int = 10, every_s: float = 10.0):
        self.label, self.total, self.every_s = label, total, every_s
        self.interactive = sys.stderr.isatty()
        self.enabled = total >= minimum
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        text = f"{self.label} {done}/{self.total}"
        if self.interactive:
            click.echo(f"\r{text}", err=True, nl=done == self.total)
        elif time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            click.echo(text, err=True)


def emit(text: str, out: Path | None) -> None:
    """A rendered document to --out (saying where), else to stdout."""
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
