"""Ed25519 signing behind a one-method `Signer`, key ids, and trusted-key sets with windows.

Verification raises a `VerificationError` subclass; it never returns a bool to forget.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from config_audit.errors import SigningKeyError, VerificationError
from config_audit.ledger.records import parse_time, signing_payload
from config_audit.settings import SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV, user_signing_key

logger = logging.getLogger(__name__)


class SignatureMissing(VerificationError):
    code = "signature-missing"


class SignatureInvalid(VerificationError):
    code = "signature-invalid"


class UnknownKey(VerificationError):
    code = "unknown-key"


class KeyNotValid(VerificationError):
    """Signed outside the key's valid_from / valid_until window."""

    code = "key-not-valid"


class KeyRevoked(VerificationError):
    code = "key-revoked"


def key_id_for(public_raw: bytes) -> str:
    """Key id: hex of the first 16 bytes of sha256 over the raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


class Signer(Protocol):
    key_id: str
    public_key: bytes  # raw; checkpoints name the key by a hash of it

    def sign(self, payload: bytes) -> bytes: ...


class Ed25519Signer:
    """A `Signer` holding an Ed25519 private key in memory; never serializes it."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key: bytes = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id: str = key_id_for(self.public_key)

    @classmethod
    def from_pem(cls, pem: bytes, *, origin: str) -> Ed25519Signer:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            # Never echo the PEM: only where it came from.
            raise SigningKeyError(
                f"{origin}: not an unencrypted PKCS#8 PEM private key ({type(exc).__name__})",
                advice="create one with `config-audit keygen`",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(
                f"{origin}: not an Ed25519 key", advice="use `config-audit keygen`"
            )
        return cls(key)

    def sign(self, payload: bytes) -> bytes:
        return self._key.sign(payload)

    def __repr__(self) -> str:  # keep key material out of tracebacks and logs
        return f"Ed25519Signer(key_id={self.key_id!r})"


def load_signer(*, path: Path | None, environ: Mapping[str, str]) -> Ed25519Signer:
    """The signing key from $CONFIG_AUDIT_SIGNING_KEY (CI), else from `path` (mode 0600),
    else this person's key outside the repository (`user_signing_key`), if it exists."""
    from config_audit.ledger.keys import read_private_key_file  # keys imports this module

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


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public_key: bytes  # raw 32 bytes
    owner: str
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked_at: datetime | None = None

    def check_time(self, moment: datetime) -> None:
        """Raise unless a signature made at `moment` is inside this key's window."""
        if self.revoked_at is not None and moment >= self.revoked_at:
            raise KeyRevoked(
                f"key {self.key_id} ({self.owner}) was revoked at {self.revoked_at.isoformat()}",
                advice="treat records signed after revocation as forged; investigate the key",
            )
        if (self.valid_from is not None and moment < self.valid_from) or (
            self.valid_until is not None and moment >= self.valid_until
        ):
            raise KeyNotValid(
                f"key {self.key_id} ({self.owner}) is valid "
                f"{_fmt(self.valid_from)} .. {_fmt(self.valid_until)}, not at {moment.isoformat()}",
                advice="the record was signed outside the key's window: check the trusted-keys file",
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "algorithm": "ed25519",
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "owner": self.owner,
            "valid_from": _fmt(self.valid_from) if self.valid_from else None,
            "valid_until": _fmt(self.valid_until) if self.valid_until else None,
            "revoked_at": _fmt(self.revoked_at) if self.revoked_at else None,
        }


def _fmt(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


class TrustedKeys:
    """The set of public keys whose signatures `verify` accepts, each with a validity window."""

    def __init__(self, keys: Iterable[TrustedKey]) -> None:
        self.keys: dict[str, TrustedKey] = {k.key_id: k for k in keys}
        self._public: dict[str, Ed25519PublicKey] = {
            k.key_id: Ed25519PublicKey.from_public_bytes(k.public_key) for k in self.keys.values()
        }

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key_id: str) -> TrustedKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKey(
                f"key {key_id!r} is not in the trusted keys",
                advice="if the key is legitimate, add its entry (from `config-audit keygen`) "
                "to the trusted-keys file; otherwise the record was forged",
            ) from None

    def verify_signature(self, key_id: str, payload: bytes, signature_b64: str) -> None:
        """Raise unless `signature_b64` is a valid signature of `key_id` over `payload`."""
        public = self._public.get(key_id)
        if public is None:
            self.get(key_id)  # raises UnknownKey
            raise AssertionError("unreachable")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
            # Only the canonical encoding is accepted: base64's unused padding bits could
            # otherwise be flipped without changing the decoded signature (a silent edit).
            if base64.b64encode(signature).decode("ascii") != signature_b64:
                raise ValueError("non-canonical base64")
            public.verify(signature, payload)
        except (InvalidSignature, binascii.Error, ValueError):
            raise SignatureInvalid(
                f"signature by key {key_id} does not match the signed content",
                advice="the record or its signature was altered after signing",
            ) from None

    def verify(self, record: Mapping[str, Any]) -> None:
        """Raise a `VerificationError` subclass unless `record` is validly signed in-window."""
        signature = record.get("signature")
        if not isinstance(signature, str) or not signature:
            raise SignatureMissing("record has no signature", advice="the signature was stripped")
        key_id = record.get("key_id")
        if not isinstance(key_id, str):
            raise UnknownKey("record names no key", advice="the record was forged or edited")
        key = self.get(key_id)
        self.verify_signature(key_id, signing_payload(record), signature)
        try:
            moment = parse_time(str(record.get("time")))
        except ValueError:
            raise KeyNotValid(
                "record time is unreadable", advice="the record is malformed"
            ) from None
        key.check_time(moment)
