"""Key files: generate Ed25519 key pairs, guard private-key permissions, read/write trusted keys."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config_audit.durable import write_atomic
from config_audit.errors import SigningKeyError, UsageError
from config_audit.ledger.signing import Ed25519Signer, TrustedKey, TrustedKeys, key_id_for
from config_audit.settings import SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV, user_signing_key
from config_audit.times import parse_setting_time

logger = logging.getLogger(__name__)

TRUSTED_KEYS_HEADER = (
    "# Trusted public keys for `config-audit verify`. Commit this file.\n"
    "# Rotate by setting valid_until on the old key and adding the new one;\n"
    "# set revoked_at only when a key is compromised.\n"
)


@dataclass(frozen=True)
class GeneratedKey:
    path: Path
    key_id: str
    trusted: TrustedKey


def check_private_key_permissions(path: Path) -> None:
    """Refuse a private key file that group or others can read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SigningKeyError(
            f"{path}: signing key not found", advice="create one with `config-audit keygen`"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"{path}: private key is accessible by group or others (mode {stat.S_IMODE(mode):04o})",
            advice=f"run `chmod 600 {path}`; if others may have read it, rotate the key",
        )


def read_private_key_file(path: Path) -> bytes:
    check_private_key_permissions(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read signing key: {exc.strerror}") from None


def generate_key(out: Path, *, owner: str, now: datetime | None = None) -> GeneratedKey:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600); never overwrite a file."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL + mode at creation: the key is never readable by others, not even briefly.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{out}: already exists", advice="choose another --out path") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(out, 0o600)  # umask cannot widen it, but be explicit
    signer = Ed25519Signer(private)
    trusted = TrustedKey(
        key_id=signer.key_id,
        public_key=signer.public_key,
        owner=owner,
        valid_from=(now or datetime.now(UTC)).replace(microsecond=0),
    )
    return GeneratedKey(path=out, key_id=signer.key_id, trusted=trusted)


def parse_trusted_keys(raw: Any, *, where: str) -> TrustedKeys:
    """Pure: loaded YAML to `TrustedKeys`; any malformed entry is an error (fail closed)."""
    entries = raw.get("keys") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{where}: expected a mapping with a 'keys' list")
    keys: list[TrustedKey] = []
    for n, entry in enumerate(entries, 1):
        at = f"{where}: keys[{n}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{at}: must be a mapping")
        try:
            public = base64.b64decode(str(entry.get("public_key", "")), validate=True)
        except binascii.Error:
            raise UsageError(f"{at}: public_key is not base64") from None
        if len(public) != 32 or entry.get("algorithm", "ed25519") != "ed25519":
            raise UsageError(f"{at}: public_key must be a raw 32-byte Ed25519 key in base64")
        key_id = key_id_for(public)
        if any(k.key_id == key_id for k in keys):
            # A second entry could silently undo the first one's revocation: refuse it.
            raise UsageError(
                f"{at}: key {key_id} is listed twice",
                advice="keep one entry per key; a revoked key stays revoked",
            )
        if entry.get("key_id") not in (None, key_id):
            raise UsageError(
                f"{at}: key_id {entry.get('key_id')!r} does not match the public key ({key_id})"
            )
        keys.append(
            TrustedKey(
                key_id=key_id,
                public_key=public,
                owner=str(entry.get("owner") or ""),
                valid_from=parse_setting_time(entry.get("valid_from"), f"{at}.valid_from"),
                valid_until=parse_setting_time(entry.get("valid_until"), f"{at}.valid_until"),
                revoked_at=parse_setting_time(entry.get("revoked_at"), f"{at}.revoked_at"),
            )
        )
    return TrustedKeys(keys)


def read_trusted_keys(path: Path) -> TrustedKeys:
    """Read the trusted-keys file; missing, unreadable or empty is an error (fail closed)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: trusted-keys file not found",
            advice="pass --trusted-keys, or add the entry printed by `config-audit keygen`",
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read trusted keys: {exc}") from None
    trusted = parse_trusted_keys(raw or {"keys": []}, where=str(path))
    if not len(trusted):
        raise UsageError(
            f"{path}: no trusted keys: nothing can be verified",
            advice="add the entry printed by `config-audit keygen` to this file",
        )
    return trusted


def trusted_entry_yaml(key: TrustedKey) -> str:
    """The YAML list item to paste under `keys:` in the trusted-keys file."""
    text: str = yaml.safe_dump([key.to_dict()], sort_keys=False, default_flow_style=False)
    return text


def add_trusted_key(path: Path, key: TrustedKey) -> None:
    """Append `key` to the trusted-keys file, creating it if needed (atomic replace)."""
    entries: list[Any] = []
    if path.exists():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {"keys": []}
        parse_trusted_keys(raw, where=str(path))  # refuse to extend a broken file
        entries = list(raw["keys"])
    entries.append(key.to_dict())
    path.parent.mkdir(parents=True, exist_ok=True)
    text = TRUSTED_KEYS_HEADER + yaml.safe_dump({"keys": entries}, sort_keys=False)
    write_atomic(path, text.encode("utf-8"))


def load_signer(*, path: Path | None, environ: Mapping[str, str]) -> Ed25519Signer:
    """The signing key from $CONFIG_AUDIT_SIGNING_KEY (CI), else from `path` (mode 0600),
    else this person's key outside the repository (`user_signing_key`), if it exists."""
    pem = environ.get(SIGNING_KEY_ENV)
    if pem:
        logger.info("signing key from $%s", SIGNING_KEY_ENV)
        return Ed25519Signer.from_pem(pem.encode("utf-8"), origin=f"${SIGNING_KEY_ENV}")
    if path is None:
        mine = user_signing_key(environ)
        if not mine.is_file():
            raise SigningKeyError(
                "no signing key configured",
                advice=f"create yours with `config-audit keygen` (written to {mine}; "
                f"${SIGNING_KEY_FILE_ENV} names another file), or set ${SIGNING_KEY_ENV} to "
                "the key's PEM in CI",
            )
        path = mine
    return Ed25519Signer.from_pem(read_private_key_file(path), origin=str(path))
