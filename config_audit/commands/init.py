"""`config-audit init`: a repository ready to audit in one command."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from config_audit.settings import CONFIG_NAME, SIGNING_KEY_FILE_ENV, user_signing_key

if TYPE_CHECKING:
    from config_audit.ledger.signing import TrustedKey

DEFAULT_GLOBS = ("recognizers/**/*.yaml", "recognizers/**/*.yml")
MAX_CANDIDATE_BYTES = 1 << 20  # a Presidio config file is small; skip data dumps

TEMPLATE = """\
# presidio-config-audit settings (https://github.com/presidio-config-audit): commit this file.
# Which files are Presidio recognizer files (git-style globs, relative to this file).
{globs_comment}recognizers:
{globs}
# Detection samples: texts each recognizer must (not) find; a change that breaks one is blocked.
# samples: recognizers/samples.yaml
# Force a format when detection is not enough: adhoc | registry | analyzer.
# formats: {{"conf/analyzer.yaml": analyzer}}

# Signing key: each person's own, never committed and never named here. Looked up in
# $CONFIG_AUDIT_SIGNING_KEY_FILE, else ~/.config/config-audit/signing-key.pem
# (`config-audit keygen` makes one); CI puts the key's PEM in $CONFIG_AUDIT_SIGNING_KEY.
# Public keys allowed to sign records (commit this file).
trusted_keys: .config-audit/trusted-keys.yaml
# SSH allowed-signers for verifying signed commits (git's format).
# allowed_signers: .config-audit/allowed_signers

# Deny lists can hold personal data: records store salted hashes of their entries.
hash_deny_list: true

policy:
  people: {{}}          # name: [e-mail or signing principal, ...]
  teams: {{}}           # team: [person, ...]
  owners: {{}}          # "NW_*": [team or person]   (recognizer or entity globs)
  protected_entities: []
  weakening_protected: owner-signed   # owner-signed | owner | forbid | allow
  forbid_removing_protected: true
  # min_score: 0.3

alerts:
  channels:
    - {{type: log}}
