"""Command line entry point: a thin click layer, the only place that maps errors to exit codes.

Subcommands live in `config_audit.commands.*` and are imported lazily, so `config-audit --help`
never pays for Presidio, git or cryptography.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from typing import Any, NoReturn

import click

from config_audit.errors import ConfigAuditError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# name -> (module, attribute, one-line help shown by `config-audit --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "config_audit.commands.init",
        "init",
        "Set up a repository: settings, signing key, trusted keys, hooks.",
    ),
    "report": (
        "config_audit.commands.report",
        "report",
        "Review report of the record log: Markdown or self-contained HTML.",
    ),
    "review": (
        "config_audit.commands.review",
        "review",
        "Monthly access review: grants, orphaned, over-permissive, unusual activity; sign-off.",
    ),
    "archive": (
        "config_audit.commands.archive",
        "archive",
        "Seal older records into signed segments; upload them to S3 under Object Lock.",
    ),
    "prune": (
        "config_audit.commands.prune",
        "prune",
        "Remove local segments past retention once confirmed in object storage.",
    ),
    "watch": (
        "config_audit.commands.watch",
        "watch",
        "Watch recognizer files and audit edits made outside git.",
    ),
    "ship": (
        "config_audit.commands.ship",
        "ship",
        "Forward new records to syslog, Splunk HEC or Elasticsearch.",
    ),
    "keygen": (
        "config_audit.commands.keygen",
        "keygen",
        "Create an Ed25519 signing key; print its trusted-keys entry.",
    ),
    "verify": (
        "config_audit.commands.verify",
        "verify",
        "Verify the record log: signatures, keys, chain, checkpoint.",
    ),
    "log": ("config_audit.commands.log", "log_command", "List change records with filters."),
    "show": ("config_audit.commands.log", "show", "Show one change record by seq or id."),
    "checkpoint": (
        "config_audit.commands.checkpoint",
        "checkpoint",
        "Sign a checkpoint (tree head) of the record log.",
    ),
    "export": (
        "config_audit.commands.export",
        "export",
        "Export records for a SIEM: jsonl, ecs, splunk-hec, rfc5424, cef.",
    ),
    "hook": (
        "config_audit.commands.hook",
        "hook",
        "Run one git hook (what the scripts in hooks/ exec).",
    ),
    "install-hooks": (
        "config_audit.commands.hook",
        "install_hooks",
        "Install the git hooks (keeps foreign hooks).",
    ),
    "uninstall-hooks": ("config_audit.commands.hook", "uninstall_hooks", "Remove the git hooks."),
    "ci": (
        "config_audit.commands.ci",
        "ci",
        "Audit every commit of a pushed range; Markdown, SARIF, JSON.",
    ),
    "validate": (
        "config_audit.commands.validate",
        "validate",
        "Load recognizer files into Presidio and lint them.",
    ),
    "baseline": (
        "config_audit.commands.baseline",
        "baseline",
        "Accept today's findings in the settings (adopt the gate, fix later).",
    ),
    "server": (
        "config_audit.commands.server",
        "server",
        "The warm validator for hooks and validate: start, stop, status.",
    ),
    "where": (
        "config_audit.commands.where",
        "where",
        "Where the settings, your key, each record log and the notes are.",
    ),
    "diff": (
        "config_audit.commands.diff",
        "diff",
        "Semantic diff of two versions of a recognizer file.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the table, so listing commands imports none of them.
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More diagnostics on stderr (-vv for debug).")
@click.version_option(package_name="presidio-config-audit", prog_name="config-audit")
def cli(verbose: int) -> None:
    """Audit every change to Microsoft Presidio recognizer configuration.

    \b
    Examples:
      config-audit validate recognizers/*.yaml
      config-audit diff HEAD~1:recognizers/custom.yaml recognizers/custom.yaml
      config-audit validate --format json recognizers/ | jq .

    Exit codes: 0 clean, 1 findings, 2 usage or configuration error,
    3 internal error, 130 interrupted.
    """
    level = os.environ.get("CONFIG_AUDIT_LOG_LEVEL", "").upper() or (
        "DEBUG" if verbose > 1 else "INFO" if verbose == 1 else "WARNING"
    )
    logging.basicConfig(level=level, format="config-audit: %(levelname)s %(name)s: %(message)s")


def _write_crash_log() -> str:
    import tempfile
    import time
    import traceback

    directory = os.environ.get("CONFIG_AUDIT_CRASH_DIR") or _private_crash_dir(tempfile)
    path = os.path.join(
        directory, f"config-audit-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    )
    # 0600 from creation: a traceback's locals can hold deny-list entries (personal data).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return path


def _private_crash_dir(tempfile: Any) -> str:
    """`$TMPDIR/config-audit-<uid>`, 0700 and ours; a fresh private directory otherwise (someone
    else may have created the name first)."""
    directory = os.path.join(tempfile.gettempdir(), f"config-audit-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    info = os.lstat(directory)
    if os.path.islink(directory) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return str(tempfile.mkdtemp(prefix="config-audit-crash-"))
    return directory


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI and exit with the contract's code; never show a traceback to the user."""
    try:
        rv = cli.main(args=argv, standalone_mode=False)
    except ConfigAuditError as exc:
        click.echo(f"config-audit: error: {exc.diagnostics()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        _leave(exc.exit_code, fast=argv is None)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("config-audit: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:
        log = _write_crash_log()
        click.echo(
            f"config-audit: internal error: {type(exc).__name__}: {exc}\n  traceback: {log}",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    _leave(rv if isinstance(rv, int) else EXIT_OK, fast=argv is None)


def _leave(code: int, *, fast: bool) -> NoReturn:
    """Exit; skip interpreter teardown (~50 ms freeing modules one by one) when this process
    is the command line itself (not a caller's) and the command said it closed everything
    it opened (`common.leave_fast`): `ci` runs on every push."""
    common = sys.modules.get("config_audit.commands.common")
    if fast and getattr(common, "LEAVE_FAST", None):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)
