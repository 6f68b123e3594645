"""Options and helpers shared by commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from config_audit.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

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


def settings_from(config_path: Path | None) -> Settings:
    return load_settings(config_path)


def expand_paths(paths: Iterable[str], settings: Settings) -> list[str]:
    """Files named, files under directories named, or the configured globs."""
    out: list[str] = []
    given = list(paths)
    samples = settings.samples_path.resolve() if settings.samples_path else None
    if not given:
        for pattern in settings.recognizer_globs:
            out += sorted(os.path.relpath(p) for p in settings.root.glob(pattern) if p.is_file())
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
    """Yield items, showing progress on stderr for long interactive runs."""
    show = len(items) >= 10 and sys.stderr.isatty()
    for i, item in enumerate(items, 1):
        if show:
            click.echo(f"\r{label} {i}/{len(items)}", err=True, nl=False)
        yield item
    if show:
        click.echo("", err=True)
