"""`config-audit keygen`: a new Ed25519 signing key and its trusted-keys entry."""

from __future__ import annotations

import os
from pathlib import Path

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import default_owner
from config_audit.ledger.keys import add_trusted_key, generate_key, trusted_entry_yaml
from config_audit.settings import user_signing_key


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file to create, mode 0600 (default: 'signing_key' setting "
    "or ~/.config/config-audit/signing-key.pem). Never overwritten.",
)
@click.option("--owner", default=None, help="Who holds the key (default: user@host).")
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also add the public key to this trusted-keys file.",
)
@config_option
def keygen(
    out: Path | None, owner: str | None, trust: Path | None, config_path: Path | None
) -> None:
    """Create an Ed25519 key pair for signing change records.

    Prints the key id and the entry to add under `keys:` in the trusted-keys file.
    For CI, store the private key's PEM in $CONFIG_AUDIT_SIGNING_KEY instead of a file.

    \b
    Example:
      config-audit keygen --out ~/.config/config-audit/ci.pem --owner ci@example.com
    """
    settings = settings_from(config_path)
    path = out or settings.signing_key_path or user_signing_key(os.environ)
    key = generate_key(path, owner=owner or default_owner())
    if trust is not None:
        add_trusted_key(trust, key.trusted)
    click.echo(f"key id: {key.key_id}")
    click.echo(f"private key: {path} (mode 0600; never commit it)")
    if trust is not None:
        click.echo(f"added to trusted keys: {trust}")
    click.echo("trusted-keys entry (paste under `keys:`):")
    click.echo(trusted_entry_yaml(key.trusted), nl=False)