"""


def find_presidio_files(directory: Path) -> list[str]:
    """Presidio recognizer, registry and analyzer files under `directory`, found by content
    (any folder name), as paths relative to it: git's tracked and untracked-but-not-ignored
    files inside a repository, every file outside one."""
    from config_audit.errors import ConfigAuditError, GitError
    from config_audit.git import repo as gitrepo
    from config_audit.recognizers.parse import parse_bytes

    try:
        # Every file, filtered here: `:(icase)` pathspecs miss untracked files in a subdirectory.
        out = gitrepo.run_git(
            ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=directory
        )
        names = sorted(
            {
                n
                for n in out.decode("utf-8", "replace").split("\0")
                if n.lower().endswith((".yaml", ".yml"))
            }
        )
    except GitError:
        names = sorted(
            str(p.relative_to(directory))
            for p in directory.rglob("*")
            if p.suffix.lower() in (".yaml", ".yml") and ".git" not in p.parts
        )
    found = []
    for name in names:
        path = directory / name
        if path.name in (CONFIG_NAME, ".pre-commit-config.yaml", ".pre-commit-hooks.yaml"):
            continue
        try:
            if not path.is_file() or path.stat().st_size > MAX_CANDIDATE_BYTES:
                continue
            parse_bytes(path.read_bytes(), path=name)
        except (OSError, ConfigAuditError):
            continue  # not YAML, or not a Presidio file: not ours to audit
        found.append(name)
    return found


def propose_globs(files: Sequence[str], directory: Path) -> list[str]:
    """Globs for the files found: `dir/*.yaml` where every YAML file of that folder is a
    Presidio file, else the files by name (a folder may hold other YAML too)."""
    found = set(files)
    by_dir: dict[str, list[str]] = {}
    for name in files:
        by_dir.setdefault(os.path.dirname(name), []).append(name)
    globs: list[str] = []
    for folder, names in sorted(by_dir.items()):
        siblings = [
            str(p.relative_to(directory)) for p in (directory / folder).iterdir()
            if p.is_file() and p.suffix.lower() in (".yaml", ".yml") and p.name != CONFIG_NAME
        ]  # fmt: skip
        if all(s in found for s in siblings):
            exts = sorted({os.path.splitext(n)[1] for n in names})
            globs += [f"{folder}/*{ext}" if folder else f"*{ext}" for ext in exts]
        else:
            globs += sorted(names)
    return globs


def settings_text(globs: Sequence[str]) -> str:
    comment = (
        "" if globs else "# No Presidio file found by content yet: the defaults below; edit them.\n"
    )
    listed = "\n".join(f'  - "{g}"' for g in (globs or DEFAULT_GLOBS))
    return TEMPLATE.format(globs_comment=comment, globs=listed)


@click.command()
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Signing key to use or create (default: $CONFIG_AUDIT_SIGNING_KEY_FILE, else "
    "~/.config/config-audit/signing-key.pem). Never named in the settings.",
)
@click.option("--no-hooks", is_flag=True, help="Do not install the git hooks.")
def init(key_path: Path | None, no_hooks: bool) -> None:
    """Set up this directory: settings, your signing key, trusted keys and the git hooks.

    The settings file goes in the current directory (a monorepo's subdirectory works: the
    hooks are told where it is). Presidio files are found by their content, anywhere below,
    and the recognizer globs proposed from them. The signing key stays outside the
    repository. Safe to run again: what exists is kept.

    \b
    Example:
      cd my-presidio-config && config-audit init
    """
    from config_audit.errors import GitError
    from config_audit.git import repo as gitrepo

    here = Path.cwd()
    top: Path | None
    try:
        top = gitrepo.toplevel()
    except GitError:
        top, no_hooks = None, True
        click.echo("not a git repository: settings and key only, no hooks")
    config = _settings_file(here, top)
    trusted = _signing_key(key_path, top)
    trust_file = _trust(config.parent, trusted)
    if not no_hooks and top is not None:
        _hooks(config, top)
    _next_steps(config, trust_file, here)


def _settings_file(here: Path, top: Path | None) -> Path:
    """The settings in force here (kept), or new ones with globs proposed from the files found."""
    from config_audit.settings import find_config

    existing = find_config(here)
    if existing is not None and (top is None or existing.resolve().is_relative_to(top)):
        click.echo(f"kept {existing}")
        return existing
    config = here / CONFIG_NAME
    files = find_presidio_files(here)
    globs = propose_globs(files, here)
    config.write_text(settings_text(globs), encoding="utf-8")
    click.echo(f"wrote {config}")
    if files:
        click.echo(f"found {len(files)} Presidio file(s) by content; recognizer globs:")
        for glob in globs:
            click.echo(f"  {glob}")
    else:
        click.echo(
            "found no Presidio file (by content) yet: the recognizer globs are the "
            f"defaults {list(DEFAULT_GLOBS)}; edit 'recognizers:' in {config.name}"
        )
    return config


def _signing_key(key_path: Path | None, top: Path | None) -> TrustedKey:
    """This person's key, outside the repository: kept when it exists, else created (0600)."""
    from config_audit.ledger.keys import generate_key, read_private_key_file
    from config_audit.ledger.signing import Ed25519Signer, TrustedKey

    key = (key_path or user_signing_key(os.environ)).expanduser()
    owner = f"{getpass.getuser()}@{socket.gethostname()}"
    if key.exists():
        signer = Ed25519Signer.from_pem(read_private_key_file(key), origin=str(key))
        trusted = TrustedKey(signer.key_id, signer.public_key, owner)
        click.echo(f"kept signing key {key} (key id {signer.key_id})")
    else:
        generated = generate_key(key, owner=owner)
        trusted = generated.trusted
        click.echo(f"created signing key {key} (mode 0600, key id {generated.key_id})")
    if key.resolve() != user_signing_key(os.environ).resolve():
        click.echo(
            f"note: {key} is not where config-audit looks for your key: "
            f"export {SIGNING_KEY_FILE_ENV}={key}"
        )
    if top is not None and key.resolve().is_relative_to(top):
        click.echo(f"warning: the private key {key} is inside the repository: never commit it")
    return trusted


def _trust(root: Path, trusted: TrustedKey) -> Path:
    """The key in the committed trusted-keys file beside the settings."""
    from config_audit.ledger.keys import add_trusted_key, read_trusted_keys

    trust_file = root / ".config-audit" / "trusted-keys.yaml"
    known = set(read_trusted_keys(trust_file).keys) if trust_file.exists() else set()
    if trusted.key_id in known:
        click.echo(f"kept {trust_file}")
    else:
        add_trusted_key(trust_file, trusted)
        click.echo(f"trusted the key in {trust_file}")
    return trust_file


def _hooks(config: Path, top: Path) -> None:
    from config_audit.commands.hook import hook_config, repo_pathspecs
    from config_audit.git import repo as gitrepo
    from config_audit.git.hooks import install
    from config_audit.settings import load_settings

    settings = load_settings(config)
    pathspecs = repo_pathspecs(settings, top)
    hooks_dir = gitrepo.hooks_dir(top)
    for line in install(hooks_dir, pathspecs=pathspecs, config=hook_config(settings, top)):
        click.echo(f"installed hook {line}")


def _next_steps(config: Path, trust_file: Path, here: Path) -> None:
    shown = os.path.relpath(config, here)
    trust_shown = os.path.relpath(trust_file, here)
    click.echo("next steps:")
    click.echo(f"  1. config-audit validate          # check the files {shown} names")
    click.echo(f"  2. git add {shown} {trust_shown} && git commit -m 'Audit Presidio config'")
    click.echo(
        "  3. git push (the pre-push hook sends the records' notes); in CI run "
        "`config-audit ci --base <before>` after "
        "`git fetch origin 'refs/notes/config-audit*:refs/notes/config-audit*'`"
    )
