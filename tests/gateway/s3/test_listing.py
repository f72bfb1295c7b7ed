"""Listing: prefixes, delimiters, pagination, start-after, URL encoding, S3's key order."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import RunningS3, error_of

KEYS = ["a-c", "a/b", "a/c/d", "a/c/e", "a0", "b", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"]


@pytest.fixture
def filled(client: Any, bucket: str) -> str:
    for key in KEYS:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_lists_in_utf8_byte_order(client: Any, filled: str) -> None:
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=filled)["Contents"]]
    assert keys == sorted(KEYS)
    assert keys.index("a-c") < keys.index("a/b") < keys.index("a0")  # '-' < '/' < '0'


def test_unicode_keys_order(client: Any, bucket: str) -> None:
    keys = ["z", "é/x", "e", "日本/語", "ÿ"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"1")
    listed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))


def test_prefix_and_delimiter(client: Any, filled: str) -> None:
    out = client.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["a-c", "a0", "b"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/", "boo/", "cquux/"]
    assert out["KeyCount"] == 6
    assert out["Delimiter"] == "/"
    out = client.list_objects_v2(Bucket=filled, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["a/b"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/c/"]
    out = client.list_objects_v2(Bucket=filled, Prefix="boo")
    assert [o["Key"] for o in out["Contents"]] == ["boo/bar", "boo/baz/xyzzy"]
    out = client.list_objects_v2(Bucket=filled, Prefix="nothing/")
    assert out["KeyCount"] == 0 and "Contents" not in out


def test_other_delimiter(client: Any, filled: str) -> None:
    out = client.list_objects_v2(Bucket=filled, Delimiter="a")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a", "boo/ba", "cquux/bla"]
    assert [o["Key"] for o in out["Contents"]] == ["b", "cquux/thud"]


def test_pagination_v2(client: Any, filled: str) -> None:
    seen, token, pages = [], None, 0
    while True:
        kwargs: dict[str, Any] = {"Bucket": filled, "MaxKeys": 3}
        if token:
            kwargs["ContinuationToken"] = token
        out = client.list_objects_v2(**kwargs)
        pages += 1
        seen += [o["Key"] for o in out.get("Contents", [])]
        assert out["KeyCount"] <= 3
        if not out["IsTruncated"]:
            assert "NextContinuationToken" not in out
            break
        token = out["NextContinuationToken"]
    assert seen == sorted(KEYS)
    assert pages == 4


def test_pagination_with_delimiter_counts_prefixes(client: Any, filled: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    keys, prefixes = [], []
    for page in paginator.paginate(Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 2}):
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert keys == ["a-c", "a0", "b"]
    assert prefixes == ["a/", "boo/", "cquux/"]


def test_start_after(client: Any, filled: str) -> None:
    out = client.list_objects_v2(Bucket=filled, StartAfter="boo/bar")
    assert [o["Key"] for o in out["Contents"]] == ["boo/baz/xyzzy", "cquux/bla", "cquux/thud"]
    assert out["StartAfter"] == "boo/bar"


def test_max_keys_zero_and_invalid(client: Any, filled: str) -> None:
    out = client.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert out["KeyCount"] == 0 and out["IsTruncated"] is False
    err = error_of(lambda: client.list_objects_v2(Bucket=filled, ContinuationToken="!!!"))
    assert err["Code"] == "InvalidArgument"


def test_list_objects_v1_markers(client: Any, filled: str) -> None:
    out = client.list_objects(Bucket=filled, MaxKeys=4)
    assert [o["Key"] for o in out["Contents"]] == sorted(KEYS)[:4]
    assert out["IsTruncated"] is True
    assert "NextMarker" not in out  # only with a delimiter, as S3
    rest = client.list_objects(Bucket=filled, Marker=out["Contents"][-1]["Key"])
    assert [o["Key"] for o in rest["Contents"]] == sorted(KEYS)[4:]
    assert out["Contents"][0]["Owner"]["ID"]
    out = client.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert out["NextMarker"] == "a/"
    keys = [o["Key"] for page in client.get_paginator("list_objects").paginate(Bucket=filled, PaginationConfig={
        "PageSize": 3}) for o in page["Contents"]]
    assert keys == sorted(KEYS)


def test_encoding_type_url(client: Any, bucket: str, s3: RunningS3) -> None:
    odd = ["sp ace", "plus+sign", "pct%41", "amp&er", "q?u", "tab\tx", "ü"]
    for key in odd:
        client.put_object(Bucket=bucket, Key=key, Body=b"1")
    # boto3 asks for encoding-type=url by itself and decodes; the keys come back as they went.
    assert sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(odd)
    assert sorted(o["Key"] for o in client.list_objects(Bucket=bucket)["Contents"]) == sorted(odd)
    import httpx

    raw = httpx.get(f"{s3.url}/{bucket}?list-type=2&encoding-type=url&prefix=sp").text
    assert "<Key>sp%20ace</Key>" in raw and "<EncodingType>url</EncodingType>" in raw


def test_fetch_owner_and_checksum_algorithm(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"1", ChecksumAlgorithm="SHA256")
    plain = client.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert "Owner" not in plain and plain["ChecksumAlgorithm"] == ["SHA256"]
    assert client.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"]["DisplayName"]


def test_list_object_versions(client: Any, filled: str) -> None:
    out = client.list_object_versions(Bucket=filled, Prefix="boo/")
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [
        ("boo/bar", "null", True), ("boo/baz/xyzzy", "null", True)]


def test_listing_a_missing_bucket(client: Any) -> None:
    err = error_of(lambda: client.list_objects_v2(Bucket="missing-bucket-x"))
    assert (err["Code"], err["Status"]) == ("NoSuchBucket", 404)


def test_resource_filter_pages(resource: Any, client: Any, bucket: str) -> None:
    for i in range(25):
        client.put_object(Bucket=bucket, Key=f"p/{i:03d}", Body=b"1")
    got = [o.key for o in resource.Bucket(bucket).objects.filter(Prefix="p/").page_size(7)]
    assert got == [f"p/{i:03d}" for i in range(25)]
