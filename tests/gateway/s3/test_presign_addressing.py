"""Presigned URLs (expiry, signatures when credentials are known) and virtual-hosted addressing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from scones.gateway.s3.addressing import Addressing

from .conftest import RunningS3, client_for, running_s3


@pytest.fixture(params=["s3", "s3v4"], ids=["sigv2", "sigv4"])
def signing(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_presigned_get_and_put(s3: RunningS3, bucket: str, signing: str) -> None:
    client = client_for(s3.url, signature_version=signing)
    put_url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up/loaded.txt"},
                                            ExpiresIn=60)
    assert httpx.put(put_url, content=b"via url").status_code == 200
    get_url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up/loaded.txt"},
                                            ExpiresIn=60)
    response = httpx.get(get_url)
    assert (response.status_code, response.content) == (200, b"via url")


def test_presigned_url_expires(s3: RunningS3, bucket: str, signing: str) -> None:
    client = client_for(s3.url, signature_version=signing)
    client.put_object(Bucket=bucket, Key="k", Body=b"1")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.1)
    response = httpx.get(url)
    assert response.status_code == 403
    assert b"<Code>AccessDenied</Code>" in response.content
    assert b"<Message>Request has expired</Message>" in response.content


def test_presigned_expiry_limit(s3: RunningS3, bucket: str) -> None:
    client = client_for(s3.url, signature_version="s3v4")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=700000)
    response = httpx.get(url)
    assert response.status_code == 400 and b"AuthorizationQueryParametersError" in response.content


def test_presigned_signature_checked_with_credentials(tmp_path: Path, signing: str) -> None:
    import boto3
    from botocore.config import Config

    with running_s3(tmp_path / "store", tmp_path / "state", credentials={"AKIDLOCAL": "s3cret"}) as s3:
        good = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id="AKIDLOCAL",
                            aws_secret_access_key="s3cret", config=Config(signature_version=signing))
        good.create_bucket(Bucket="signed")
        good.put_object(Bucket="signed", Key="a b/c+d.txt", Body=b"secret data")
        url = good.generate_presigned_url("get_object", Params={"Bucket": "signed", "Key": "a b/c+d.txt"},
                                          ExpiresIn=60)
        assert httpx.get(url).content == b"secret data"
        tampered = url.replace("c%2Bd.txt", "c%2Be.txt")
        response = httpx.get(tampered)
        assert response.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in response.content
        stranger = client_for(s3.url, signature_version=signing)  # access key "testing": unknown here
        response = httpx.get(stranger.generate_presigned_url("get_object", Params={"Bucket": "signed", "Key": "x"}))
        assert response.status_code == 403 and b"<Code>InvalidAccessKeyId</Code>" in response.content
        put = good.generate_presigned_url("put_object", Params={"Bucket": "signed", "Key": "new"}, ExpiresIn=60)
        assert httpx.put(put, content=b"n").status_code == 200


def test_virtual_hosted_requests(s3: RunningS3, client: Any, bucket: str) -> None:
    host = f"{bucket}.localhost:{s3.port}"
    assert httpx.put(f"{s3.url}/dir/file.txt", content=b"vhost", headers={"host": host}).status_code == 200
    assert client.get_object(Bucket=bucket, Key="dir/file.txt")["Body"].read() == b"vhost"
    listing = httpx.get(f"{s3.url}/?list-type=2", headers={"host": f"{bucket}.s3.localhost:{s3.port}"})
    assert b"<Key>dir/file.txt</Key>" in listing.content
    got = httpx.get(f"{s3.url}/dir/file.txt", headers={"host": f"{bucket}.s3.us-east-1.localhost"})
    assert got.content == b"vhost"
    assert httpx.head(f"{s3.url}/", headers={"host": host}).status_code == 200  # HeadBucket


def test_boto3_virtual_addressing_style(s3: RunningS3, bucket: str) -> None:
    """botocore in virtual style puts the bucket in the host name; we resolve it to loopback ourselves."""
    import socket

    real = socket.getaddrinfo

    def loopback(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = loopback  # type: ignore[assignment]
    try:
        virtual = client_for(f"http://localhost:{s3.port}", s3={"addressing_style": "virtual"})
        virtual.put_object(Bucket=bucket, Key="v.txt", Body=b"1")
        assert [o["Key"] for o in virtual.list_objects_v2(Bucket=bucket)["Contents"]] == ["v.txt"]
    finally:
        socket.getaddrinfo = real  # type: ignore[assignment]


@pytest.mark.parametrize(("host", "bucket"), [
    ("127.0.0.1:4566", None), ("localhost:4566", None), ("s3.localhost", None), ("my.bucket.localhost:4566",
                                                                                 "my.bucket"),
    ("photos.s3.localhost", "photos"), ("photos.s3.eu-west-1.localhost:80", "photos"),
    ("photos.s3.amazonaws.com", "photos"), ("s3.amazonaws.com", None), ("photos.s3-us-west-2.amazonaws.com",
                                                                        "photos"),
    ("[::1]:4566", None), ("example.org", None),
])
def test_host_parsing(host: str, bucket: str | None) -> None:
    assert Addressing().bucket_of_host(host) == bucket
