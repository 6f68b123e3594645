"""`config-audit hook NAME`, `install-hooks`, `uninstall-hooks`: the git hook front door."""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import click

from config_audit.audit.pipeline import Auditor
from config_audit.commands.common import (
    config_option,
    settings_from,
)
from config_audit.commands.hook_output import (
    forget_shown,
    print_results,
    remember_shown,
    take_shown,
)
from config_audit.errors import UsageError
from config_audit.git import notes as gitnotes
from config_audit.git import repo as gitrepo
from config_audit.git.hooks import HOOK_NAMES, install, pathspecs_for, refresh, uninstall
from config_audit.model import AuditResult
from config_audit.settings import CONFIG_NAME, Settings


def hook_log_path(settings: Settings, top: Path, git_dir: Path | None = None) -> Path:
    """Hooks log inside the git directory (never committed by accident) unless configured."""
    return settings.log_path or (git_dir or gitrepo.git_dir(top)) / "config-audit" / "log.jsonl"


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(HOOK_NAMES))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@config_option
@click.pass_context
def hook(ctx: click.Context, name: str, args: tuple[str, ...], config_path: Path | None) -> None:
    """Run one git hook (what the scripts in hooks/ exec).

    \b
    pre-commit    audit the staged recognizer files; invalid files and policy violations
                  block the commit (exit 1); weakening changes are shown
    post-commit   write the signed change record of HEAD and attach it as a git note
    post-rewrite  the same for commits rewritten by amend or rebase (pairs on stdin)
    pre-push      push the records' notes (refs/notes/config-audit*) to the same remote
    """
    where = gitrepo.locations()
    top = where.top
    if name == "pre-push":
        push_notes_along(args, top)
        return
    pairs: list[list[str]] = []
    if name == "post-rewrite":
        text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        pairs = [line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2]
    with gitrepo.one_run(top) as reader:
        _run_hook(ctx, name, pairs, config_path, where, reader)


def _run_hook(
    ctx: click.Context,
    name: str,
    pairs: list[list[str]],
    config_path: Path | None,
    where: gitrepo.Locations,
    reader: gitrepo.BlobReader,
) -> None:
    top = where.top
    parent = _parent(name, pairs, top)
    current, settings = _settings_for(config_path, top, parent)
    _want_runner(settings, where)
    # The shims filter for the next commit, whose parent is HEAD: HEAD's globs.
    refreshed = refresh(
        where.hooks_dir, pathspecs=repo_pathspecs(current, top), config=hook_config(current, top)
    )
    if refreshed:
        click.echo(
            f"config-audit: hooks updated (configured globs, or the interpreter): {refreshed}",
            err=True,
        )
    if name == "pre-commit":
        _pre_commit(ctx, settings, where, parent, reader)
    else:
        _after_commit(name, pairs, settings, where, parent, reader)


def _want_runner(settings: Settings, where: gitrepo.Locations) -> None:
    """Tell the warm hook runner what the settings in force allow: after an in-process hook
    it is started for the next one, and one that is not wanted (or with another idle time)
    exits after this hook."""
    from config_audit.audit.runtime import warm_dir, warm_idle
    from config_audit.hookrunner.launch import want

    try:
        idle_s = warm_idle(settings)
    except UsageError:
        idle_s = 0.0  # the validator reports it
    want(warm_dir(where.git_dir), idle_s)


def _opened(settings: Settings, where: gitrepo.Locations) -> AbstractContextManager[Auditor]:
    from config_audit.audit.runtime import open_auditor, warm_dir

    return open_auditor(
        settings,
        log_path=hook_log_path(settings, where.top, where.git_dir),
        require_key=False,
        cache_dir=where.git_dir / "config-audit" / "cache",
        warm_dir=warm_dir(where.git_dir),
    )


def _pre_commit(
    ctx: click.Context,
    settings: Settings,
    where: gitrepo.Locations,
    parent: str | None,
    reader: gitrepo.BlobReader,
) -> None:
    from config_audit.audit.git import audit_staged

    top = where.top
    with _opened(settings, where) as auditor:
        results = audit_staged(auditor, cwd=top, reader=reader)
    print_results(results)
    _alert(settings, [r for r in results if r.blocked])
    marker = where.git_dir / "config-audit" / "shown.json"
    if any(r.blocked for r in results):
        forget_shown(marker)
        click.echo(
            "config-audit: commit blocked. Fix the findings above, or ask an owner.", err=True
        )
        ctx.exit(1)
    if results:
        head = gitrepo.resolve("HEAD", cwd=top) if parent else None
        remember_shown(marker, results, head=head)
    else:
        forget_shown(marker)


