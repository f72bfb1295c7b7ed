"""Multipart uploads: the transfer manager above 8 MiB, and the part-list rules S3 enforces."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import RunningS3, error_of

MiB = 1024 * 1024


def _multipart_etag(parts: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}-{len(parts)}"'


@pytest.mark.parametrize("size", [3 * MiB, 20 * MiB + 123], ids=["below-threshold", "multipart"])
def test_upload_and_download_file(client: Any, bucket: str, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    client.upload_file(str(src), bucket, "files/blob.bin")
    head = client.head_object(Bucket=bucket, Key="files/blob.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == size
    if size > 8 * MiB:  # s3transfer: 8 MiB parts, CRC32 per part -> a COMPOSITE checksum
        chunks = [data[i:i + 8 * MiB] for i in range(0, size, 8 * MiB)]
        assert head["ETag"] == _multipart_etag(chunks)
        assert head["ChecksumCRC32"].endswith(f"-{len(chunks)}") and head["ChecksumType"] == "COMPOSITE"
    else:
        assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    dest = tmp_path / "dest.bin"
    client.download_file(bucket, "files/blob.bin", str(dest))  # ranged GETs with If-Match above 8 MiB
    assert dest.read_bytes() == data


def _start(client: Any, bucket: str, key: str = "mp", **kwargs: Any) -> str:
    return str(client.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"])


def test_manual_multipart_with_metadata(client: Any, bucket: str, s3: RunningS3) -> None:
    upload = _start(client, bucket, ContentType="video/mp4", Metadata={"who": "me"})
    parts = [os.urandom(5 * MiB), b"tail"]
    etags = [client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    listed = client.list_parts(Bucket=bucket, Key="mp", UploadId=upload)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 5 * MiB), (2, 4)]
    uploads = client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp", upload)]
    assert not (s3.store / bucket / "mp").exists()  # nothing visible before completion
    done = client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    assert done["ETag"] == _multipart_etag(parts)
    got = client.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert (got["ContentType"], got["Metadata"]) == ("video/mp4", {"who": "me"})
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert list((s3.state / "uploads").iterdir()) == []


def test_part_list_rules(client: Any, bucket: str) -> None:
    upload = _start(client, bucket)
    small = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x" * 100)["ETag"]
    last = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"y")["ETag"]

    def complete(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return error_of(lambda: client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                                                 MultipartUpload={"Parts": parts}))

    err = complete([{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}])
    assert (err["Code"], err["Status"]) == ("EntityTooSmall", 400)
    err = complete([{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}])
    assert (err["Code"], err["Status"]) == ("InvalidPartOrder", 400)
    err = complete([{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}])
    assert (err["Code"], err["Status"]) == ("InvalidPart", 400)
    err = complete([{"PartNumber": 3, "ETag": small}])
    assert err["Code"] == "InvalidPart"
    err = complete([])
    assert (err["Code"], err["Status"]) == ("MalformedXML", 400)
    # The last part alone may be small.
    client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": last}]})
    assert client.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"y"


def test_unknown_upload_and_abort(client: Any, bucket: str) -> None:
    err = error_of(lambda: client.upload_part(Bucket=bucket, Key="mp", UploadId="nope", PartNumber=1, Body=b"1"))
    assert (err["Code"], err["Status"]) == ("NoSuchUpload", 404)
    upload = _start(client, bucket)
    client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"1")
    err = error_of(lambda: client.upload_part(Bucket=bucket, Key="other", UploadId=upload, PartNumber=1, Body=b"1"))
    assert err["Code"] == "NoSuchUpload"
    err = error_of(lambda: client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=10001, Body=b"1"))
    assert err["Code"] == "InvalidArgument"
    assert client.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    err = error_of(lambda: client.list_parts(Bucket=bucket, Key="mp", UploadId=upload))
    assert (err["Code"], err["Status"]) == ("NoSuchUpload", 404)
    err = error_of(lambda: client.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload))
    assert err["Code"] == "NoSuchUpload"


def test_upload_part_copy(client: Any, bucket: str) -> None:
    source = os.urandom(6 * MiB)
    client.put_object(Bucket=bucket, Key="source", Body=source)
    upload = _start(client, bucket, key="assembled")
    first = client.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=1,
                                    CopySource={"Bucket": bucket, "Key": "source"},
                                    CopySourceRange=f"bytes=0-{5 * MiB - 1}")["CopyPartResult"]["ETag"]
    second = client.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=2,
                                     CopySource={"Bucket": bucket, "Key": "source"},
                                     CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}")["CopyPartResult"]["ETag"]
    client.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert client.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source


@pytest.mark.parametrize(("algorithm", "kind"), [("CRC32", "COMPOSITE"), ("SHA256", "COMPOSITE"),
                                                  ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", "FULL_OBJECT")])
def test_multipart_checksums(client: Any, bucket: str, algorithm: str, kind: str) -> None:
    from scones.gateway.s3 import checksums

    extra = {"ChecksumType": kind} if kind == "FULL_OBJECT" else {}
    upload = _start(client, bucket, ChecksumAlgorithm=algorithm, **extra)
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    listed = []
    for number, data in enumerate(parts, 1):
        out = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=data,
                                 ChecksumAlgorithm=algorithm)
        assert out[f"Checksum{algorithm}"] == checksums.checksum_of(algorithm, data)
        listed.append({"PartNumber": number, "ETag": out["ETag"], f"Checksum{algorithm}": out[f"Checksum{algorithm}"]})
    done = client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                            MultipartUpload={"Parts": listed})
    whole = b"".join(parts)
    if kind == "FULL_OBJECT":
        assert done[f"Checksum{algorithm}"] == checksums.checksum_of(algorithm, whole)
    else:
        assert done[f"Checksum{algorithm}"] == checksums.composite(
            algorithm, [checksums.decode(checksums.checksum_of(algorithm, p)) for p in parts])
    assert done["ChecksumType"] == kind
    got = client.get_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert got["Body"].read() == whole  # botocore validates full-object checksums on the way
    assert got[f"Checksum{algorithm}"] == done[f"Checksum{algorithm}"]


def test_full_object_sha_refused(client: Any, bucket: str) -> None:
    err = error_of(lambda: _start(client, bucket, ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT"))
    assert (err["Code"], err["Status"]) == ("InvalidRequest", 400)


def test_list_multipart_uploads_prefix_and_delimiter(client: Any, bucket: str) -> None:
    ids = {key: _start(client, bucket, key=key) for key in ("a/1", "a/2", "b")}
    out = client.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in out["Uploads"]] == ["b"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/"]
    out = client.list_multipart_uploads(Bucket=bucket, Prefix="a/", MaxUploads=1)
    assert [u["UploadId"] for u in out["Uploads"]] == [ids["a/1"]]
    assert out["IsTruncated"] is True
    rest = client.list_multipart_uploads(Bucket=bucket, Prefix="a/", KeyMarker=out["NextKeyMarker"],
                                         UploadIdMarker=out["NextUploadIdMarker"])
    assert [u["UploadId"] for u in rest["Uploads"]] == [ids["a/2"]]


def test_deleting_a_bucket_drops_its_uploads(client: Any, s3: RunningS3) -> None:
    client.create_bucket(Bucket="short-lived")
    upload = _start(client, "short-lived")
    client.upload_part(Bucket="short-lived", Key="mp", UploadId=upload, PartNumber=1, Body=b"1")
    client.delete_bucket(Bucket="short-lived")
    assert list((s3.state / "uploads").iterdir()) == []
    client.create_bucket(Bucket="short-lived")
    assert client.list_multipart_uploads(Bucket="short-lived").get("Uploads", []) == []


def test_get_and_head_by_part_number(client: Any, bucket: str) -> None:
    upload = _start(client, bucket)
    parts = [os.urandom(5 * MiB), b"the tail"]
    etags = [client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    head = client.head_object(Bucket=bucket, Key="mp", PartNumber=1)
    assert (head["ContentLength"], head["PartsCount"]) == (5 * MiB, 2)
    second = client.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert second["Body"].read() == b"the tail"
    assert second["ContentRange"] == f"bytes {5 * MiB}-{5 * MiB + 7}/{5 * MiB + 8}"
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 206
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="mp", PartNumber=3))
    assert (err["Code"], err["Status"]) == ("InvalidPartNumber", 416)
    client.put_object(Bucket=bucket, Key="single", Body=b"whole")
    assert client.get_object(Bucket=bucket, Key="single", PartNumber=1)["Body"].read() == b"whole"
    assert error_of(lambda: client.get_object(Bucket=bucket, Key="single", PartNumber=2))["Code"] == \
        "InvalidPartNumber"


def test_negative_page_sizes_are_invalid_arguments(client: Any, s3: RunningS3, bucket: str) -> None:
    upload = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for path, wire in ((f"/{bucket}/k?uploadId={upload}&max-parts=-1", "max-parts"),
                       (f"/{bucket}?uploads&max-uploads=-1", "max-uploads")):
        response = httpx.get(s3.url + path)
        assert response.status_code == 400, response.text
        assert f"<ArgumentName>{wire}</ArgumentName>".encode() in response.content
    assert client.list_parts(Bucket=bucket, Key="k", UploadId=upload, MaxParts=5000)["MaxParts"] == 1000


def test_list_multipart_uploads_pages_through_common_prefixes(client: Any, bucket: str) -> None:
    ids = {key: _start(client, bucket, key=key) for key in ("a/1", "a/2", "b", "c/1")}
    pages = list(client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}))
    assert [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])] == ["a/", "c/"]
    assert [u["UploadId"] for page in pages for u in page.get("Uploads", [])] == [ids["b"]]


def test_complete_whose_parts_vanish_meanwhile_is_no_such_upload(client: Any, s3: RunningS3, bucket: str) -> None:
    upload = _start(client, bucket)
    etag = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"1")["ETag"]
    shutil.rmtree(s3.state / "uploads" / upload)  # what an abort racing this complete removes
    err = error_of(lambda: client.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}))
    assert (err["Code"], err["Status"]) == ("NoSuchUpload", 404)
    assert [p.name for p in (s3.store / bucket).iterdir()] == []  # no partial object left behind
