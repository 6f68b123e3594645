"""Retention in object storage, against a real SeaweedFS S3 store driven by the real boto3:
upload under Object Lock, resume after the store stops mid-upload, a segment altered or deleted
remotely (and the lock refusing the delete), prune then verify."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from s3store import WeedServer, client_env
from test_export_support import T0, fixed_signer, make_log, simple_bodies

from config_audit.cli import cli
from config_audit.errors import ConfigAuditError
from config_audit.ledger.archive import archive_before, archive_dir, segment_paths
from config_audit.ledger.entries import read_entries
from config_audit.ledger.upload import RemoteSettings, read_state, upload_segments


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    server = WeedServer(tmp_path_factory.mktemp("weed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in client_env().items():
        monkeypatch.setenv(key, value)


def _bucket(weed: WeedServer) -> str:
    return weed.make_bucket(f"evidence-{uuid.uuid4().hex[:12]}")


def _sealed_log(tmp_path: Path, *, segments: int = 3, per: int = 10) -> Path:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(segments * per + 5), signer)  # one per minute from T0
    for k in range(1, segments + 1):
        assert archive_before(log, T0 + timedelta(minutes=k * per), signer)
    return log


def _remote(weed: WeedServer, bucket: str, **extra: Any) -> RemoteSettings:
    raw = {"url": f"s3://{bucket}/logs/a", "endpoint_url": weed.endpoint, **extra}
    return RemoteSettings.parse({"remote": raw})


LOCKED = {"lock_mode": "compliance", "lock_days": 1}


def test_upload_stores_every_segment_locked_and_checked(tmp_path: Path, weed: WeedServer) -> None:
    log = _sealed_log(tmp_path)
    bucket = _bucket(weed)
    result = upload_segments(log, _remote(weed, bucket, sse="AES256", **LOCKED))
    assert len(result.uploaded) == 3 and result.already == ()
    client = weed.client()
    for segment in segment_paths(archive_dir(log)):
        stem = segment.name[: -len(".jsonl.gz")]
        for suffix in (".jsonl.gz", ".checkpoint", ".manifest.json"):
            key = f"logs/a/{stem}{suffix}"
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert body == (segment.parent / (stem + suffix)).read_bytes()
            retention = client.get_object_retention(Bucket=bucket, Key=key)["Retention"]
            assert retention["Mode"] == "COMPLIANCE"
            assert client.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"] == "AES256"
    state = read_state(log)
    assert sorted(state["segments"]) == [p.name for p in segment_paths(archive_dir(log))]
    # Idempotent: a second run sends nothing.
    again = upload_segments(log, _remote(weed, bucket, **LOCKED))
    assert again.uploaded == () and len(again.already) == 3


def test_compliance_lock_refuses_deleting_an_uploaded_segment(
    tmp_path: Path, weed: WeedServer
) -> None:
    log = _sealed_log(tmp_path, segments=1)
    bucket = _bucket(weed)
    upload_segments(log, _remote(weed, bucket, **LOCKED))
    client = weed.client()
    key = "logs/a/" + segment_paths(archive_dir(log))[0].name
    version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
    with pytest.raises(ClientError) as refused:
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_store_stopped_mid_upload_then_resumed(tmp_path: Path) -> None:
    # Its own server: this test stops and restarts it.
    server = WeedServer(tmp_path / "weed")
    server.start()
    try:
        (tmp_path / "log").mkdir()
        log = _sealed_log(tmp_path / "log", segments=3)
        bucket = server.make_bucket("resume-test")
        remote = _remote(server, bucket, **LOCKED)
        sent: list[str] = []

        def stop_after_first_segment_data(name: str) -> None:
            sent.append(name)
            if len(sent) == 4:  # segment 1 complete, segment 2's data stored, its manifest not
                server.stop()

        with pytest.raises(ConfigAuditError) as failed:
            upload_segments(log, remote, store=None, progress=stop_after_first_segment_data)
        assert "failed" in str(failed.value)
        state = read_state(log)
        names = [p.name for p in segment_paths(archive_dir(log))]
        assert list(state["segments"]) == names[:1]  # the half-sent segment is not recorded
        server.start()
        result = upload_segments(log, remote)
        assert list(result.uploaded) == names[1:] and list(result.already) == names[:1]
        client = server.client()
        # The segment whose data had arrived was not sent twice: one version only.
        versions = client.list_object_versions(Bucket=bucket, Prefix=f"logs/a/{names[1]}")
        assert len(versions.get("Versions", [])) == 1
        assert sorted(read_state(log)["segments"]) == names
    finally:
        server.stop()


def _config(tmp_path: Path, log: Path, remote: dict[str, Any], **retention: Any) -> Path:
    from config_audit.ledger.keys import add_trusted_key, generate_key
    from config_audit.ledger.signing import TrustedKey

    signer = fixed_signer()
    trusted = tmp_path / "trusted.yaml"
    trusted.unlink(missing_ok=True)
    add_trusted_key(trusted, TrustedKey(signer.key_id, signer.public_key, "tests"))
    key = tmp_path / "key.pem"
    if not key.exists():
        generate_key(key, owner="t")
    config = tmp_path / ".config-audit.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "log": str(log),
                "signing_key": "key.pem",
                "trusted_keys": "trusted.yaml",
                "retention": {"remote": remote, **retention},
            }
        )
    )
    return config


def test_cli_archive_to_s3(tmp_path: Path, weed: WeedServer) -> None:
    log = _sealed_log(tmp_path, segments=2)
    bucket = _bucket(weed)
    config = _config(tmp_path, log, {"endpoint_url": weed.endpoint, **LOCKED})
    url = f"s3://{bucket}/x"
    result = CliRunner().invoke(cli, ["archive", "--to", url, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 segment(s) uploaded, 0 already there, locked compliance 1d" in result.output
    state = json.loads((archive_dir(log) / "remote.json").read_text())
    assert {s["url"] for s in state["segments"].values()} == {url + "/"}


def _verify(config: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["verify", "--remote", "--format", "json", "--config", str(config), *extra]
    )
    assert result.exit_code in (0, 1), result.output
    assert result.stdout, (result.output, result.exception)
    return result.exit_code, json.loads(result.stdout)


def _uploaded(tmp_path: Path, weed: WeedServer, **lock: Any) -> tuple[Path, Path, str]:
    log = _sealed_log(tmp_path, segments=3)
    bucket = _bucket(weed)
    remote = {"url": f"s3://{bucket}/logs/a", "endpoint_url": weed.endpoint, **lock}
    config = _config(tmp_path, log, remote)
    upload_segments(log, RemoteSettings.parse({"remote": remote}))
    return log, config, bucket


def test_verify_reads_the_store_and_finds_it_intact(tmp_path: Path, weed: WeedServer) -> None:
    _, config, _ = _uploaded(tmp_path, weed, **LOCKED)
    code, out = _verify(config)
    assert code == 0 and out["findings"] == [], out
    assert out["remote"]["segments"] == 3 and out["lines"] == 35


def test_verify_reports_a_segment_deleted_or_altered_remotely(
    tmp_path: Path, weed: WeedServer
) -> None:
    log, config, bucket = _uploaded(tmp_path, weed, **LOCKED)
    client = weed.client()
    first, second, third = (p.name for p in segment_paths(archive_dir(log)))
    # Deleting without a version id is allowed under the lock: it only adds a delete marker.
    client.delete_object(Bucket=bucket, Key=f"logs/a/{first}")
    # Overwriting adds a new, unlocked version with other bytes.
    client.put_object(Bucket=bucket, Key=f"logs/a/{second}", Body=b"not the segment")
    # A validly signed checkpoint, but another segment's: it covers 10 records, not 30.
    first_cp = (archive_dir(log) / first.replace(".jsonl.gz", ".checkpoint")).read_bytes()
    client.put_object(
        Bucket=bucket, Key=f"logs/a/{third.replace('.jsonl.gz', '.checkpoint')}", Body=first_cp
    )
    code, out = _verify(config)
    assert code == 1
    found = {(f["code"], f["first_seq"]) for f in out["findings"]}
    assert found == {("remote-missing", 1), ("remote-altered", 11), ("remote-altered", 21)}, out[
        "findings"
    ]


def test_verify_reports_a_segment_without_its_lock(tmp_path: Path, weed: WeedServer) -> None:
    log, _, bucket = _uploaded(tmp_path, weed)  # uploaded with no lock
    remote = {"url": f"s3://{bucket}/logs/a", "endpoint_url": weed.endpoint, **LOCKED}
    config = _config(tmp_path, log, remote)  # ...but the settings require one
    code, out = _verify(config)
    assert code == 1
    assert {f["code"] for f in out["findings"]} == {"remote-unlocked"}
    assert len(out["findings"]) == 3


def _run(config: Path, *args: str) -> Any:
    from test_prune import signer_env

    return CliRunner(env=signer_env()).invoke(cli, [*args, "--config", str(config)])


def test_prune_once_confirmed_remote_then_verify_local_and_remote(
    tmp_path: Path, weed: WeedServer
) -> None:
    log, config, _ = _uploaded(tmp_path, weed, **LOCKED)
    retention = yaml.safe_load(config.read_text())["retention"]
    config.write_text(
        yaml.safe_dump(
            {**yaml.safe_load(config.read_text()), "retention": {**retention, "keep_days": 30}}
        )
    )
    assert _run(config, "checkpoint").exit_code == 0
    result = _run(config, "prune")
    assert result.exit_code == 0, result.output
    assert "pruned seq 1..20 (2 segment(s))" in result.output
    assert len(segment_paths(archive_dir(log))) == 1
    local = _run(config, "verify")
    assert local.exit_code == 0, local.output
    assert "verified from seq 21" in local.output and "confirmed in s3://" in local.output
    code, out = _verify(config)  # the pruned segments are read back from the store
    assert code == 0 and out["findings"] == [] and out["first_seq"] == 1, out
    assert out["lines"] == 36 and out["remote"]["segments"] == 3


def test_prune_refuses_a_segment_missing_remotely(tmp_path: Path, weed: WeedServer) -> None:
    log, config, bucket = _uploaded(tmp_path, weed, **LOCKED)
    retention = yaml.safe_load(config.read_text())["retention"]
    config.write_text(
        yaml.safe_dump(
            {**yaml.safe_load(config.read_text()), "retention": {**retention, "keep_days": 30}}
        )
    )
    first = segment_paths(archive_dir(log))[0].name
    weed.client().delete_object(Bucket=bucket, Key=f"logs/a/{first}")  # a delete marker
    result = _run(config, "prune")
    assert isinstance(result.exception, ConfigAuditError), result.output
    assert "not confirmed in object storage; nothing pruned" in str(result.exception)
    assert len(segment_paths(archive_dir(log))) == 3
    assert list(read_entries(log))[-1].record["source"] != "prune"


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from config_audit.ledger.upload import RemoteSettings, upload_segments
remote = RemoteSettings.parse({"remote": {"url": sys.argv[2], "endpoint_url": sys.argv[3],
                                          "lock_mode": "compliance", "lock_days": 1}})
sent = []
def die(name):
    sent.append(name)
    if len(sent) == 5:  # segment 1 done; segment 2's data and checkpoint stored, manifest not
        os.kill(os.getpid(), signal.SIGKILL)
upload_segments(Path(sys.argv[1]), remote, progress=die)
"""


def test_run_killed_mid_upload_records_nothing_half_sent_and_resumes(
    tmp_path: Path, weed: WeedServer
) -> None:
    import os
    import subprocess

    log = _sealed_log(tmp_path, segments=3)
    bucket = _bucket(weed)
    url = f"s3://{bucket}/logs/a"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(log), url, weed.endpoint],
        env={**os.environ, **client_env()},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    names = [p.name for p in segment_paths(archive_dir(log))]
    assert list(read_state(log)["segments"]) == names[:1]
    result = upload_segments(log, _remote(weed, bucket, **LOCKED))
    assert list(result.uploaded) == names[1:]
    code_ok = weed.client().list_object_versions(Bucket=bucket, Prefix=f"logs/a/{names[1]}")
    assert len(code_ok.get("Versions", [])) == 1  # what had arrived was not sent again