def _after_commit(
    name: str,
    pairs: list[list[str]],
    settings: Settings,
    where: gitrepo.Locations,
    parent: str | None,
    reader: gitrepo.BlobReader,
) -> None:
    """post-commit and post-rewrite: the records of the commits made."""
    from config_audit.audit.git import audit_commit, commit_facts
    from config_audit.audit.git_settings import file_at

    top = where.top
    shown = frozenset[str]()
    if name == "post-commit":
        shown = take_shown(where.git_dir / "config-audit" / "shown.json", parent=parent)
        commits: list[tuple[str, str | None]] = [("HEAD", None)]
    else:
        # The pre-commit framework passes no pairs: HEAD, the commit amend or rebase left.
        commits = [(new, old) for old, new in pairs] or [("HEAD", None)]
    with (
        _opened(settings, where) as auditor,
        file_at(parent, settings.allowed_signers_path, top) as signers,
    ):
        for commit, old in commits:
            sha = gitrepo.resolve(commit, cwd=top)
            facts = commit_facts(sha, top=top, allowed_signers=signers)
            if facts.noted:
                continue  # already recorded: amend runs post-rewrite and then post-commit
            extra: dict[str, object] | None = {"rewritten_from": old} if old else None
            audit = audit_commit(
                auditor,
                sha,
                top=top,
                reader=reader,
                source=name,
                allowed_signers=signers,
                extra=extra,
                facts=facts,
            )
            if audit.results:
                publish_checkpoint(auditor, sha, top)
                print_results(audit.results, landed=True, shown=shown)
                _say_why_unverified(facts.info.signature_status, sha, top, settings)
                _alert(settings, audit.results)


def _settings_for(
    config_path: Path | None, top: Path, parent: str | None
) -> tuple[Settings, Settings]:
    """(HEAD's settings, the parent's): what decides the verdict is what was audited before,
    never the settings the commit brings (a commit could otherwise move or delete its own
    rules). HEAD's globs filter the next commit in the shims."""
    from config_audit.audit.git_settings import settings_in_force

    head = "HEAD" if gitrepo.rev_exists("HEAD", cwd=top) else None
    current = settings_in_force(
        config_path, lambda: settings_from(config_path, top=top), top=top, rev=head
    )
    if parent == head:
        return current, current
    return current, settings_in_force(config_path, lambda: current, top=top, rev=parent)


def _parent(name: str, pairs: list[list[str]], top: Path) -> str | None:
    """The commit whose settings are in force: HEAD before a commit is made, the first
    parent of the (first rewritten) commit after; None for a root commit."""
    if name == "pre-commit":
        return "HEAD" if gitrepo.rev_exists("HEAD", cwd=top) else None
    commit: str = "HEAD"
    if name == "post-rewrite" and pairs and len(pairs[0]) > 1:
        commit = pairs[0][1]
    if not gitrepo.rev_exists(commit, cwd=top):
        return None
    parents = gitrepo.commit_parents(commit, cwd=top)
    return parents[0] if parents else None


@click.command("install-hooks")
@click.option(
    "--hooks-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install here instead of git's hooks directory (core.hooksPath honoured).",
)
@config_option
def install_hooks(hooks_dir: Path | None, config_path: Path | None) -> None:
    """Install the pre-commit, post-commit, post-rewrite and pre-push hooks.

    The hooks run the Python that installed them (so commits from an IDE or a git GUI, with
    no venv on PATH, are audited too), else config-audit on PATH. pre-push pushes the notes
    (refs/notes/config-audit*) with the branch. Honours core.hooksPath. An existing hook that is not ours is kept and chained (it runs
    first); running this twice changes nothing. Run it where your .config-audit.yaml is found
    (or pass --config): a settings file in a subdirectory is named in the hooks, since git runs
    them at the top of the work tree.
    """
    target = hooks_dir or gitrepo.hooks_dir()
    top = gitrepo.toplevel()
    settings = settings_from(config_path)
    pathspecs = repo_pathspecs(settings, top)
    for line in install(target, pathspecs=pathspecs, config=hook_config(settings, top)):
        click.echo(f"installed {line} in {target}")


