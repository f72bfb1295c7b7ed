"""Buckets: names, creation, listing, head, delete, location, and the sub-resources answered by default."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import RunningS3, error_of


def test_create_list_head_delete(client: Any, s3: RunningS3) -> None:
    client.create_bucket(Bucket="photos-2026")
    assert (s3.store / "photos-2026").is_dir()
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert "photos-2026" in names
    assert client.list_buckets()["Owner"]["ID"]
    head = client.head_bucket(Bucket="photos-2026")
    assert head["BucketRegion"] == "us-east-1"
    assert client.delete_bucket(Bucket="photos-2026")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not (s3.store / "photos-2026").exists()
    err = error_of(lambda: client.head_bucket(Bucket="photos-2026"))
    assert (err["Code"], err["Status"]) == ("404", 404)


def test_folder_dropped_in_the_store_is_a_bucket(client: Any, s3: RunningS3) -> None:
    (s3.store / "dropped" / "sub").mkdir(parents=True)
    (s3.store / "dropped" / "sub" / "x.json").write_text("{}")
    assert "dropped" in [b["Name"] for b in client.list_buckets()["Buckets"]]
    got = client.get_object(Bucket="dropped", Key="sub/x.json")
    assert got["Body"].read() == b"{}"
    assert got["ContentType"] == "application/json"


def test_already_owned(client: Any, bucket: str) -> None:
    err = error_of(lambda: client.create_bucket(Bucket=bucket))
    assert (err["Code"], err["Status"]) == ("BucketAlreadyOwnedByYou", 409)


@pytest.mark.parametrize("name", ["ab", "a" * 64, "Upper-Case", "under_score", "-dash", "dash-", "two..dots",
                                  "192.168.1.1", "xn--punycode", "bad-s3alias", "dot-.dash"])
def test_invalid_bucket_names(client: Any, name: str) -> None:
    from botocore.exceptions import ParamValidationError

    try:
        err = error_of(lambda: client.create_bucket(Bucket=name))
    except ParamValidationError:
        return  # botocore refuses some names before sending; fine too
    assert (err["Code"], err["Status"]) == ("InvalidBucketName", 400)


def test_raw_invalid_bucket_names_refused(s3: RunningS3) -> None:
    import httpx

    for name in ("..", ".hidden", "a%2F..%2Fb"):
        response = httpx.put(f"{s3.url}/{name}")
        assert response.status_code in (400, 404, 405), (name, response.text)
        assert b"<Code>" in response.content
    assert sorted(p.name for p in s3.store.iterdir()) == []


def test_delete_non_empty_bucket(client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="x/y", Body=b"1")
    err = error_of(lambda: client.delete_bucket(Bucket=bucket))
    assert (err["Code"], err["Status"]) == ("BucketNotEmpty", 409)
    client.delete_object(Bucket=bucket, Key="x/y")
    client.delete_bucket(Bucket=bucket)
    err = error_of(lambda: client.delete_bucket(Bucket=bucket))
    assert (err["Code"], err["Status"]) == ("NoSuchBucket", 404)


def test_location_and_configurations(client: Any, bucket: str) -> None:
    assert client.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    assert client.get_bucket_versioning(Bucket=bucket).get("Status") is None
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    err = error_of(lambda: client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}))
    assert (err["Code"], err["Status"]) == ("NotImplemented", 501)
    err = error_of(lambda: client.get_bucket_tagging(Bucket=bucket))
    assert (err["Code"], err["Status"]) == ("NoSuchTagSet", 404)
    client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
    assert client.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "ml"}]
    client.delete_bucket_tagging(Bucket=bucket)
    assert error_of(lambda: client.get_bucket_tagging(Bucket=bucket))["Code"] == "NoSuchTagSet"
    assert error_of(lambda: client.get_bucket_cors(Bucket=bucket))["Code"] == "NoSuchCORSConfiguration"
    assert error_of(lambda: client.get_bucket_policy(Bucket=bucket))["Code"] == "NoSuchBucketPolicy"
    rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_bucket_acl(client: Any, bucket: str) -> None:
    acl = client.get_bucket_acl(Bucket=bucket)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    client.create_bucket(Bucket="with-acl-header", ACL="private")


def test_unsupported_operation_is_501(client: Any, bucket: str) -> None:
    err = error_of(lambda: client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}))
    assert (err["Code"], err["Status"]) == ("NotImplemented", 501)


def test_method_not_allowed(s3: RunningS3, bucket: str) -> None:
    import httpx

    response = httpx.request("PATCH", f"{s3.url}/{bucket}/key")
    assert response.status_code == 405
    assert b"<Code>MethodNotAllowed</Code>" in response.content


def test_list_buckets_pages_and_refuses_max_buckets_out_of_range(client: Any, s3: RunningS3) -> None:
    for name in ("page-a", "page-b", "page-c"):
        client.create_bucket(Bucket=name)
    first = client.list_buckets(MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["page-a", "page-b"]
    rest = client.list_buckets(MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["page-c"] and "ContinuationToken" not in rest
    for value in ("0", "-1", "10001"):  # botocore refuses these itself (the model's range is 1-10000)
        response = httpx.get(f"{s3.url}/?max-buckets={value}")
        assert response.status_code == 400 and b"<ArgumentName>max-buckets</ArgumentName>" in response.content
