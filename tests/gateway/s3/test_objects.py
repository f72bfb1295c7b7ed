"""Object read/write through boto3, in the manner of the S3 compatibility suites."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import pytest

from .conftest import RunningS3, error_of


def test_put_get_round_trip_with_metadata(client: Any, bucket: str, s3: RunningS3) -> None:
    body = b"\x89PNG" + bytes(range(256)) * 10
    put = client.put_object(Bucket=bucket, Key="img/cat.png", Body=body, ContentType="image/png",
                            Metadata={"label": "cat", "Source": "camera"}, CacheControl="max-age=60",
                            ContentDisposition='attachment; filename="cat.png"', ContentLanguage="en")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = client.get_object(Bucket=bucket, Key="img/cat.png")
    assert got["Body"].read() == body
    assert got["ContentType"] == "image/png"
    assert got["Metadata"] == {"label": "cat", "source": "camera"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == 'attachment; filename="cat.png"'
    assert got["ContentLanguage"] == "en"
    assert got["ContentLength"] == len(body)
    assert got["ETag"] == put["ETag"]
    assert got["AcceptRanges"] == "bytes"
    # The object is the plain file the rest of scones reads.
    assert (s3.store / bucket / "img" / "cat.png").read_bytes() == body


def test_default_content_type_and_empty_object(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="empty", Body=b"")
    head = client.head_object(Bucket=bucket, Key="empty")
    assert head["ContentLength"] == 0
    assert head["ContentType"] == "binary/octet-stream"
    assert head["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert client.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


def test_overwrite_replaces_content_and_metadata(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"one", Metadata={"a": "1"})
    client.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = client.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second"
    assert got["Metadata"] == {}


def test_missing_key_and_bucket(client: Any, bucket: str) -> None:
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="nope/x.txt"))
    assert (err["Code"], err["Status"], err["Error"]["Key"]) == ("NoSuchKey", 404, "nope/x.txt")
    err = error_of(lambda: client.get_object(Bucket="no-such-bucket-here", Key="x"))
    assert (err["Code"], err["Status"], err["Error"]["BucketName"]) == ("NoSuchBucket", 404, "no-such-bucket-here")
    err = error_of(lambda: client.head_object(Bucket=bucket, Key="nope"))
    assert (err["Code"], err["Status"]) == ("404", 404)  # HEAD answers carry no body
    err = error_of(lambda: client.put_object(Bucket="no-such-bucket-here", Key="x", Body=b"1"))
    assert err["Code"] == "NoSuchBucket"


@pytest.mark.parametrize(("header", "expected", "content_range"), [
    ("bytes=0-3", b"0123", "bytes 0-3/10"),
    ("bytes=4-", b"456789", "bytes 4-9/10"),
    ("bytes=-3", b"789", "bytes 7-9/10"),
    ("bytes=-30", b"0123456789", "bytes 0-9/10"),
    ("bytes=8-100", b"89", "bytes 8-9/10"),
], ids=["closed", "open", "suffix", "suffix-longer-than-object", "end-past-object"])
def test_ranges(client: Any, bucket: str, header: str, expected: bytes, content_range: str) -> None:
    client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    got = client.get_object(Bucket=bucket, Key="digits", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == expected
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(expected)


def test_unsatisfiable_range(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="digits", Range="bytes=10-20"))
    assert (err["Code"], err["Status"]) == ("InvalidRange", 416)
    assert err["Error"]["ActualObjectSize"] == "10"


def test_malformed_range_is_ignored(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    got = client.get_object(Bucket=bucket, Key="digits", Range="bytes=5-2")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == b"0123456789"


def test_large_object_streams_with_range(client: Any, bucket: str) -> None:
    body = bytes(range(256)) * 4096 * 3  # 3 MiB: streamed from the file, not read at once
    client.put_object(Bucket=bucket, Key="large", Body=body)
    assert client.get_object(Bucket=bucket, Key="large")["Body"].read() == body
    part = client.get_object(Bucket=bucket, Key="large", Range="bytes=1000000-2999999")["Body"].read()
    assert part == body[1000000:3000000]


def test_conditional_get(client: Any, bucket: str) -> None:
    etag = client.put_object(Bucket=bucket, Key="c", Body=b"data")["ETag"]
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert client.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"data"
    assert client.get_object(Bucket=bucket, Key="c", IfMatch="*")["Body"].read() == b"data"
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="c", IfMatch='"nope"'))
    assert (err["Code"], err["Status"]) == ("PreconditionFailed", 412)
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag))
    assert err["Status"] == 304
    assert client.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"')["Body"].read() == b"data"
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="c", IfModifiedSince=future))
    assert err["Status"] == 304
    assert client.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)["Body"].read() == b"data"
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=past))
    assert (err["Code"], err["Status"]) == ("PreconditionFailed", 412)
    assert client.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=future)["Body"].read() == b"data"
    # If-Match true wins over a false If-Unmodified-Since (RFC 7232, as S3 does).
    assert client.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=past)["Body"].read() == b"data"
    err = error_of(lambda: client.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag))
    assert err["Status"] == 304


def test_response_overrides(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = client.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                            ResponseContentDisposition="inline", ResponseCacheControl="no-cache",
                            ResponseContentLanguage="fr", ResponseContentEncoding="identity")
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "identity"


def test_content_md5(client: Any, bucket: str) -> None:
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    client.put_object(Bucket=bucket, Key="m", Body=b"abc", ContentMD5=good)
    wrong = base64.b64encode(hashlib.md5(b"xyz").digest()).decode()
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="m2", Body=b"abc", ContentMD5=wrong))
    assert (err["Code"], err["Status"]) == ("BadDigest", 400)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="m2", Body=b"abc", ContentMD5="not-base64!"))
    assert (err["Code"], err["Status"]) == ("InvalidDigest", 400)
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="m2"))["Status"] == 404


def test_conditional_put(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="once", Body=b"1", IfNoneMatch="*")
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="once", Body=b"2", IfNoneMatch="*"))
    assert (err["Code"], err["Status"]) == ("PreconditionFailed", 412)
    etag = client.head_object(Bucket=bucket, Key="once")["ETag"]
    client.put_object(Bucket=bucket, Key="once", Body=b"3", IfMatch=etag)
    assert client.get_object(Bucket=bucket, Key="once")["Body"].read() == b"3"


def test_copy_object_copies_and_replaces_metadata(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="src/a b+c.txt", Body=b"payload", ContentType="text/plain",
                      Metadata={"k": "v"})
    source = {"Bucket": bucket, "Key": "src/a b+c.txt"}  # sent URL-encoded: a%20b%2Bc.txt
    result = client.copy_object(Bucket=bucket, Key="dst/copy.txt", CopySource=source)
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    got = client.get_object(Bucket=bucket, Key="dst/copy.txt")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"payload", "text/plain", {"k": "v"})
    client.copy_object(Bucket=bucket, Key="dst/replaced.txt", CopySource=f"{bucket}/src/a b+c.txt",
                       MetadataDirective="REPLACE", ContentType="application/x-new", Metadata={"n": "2"})
    got = client.get_object(Bucket=bucket, Key="dst/replaced.txt")
    assert (got["ContentType"], got["Metadata"]) == ("application/x-new", {"n": "2"})


def test_copy_errors(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="a", Body=b"1")
    err = error_of(lambda: client.copy_object(Bucket=bucket, Key="a", CopySource={"Bucket": bucket, "Key": "a"}))
    assert (err["Code"], err["Status"]) == ("InvalidRequest", 400)
    client.copy_object(Bucket=bucket, Key="a", CopySource={"Bucket": bucket, "Key": "a"}, MetadataDirective="REPLACE",
                       Metadata={"x": "y"})
    assert client.head_object(Bucket=bucket, Key="a")["Metadata"] == {"x": "y"}
    err = error_of(lambda: client.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "nope"}))
    assert (err["Code"], err["Status"]) == ("NoSuchKey", 404)
    err = error_of(lambda: client.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"},
                                              CopySourceIfMatch='"other"'))
    assert (err["Code"], err["Status"]) == ("PreconditionFailed", 412)


def test_copy_between_buckets(client: Any, bucket: str) -> None:
    client.create_bucket(Bucket="second-bucket")
    client.put_object(Bucket=bucket, Key="x", Body=b"moved")
    client.copy_object(Bucket="second-bucket", Key="y", CopySource={"Bucket": bucket, "Key": "x"})
    assert client.get_object(Bucket="second-bucket", Key="y")["Body"].read() == b"moved"


def test_delete_object_is_204_even_when_absent(client: Any, bucket: str, s3: RunningS3) -> None:
    client.put_object(Bucket=bucket, Key="deep/er/k", Body=b"1")
    assert client.delete_object(Bucket=bucket, Key="deep/er/k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.delete_object(Bucket=bucket, Key="deep/er/k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not (s3.store / bucket / "deep").exists()  # empty folders go with their last object


def test_delete_objects(client: Any, bucket: str) -> None:
    for key in ("a", "b", "c/d"):
        client.put_object(Bucket=bucket, Key=key, Body=b"1")
    result = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "c/d"}, {"Key": "zz"},
                                                                      {"Key": "../escape"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "c/d", "zz"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("../escape", "InvalidArgument")]
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]
    quiet = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)


def test_object_acl_and_canned_acl(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="acl", Body=b"1", ACL="public-read")
    acl = client.get_object_acl(Bucket=bucket, Key="acl")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    client.put_object_acl(Bucket=bucket, Key="acl", ACL="private")
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="acl2", Body=b"1", ACL="everyone-please"))
    assert err["Code"] == "InvalidArgument"


def test_object_tagging(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="t", Body=b"1", Tagging="team=ml&stage=raw")
    assert client.head_object(Bucket=bucket, Key="t")["TagCount"] == 2
    assert client.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    tags = client.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("stage", "raw"), ("team", "ml")]
    client.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert client.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "a", "Value": "b"}]


def test_resource_api(resource: Any, client: Any, bucket: str) -> None:
    b = resource.Bucket(bucket)
    b.put_object(Key="r/one.txt", Body=b"1")
    b.put_object(Key="r/two.txt", Body=b"22")
    b.put_object(Key="other.txt", Body=b"333")
    assert sorted(o.key for o in b.objects.filter(Prefix="r/")) == ["r/one.txt", "r/two.txt"]
    obj = resource.Object(bucket, "r/two.txt")
    assert obj.get()["Body"].read() == b"22"
    assert obj.content_length == 2
    obj.copy_from(CopySource={"Bucket": bucket, "Key": "other.txt"})
    assert obj.get()["Body"].read() == b"333"
    b.objects.filter(Prefix="r/").delete()
    assert [o.key for o in b.objects.all()] == ["other.txt"]
