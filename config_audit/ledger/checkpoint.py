"""Signed tree heads in the C2SP tlog-checkpoint / signed-note format.

    <origin>\n<tree size>\n<base64 RFC 6962 root>\n\n— <key name> <base64(key hash || signature)>\n

The key hash is the first 4 bytes of sha256(name || "\n" || 0x01 || Ed25519 public key), as
C2SP signed-note defines for Ed25519. Checkpoints let `verify` catch a truncated log or a history
rewritten by someone holding the signing key, when kept where the log's writer cannot rewrite them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from config_audit.durable import write_atomic
from config_audit.errors import UsageError, VerificationError
from config_audit.ledger.signing import TrustedKeys

SIG_PREFIX = "— "  # em dash + space, as signed-note requires
NAME_PREFIX = "config-audit-"
SUFFIX = ".checkpoint"


class CheckpointInvalid(VerificationError):
    code = "checkpoint-invalid"


class NoteSigner(Protocol):
    key_id: str
    public_key: bytes

    def sign(self, payload: bytes) -> bytes: ...


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def note_text(self) -> bytes:
        """The signed body: origin, size and root, each ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n".encode()


def log_origin(first_record_hash: str) -> str:
    """Origin line naming one log: its first record's hash is unique to it."""
    return f"config-audit/log/{first_record_hash[:32]}"


def key_name(key_id: str) -> str:
    return NAME_PREFIX + key_id


def note_key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public_key).digest()[:4]


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note text of `checkpoint`."""
    name = key_name(signer.key_id)
    body = checkpoint.note_text()
    blob = note_key_hash(name, signer.public_key) + signer.sign(body)
    return (body + b"\n").decode(
        "utf-8"
    ) + f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def parse_checkpoint(text: str) -> tuple[Checkpoint, list[tuple[str, bytes]]]:
    """Pure: split a signed note into the checkpoint and its (key name, signature blob) lines."""

    def bad(why: str) -> CheckpointInvalid:
        return CheckpointInvalid(
            f"malformed checkpoint: {why}", advice="regenerate it with `config-audit checkpoint`"
        )

    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise bad("no blank line before the signatures")
    lines = body.split("\n")
    if len(lines) < 3:
        raise bad("expected origin, tree size and root hash lines")
    origin, size_text, root_text = lines[:3]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
        raise bad("bad origin or tree size line")
    try:
        root = base64.b64decode(root_text, validate=True)
        if base64.b64encode(root).decode("ascii") != root_text:  # one encoding only
            raise binascii.Error("non-canonical base64")
    except binascii.Error:
        raise bad("root hash is not base64") from None
    if len(root) != 32:
        raise bad("root hash is not 32 bytes")
    signatures: list[tuple[str, bytes]] = []
    for line in sigs.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise bad(f"not a signature line: {line[:40]!r}")
        name, _, blob_text = line[len(SIG_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(blob_text, validate=True)
            if base64.b64encode(blob).decode("ascii") != blob_text:
                raise binascii.Error("non-canonical base64")
        except binascii.Error:
            raise bad("signature is not base64") from None
        if len(blob) < 5:
            raise bad("signature too short")
        signatures.append((name, blob))
    return Checkpoint(origin=origin, size=int(size_text), root=root), signatures


def verify_checkpoint(text: str, trusted: TrustedKeys) -> Checkpoint:
    """Parse and verify; raise unless a trusted, unrevoked key signed it."""
    checkpoint, signatures = parse_checkpoint(text)
    body = text.partition("\n\n")[0].encode("utf-8") + b"\n"
    for name, blob in signatures:
        key = trusted.keys.get(name.removeprefix(NAME_PREFIX))
        if key is None or note_key_hash(name, key.public_key) != blob[:4]:
            continue  # signed-note: signatures by unknown keys are ignored
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(blob[4:], body)
        except InvalidSignature:
            raise CheckpointInvalid(
                f"checkpoint signature by {name} does not verify",
                advice="the checkpoint was altered; fetch it again from where it was published",
            ) from None
        if key.revoked_at is not None:
            raise CheckpointInvalid(
                f"checkpoint signed by revoked key {key.key_id}",
                advice="make a new checkpoint with a current key after verifying the log",
            )
        return checkpoint
    raise CheckpointInvalid(
        "checkpoint has no signature by a trusted key",
        advice="add the checkpoint signer's key to the trusted keys, or re-checkpoint",
    )


def checkpoint_path(log: Path) -> Path:
    return log.with_name(log.name + SUFFIX)


def read_checkpoint_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: checkpoint not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read checkpoint: {exc}") from None


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` so a reader sees the old or the new checkpoint, never half of one."""
    write_atomic(path, text.encode("utf-8"))
