"""`config-audit init`: a repository ready to audit in one command."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

import click

from config_audit.settings import CONFIG_NAME

TEMPLATE = """\
# presidio-config-audit settings (https://github.com/presidio-config-audit): commit this file.
# Which files are Presidio recognizer files (git-style globs, relative to this file).
recognizers:
  - "recognizers/**/*.yaml"
  - "recognizers/**/*.yml"
# Detection samples: texts each recognizer must (not) find; a change that breaks one is blocked.
# samples: recognizers/samples.yaml
# Force a format when detection is not enough: adhoc | registry | analyzer.
# formats: {{"conf/analyzer.yaml": analyzer}}

# Signing key of this machine's auditor (never commit it); CI uses $CONFIG_AUDIT_SIGNING_KEY.
signing_key: {key}
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


@click.command()
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Signing key to use or create (default: ~/.config/config-audit/signing-key.pem).",
)
@click.option("--no-hooks", is_flag=True, help="Do not install the git hooks.")
def init(key_path: Path | None, no_hooks: bool) -> None:
    """Set up this repository: settings, a signing key, trusted keys and the git hooks.

    Safe to run again: what exists is kept. Afterwards, commit .config-audit.yaml and
    .config-audit/trusted-keys.yaml; never commit the private key.

    \b
    Example:
      cd my-presidio-config && config-audit init && git add .config-audit*
    """
    from config_audit.errors import GitError
    from config_audit.git import repo as gitrepo
    from config_audit.ledger.keys import (
        add_trusted_key,
        generate_key,
        read_private_key_file,
        read_trusted_keys,
    )
    from config_audit.ledger.signing import Ed25519Signer, TrustedKey

    try:
        root = gitrepo.toplevel()
    except GitError:
        root, no_hooks = Path.cwd(), True
        click.echo("not a git repository: settings and key only, no hooks")
    key = (key_path or Path.home() / ".config" / "config-audit" / "signing-key.pem").expanduser()
    config = root / CONFIG_NAME
    if config.exists():
        click.echo(f"kept {config}")
    else:
        config.write_text(TEMPLATE.format(key=key), encoding="utf-8")
        click.echo(f"wrote {config}")
    owner = f"{getpass.getuser()}@{socket.gethostname()}"
    if key.exists():
        signer = Ed25519Signer.from_pem(read_private_key_file(key), origin=str(key))
        trusted = TrustedKey(signer.key_id, signer.public_key, owner)
        click.echo(f"kept signing key {key} (key id {signer.key_id})")
    else:
        generated = generate_key(key, owner=owner)
        trusted = generated.trusted
        click.echo(f"created signing key {key} (mode 0600, key id {generated.key_id})")
    trust_file = root / ".config-audit" / "trusted-keys.yaml"
    known = set(read_trusted_keys(trust_file).keys) if trust_file.exists() else set()
    if trusted.key_id in known:
        click.echo(f"kept {trust_file}")
    else:
        add_trusted_key(trust_file, trusted)
        click.echo(f"trusted the key in {trust_file}")
    if not no_hooks:
        from config_audit.commands.hook import repo_pathspecs
        from config_audit.git.hooks import install
        from config_audit.settings import load_settings

        pathspecs = repo_pathspecs(load_settings(config), root)
        for line in install(gitrepo.hooks_dir(root), pathspecs=pathspecs):
            click.echo(f"installed hook {line}")
    click.echo(
        "next: config-audit validate, then commit .config-audit.yaml and "
        ".config-audit/trusted-keys.yaml"
    )