@click.command("uninstall-hooks")
@click.option("--hooks-dir", type=click.Path(file_okay=False, path_type=Path))
def uninstall_hooks(hooks_dir: Path | None) -> None:
    """Remove our hooks and restore any hook that was chained."""
    target = hooks_dir or gitrepo.hooks_dir()
    done = uninstall(target)
    if not done:
        raise UsageError(f"no config-audit hooks in {target}")
    for line in done:
        click.echo(f"removed {line}")


def _say_why_unverified(status: str, sha: str, top: Path, settings: Settings) -> None:
    """A signed commit git could not verify is recorded as 'claimed': say git's reason."""
    from config_audit.git.signature import UNCHECKED, unchecked_signature_reason

    if status not in UNCHECKED:
        return
    reason = unchecked_signature_reason(sha, cwd=top, allowed_signers=settings.allowed_signers_path)
    if reason:
        click.echo(
            f"config-audit: {sha[:12]} is signed, but git could not verify the signature, so "
            f"it is recorded as claimed only. git says: {reason}",
            err=True,
        )


def push_notes_along(args: tuple[str, ...], top: Path) -> None:
    """pre-push: send the notes with the branch, so CI finds the hook records. Never blocks
    the push (the branch is what the user asked for); says plainly when the notes stay behind."""
    # git passes `remote url`; the pre-commit framework passes them in its environment.
    remote = (args[0] if args else "") or os.environ.get("PRE_COMMIT_REMOTE_NAME", "")
    if not remote:
        return
    refs, refused = gitnotes.push_notes(remote, cwd=top)
    if refused is None:
        if refs:
            click.echo(f"config-audit: pushed {', '.join(refs)} to {remote}", err=True)
        return
    fetched = "refs/notes/config-audit-remote"
    click.echo(
        f"config-audit: WARNING: {remote} refused the audit notes ({', '.join(refs)}):\n"
        f"  {refused.replace(chr(10), chr(10) + '  ')}\n"
        "  CI will report these commits as unaudited (CA603) until the notes arrive.\n"
        "  If someone else pushed notes first, merge theirs and push again:\n"
        f"    git fetch {remote} refs/notes/config-audit:{fetched} && "
        f"git notes --ref=config-audit merge -s cat_sort_uniq {fetched} && "
        f"git push {remote} refs/notes/config-audit",
        err=True,
    )


def _alert(settings: Settings, results: list[AuditResult]) -> None:
    """One alert per attempt (a blocked pre-commit, a landed commit), however many files and
    rules it touches: the rules' alerts are folded into the most severe one."""
    if settings.alerts and results:  # importing the alerting code costs ~30 ms: only when used
        from config_audit.alerts.rules import alert_results

        alert_results(settings, results, one_alert=True)


def publish_checkpoint(auditor: Auditor, commit: str, top: Path) -> None:
    """After a record: the tree head beside the log and as a git note on the commit. Never
    blocks git (the commit is made already): a problem is a warning."""
    if auditor.ledger is None or auditor.signer is None:
        return
    from config_audit.audit.publish import alert_failure
    from config_audit.audit.publish import publish_checkpoint as publish

    outcome = publish(
        auditor.ledger.path,
        auditor.signer,
        on_conflict=lambda summary: alert_failure(auditor.settings, summary),
        note=(commit, top),
    )
    if outcome.conflict:
        click.echo(f"config-audit: WARNING: {outcome.conflict}", err=True)
    elif outcome.error:
        click.echo(f"config-audit: warning: {outcome.error}", err=True)


def hook_config(settings: Settings, top: Path) -> str | None:
    """The settings file the hooks must be told about: any but `.config-audit.yaml` at the top
    of the work tree (the one a hook, run there by git, finds by itself)."""
    if settings.config_path is None:
        return None
    rel = gitrepo.repo_relative(settings.config_path, top)
    if rel is None:
        return str(settings.config_path.resolve())  # outside the repository: name it whole
    return None if rel == CONFIG_NAME else rel


def repo_pathspecs(settings: Settings, top: Path) -> tuple[str, ...]:
    """The shims' fast-path filter: the configured globs, relative to the repository root."""
    rel = gitrepo.repo_relative(settings.root, top) or "."
    prefix = "" if rel == "." else rel + "/"
    config = gitrepo.repo_relative(settings.config_path, top) if settings.config_path else None
    trust = [
        t
        for path in (
            settings.trusted_keys_path,
            settings.allowed_signers_path,
            settings.presidio.python,  # an interpreter kept in the repository decides validity
        )
        if path is not None and (t := gitrepo.repo_relative(path, top)) is not None
    ]
    return pathspecs_for(settings.recognizer_globs, prefix=prefix, config=config, trust=trust)
