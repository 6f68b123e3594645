"""Object storage for sealed segments: the one module that talks to boto3 (S3 and S3-compatible).

Credentials come only from boto3's standard chain (environment, shared config, instance or
container role); the settings name the bucket, the endpoint and the lock, never a secret.
Every put sends its SHA-256 so the store rejects a corrupted body, and is read back by checksum.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from botocore.config import Config

from config_audit.errors import ConfigAuditError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")
SSE_MODES = ("AES256", "aws:kms")
_MISSING = {"404", "NoSuchKey", "NoSuchVersion", "NotFound", "MethodNotAllowed"}


class RemoteError(ConfigAuditError):
    """The object store cannot be reached or refused an operation (exit 1: nothing was lost)."""

    exit_code = 1


@dataclass(frozen=True)
class RemoteTarget:
    """`s3://bucket/prefix`: where one log's segments live."""

    bucket: str
    prefix: str  # "" or ends with "/"

    @classmethod
    def parse(cls, url: str) -> RemoteTarget:
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise UsageError(f"{url!r}: not an s3://bucket/prefix URL")
        bucket, _, prefix = url[5:].partition("/")
        prefix = prefix.strip("/")
        return cls(bucket, prefix + "/" if prefix else "")

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        return self.prefix + name


@dataclass(frozen=True)
class Lock:
    mode: str  # COMPLIANCE | GOVERNANCE
    retain_until: datetime


@dataclass(frozen=True)
class StoredObject:
    """What the store says about one object version."""

    key: str
    version_id: str | None
    size: int
    sha256: str | None  # hex, when the store keeps checksums
    lock: Lock | None
    sse: str | None


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """One bucket and prefix, through boto3. Methods raise `RemoteError`, never botocore's."""

    def __init__(
        self,
        target: RemoteTarget,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 60.0,
        attempts: int = 3,
    ) -> None:
        self.target = target
        config = Config(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": attempts, "mode": "standard"},
        )
        self._client: S3Client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def _fail(self, what: str, exc: Exception) -> RemoteError:
        detail = _code(exc) if isinstance(exc, botocore.exceptions.ClientError) else ""
        advice = "check the endpoint, the network and the AWS credentials (standard chain)"
        if detail == "AccessDenied":
            advice = "the store refused: credentials lack permission, or Object Lock forbids it"
        elif detail in ("InvalidRequest", "InvalidBucketState"):
            advice = "Object Lock needs a bucket created with Object Lock enabled (and versioning)"
        return RemoteError(f"{self.target.url}: {what} failed: {exc}", advice=advice)

    def put(self, name: str, data: bytes, *, lock: Lock | None, sse: str | None = None,
            kms_key_id: str | None = None) -> StoredObject:  # fmt: skip
        """Upload one object; the store checks its SHA-256; return the new version."""
        extra: dict[str, Any] = {}
        if lock is not None:
            extra["ObjectLockMode"] = lock.mode
            extra["ObjectLockRetainUntilDate"] = lock.retain_until
        if sse is not None:
            extra["ServerSideEncryption"] = sse
            if kms_key_id:
                extra["SSEKMSKeyId"] = kms_key_id
        try:
            out = self._client.put_object(
                Bucket=self.target.bucket,
                Key=self.target.key(name),
                Body=data,
                ChecksumSHA256=sha256_b64(data),
                **extra,
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail(f"upload of {name}", exc) from None
        version = out.get("VersionId")
        return StoredObject(
            self.target.key(name), version, len(data), hashlib.sha256(data).hexdigest(), lock, sse
        )

    def head(self, name: str, version_id: str | None = None) -> StoredObject | None:
        """The object's current (or given) version; None when absent or deleted."""
        args: dict[str, Any] = {"Bucket": self.target.bucket, "Key": self.target.key(name)}
        if version_id:
            args["VersionId"] = version_id
        try:
            out = self._client.head_object(ChecksumMode="ENABLED", **args)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._fail(f"reading {name}", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._fail(f"reading {name}", exc) from None
        checksum = out.get("ChecksumSHA256")
        mode, until = out.get("ObjectLockMode"), out.get("ObjectLockRetainUntilDate")
        return StoredObject(
            self.target.key(name),
            out.get("VersionId"),
            int(out.get("ContentLength", 0)),
            base64.b64decode(checksum).hex() if checksum and "-" not in checksum else None,
            Lock(str(mode), until) if mode and until else None,
            out.get("ServerSideEncryption"),
        )

    def get(self, name: str, version_id: str | None = None) -> bytes | None:
        """The object's bytes; None when absent or deleted."""
        args: dict[str, Any] = {"Bucket": self.target.bucket, "Key": self.target.key(name)}
        if version_id:
            args["VersionId"] = version_id
        try:
            return self._client.get_object(**args)["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._fail(f"download of {name}", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._fail(f"download of {name}", exc) from None

    def names(self) -> list[str]:
        """Names (relative to the prefix) of the objects currently present, sorted."""
        out: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.target.bucket, Prefix=self.target.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = str(item.get("Key", ""))
                    rest = key[len(self.target.prefix) :]
                    if rest and "/" not in rest:
                        out.append(rest)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail("listing", exc) from None
        return sorted(out)
