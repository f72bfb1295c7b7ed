"""Uploads to S3 that skip what is already there with the same content.

The fast check is one listing: for a plain ``PutObject`` S3's ETag is the MD5
of the bytes. When the ETag is not an MD5 (SSE-KMS buckets, multipart uploads)
the object's ``scones-sha256`` metadata decides, at the cost of a HEAD.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Final

from scones.aws.errors import BucketNotFoundError, RegionMismatchError, error_code, wrap
from scones.aws.plan import Action, Change
from scones.progress import progress
from scones.store import Store

LOG = logging.getLogger(__name__)

SHA_META: Final = "scones-sha256"


def bucket_region(s3: Any, bucket: str) -> str:
    """The bucket's region; raises ``BucketNotFoundError`` when it does not exist."""
    try:
        s3.head_bucket(Bucket=bucket)
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except Exception as exc:
        if error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
            raise BucketNotFoundError(
                f"Bucket {bucket!r} does not exist (or is not visible to these credentials)",
                hint=f"create it first, e.g. 'aws s3 mb s3://{bucket}', or pass another --bucket") from exc
        raise wrap(exc, action="look up", resource=f"bucket {bucket!r}") from exc
    # us-east-1 answers None, and very old buckets in eu-west-1 answer "EU" (docs/aws-facts.md, S3).
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def check_bucket(s3: Any, bucket: str, region: str) -> None:
    """SageMaker reads model data only from its own region, so the bucket must be there too."""
    found = bucket_region(s3, bucket)
    if found != region:
        raise RegionMismatchError(
            f"Bucket {bucket!r} is in {found}, but you are deploying to {region}",
            hint=f"pass --region {found}, or use a bucket in {region}")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _remote_etags(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    etags: dict[str, str] = {}
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                etags[obj["Key"]] = str(obj.get("ETag", "")).strip('"')
    except Exception as exc:
        raise wrap(exc, action="list", resource=f"s3://{bucket}/{prefix}") from exc
    return etags


def _same(s3: Any, bucket: str, key: str, data: bytes, etag: str | None) -> bool:
    if etag is None:
        return False
    if etag == _md5(data):
        return True
    if "-" not in etag and len(etag) == 32:
        return False  # an MD5 ETag that differs: the content differs (docs/aws-facts.md, S3)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        raise wrap(exc, action="inspect", resource=f"s3://{bucket}/{key}") from exc
    return bool(head.get("Metadata", {}).get(SHA_META) == _sha256(data))


def _put(s3: Any, bucket: str, key: str, data: bytes) -> None:
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata={SHA_META: _sha256(data)})
    except Exception as exc:
        raise wrap(exc, action="upload", resource=f"s3://{bucket}/{key}") from exc


def upload_bytes(s3: Any, bucket: str, key: str, data: bytes, *, apply: bool) -> Change:
    """Upload one object unless S3 already holds the same bytes under ``key``."""
    etags = _remote_etags(s3, bucket, key)
    if key in etags and _same(s3, bucket, key, data, etags[key]):
        return Change("s3 object", f"s3://{bucket}/{key}", Action.NO_CHANGE)
    action = Action.UPDATE if key in etags else Action.CREATE
    if apply:
        _put(s3, bucket, key, data)
    return Change("s3 object", f"s3://{bucket}/{key}", action, f"{len(data)} bytes")


def sync_store(s3: Any, source: Store, bucket: str, prefix: str, *, apply: bool,
               show_progress: bool = True) -> Change:
    """Upload every object of ``source`` below ``s3://bucket/prefix/``, skipping identical ones.

    Objects under the prefix that ``source`` does not hold are left alone.
    """
    keys = source.list()
    prefix = prefix.strip("/")
    etags = _remote_etags(s3, bucket, prefix + "/")
    uploaded = 0
    for key in progress(keys, enabled=show_progress, desc=f"s3://{bucket}/{prefix}", unit="file"):
        remote_key = f"{prefix}/{key}"
        data = source.get_bytes(key)
        if _same(s3, bucket, remote_key, data, etags.get(remote_key)):
            continue
        uploaded += 1
        if apply:
            _put(s3, bucket, remote_key, data)
    name = f"s3://{bucket}/{prefix}/"
    if uploaded == 0:
        return Change("s3 objects", name, Action.NO_CHANGE, f"{len(keys)} objects")
    return Change("s3 objects", name, Action.UPDATE if etags else Action.CREATE,
                  f"{uploaded} of {len(keys)} objects to upload, {len(keys) - uploaded} unchanged")
