"""boto3 over TLS: what current SDKs send by default there — aws-chunked bodies with the CRC32 in a trailer
(``request_checksum_calculation="when_supported"``; over plain HTTP botocore sends it as a header)."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.gateway.s3 import checksums

from .conftest import RunningS3, running_s3


def _self_signed(folder: Path) -> tuple[Path, Path]:
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_s3(tmp_path: Path) -> Iterator[RunningS3]:
    with running_s3(tmp_path / "store", tmp_path / "state", tls=_self_signed(tmp_path)) as running:
        yield running


@pytest.fixture
def tls_client(tls_s3: RunningS3) -> Iterator[Any]:
    import boto3
    from botocore.config import Config

    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    client = boto3.client("s3", endpoint_url=tls_s3.url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing", verify=False, config=Config(retries={"max_attempts": 1}))
    yield client
    client.close()  # idle TLS connections would hold the server's graceful shutdown


def test_put_object_with_trailing_checksum(tls_client: Any, tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []
    tls_client.meta.events.register("before-send.s3.PutObject", lambda request, **_: seen.append(
        {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    tls_client.create_bucket(Bucket="tls")
    body = os.urandom(300_000)
    put = tls_client.put_object(Bucket="tls", Key="k", Body=body)
    assert seen[0]["content-encoding"] == "aws-chunked" and seen[0]["x-amz-trailer"] == "x-amz-checksum-crc32"
    assert put["ChecksumCRC32"] == checksums.checksum_of("CRC32", body)
    got = tls_client.get_object(Bucket="tls", Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == body and got.get("ContentEncoding") is None


def test_multipart_upload_with_trailing_checksums(tls_client: Any, tmp_path: Path) -> None:
    tls_client.create_bucket(Bucket="tls")
    data = os.urandom(9 * 1024 * 1024)
    (tmp_path / "src").write_bytes(data)
    tls_client.upload_file(str(tmp_path / "src"), "tls", "big")
    tls_client.download_file("tls", "big", str(tmp_path / "dest"))
    assert (tmp_path / "dest").read_bytes() == data
    head = tls_client.head_object(Bucket="tls", Key="big", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"].endswith("-2") and head["ChecksumType"] == "COMPOSITE"
