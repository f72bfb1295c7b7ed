"""Bucket operations: create, head, delete, list buckets, locate, and list the objects (V1, V2, versions);
a bucket's sub-resources (ACL, tagging, configurations) are ``subresources``'."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from scones.gateway.protocols.xml_shapes import xml_escape
from scones.gateway.s3 import listing
from scones.gateway.s3.call import OWNER, Answer, Call, Handler, Parse, check_acl, page_size, read_document
from scones.gateway.s3.errors import S3Error, invalid_argument
from scones.gateway.s3.layout import check_new_bucket_name
from scones.gateway.s3.storage import Storage

NAMESPACE: Final = "http://s3.amazonaws.com/doc/2006-03-01/"
#: ListBuckets' largest page (and its model's range of max-buckets: 1 to this).
MAX_BUCKETS: Final = 10000


def _max_keys(params: dict[str, Any]) -> int:
    return page_size(params, "MaxKeys", "max-keys", listing.MAX_KEYS)


def _encoding(params: dict[str, Any]) -> bool:
    encoding = params.get("EncodingType")
    if encoding is not None and encoding != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", 400,
                      ArgumentName="encoding-type", ArgumentValue=str(encoding))
    return encoding == "url"


class BucketOps:
    def __init__(self, storage: Storage, region: str, protocol_parse: Parse) -> None:
        self.storage = storage
        self.region = region
        self._parse = protocol_parse

    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "ListBuckets": self.list_buckets, "CreateBucket": self.create_bucket, "HeadBucket": self.head_bucket,
            "DeleteBucket": self.delete_bucket, "GetBucketLocation": self.get_bucket_location,
            "ListObjects": self.list_objects, "ListObjectsV2": self.list_objects_v2,
            "ListObjectVersions": self.list_object_versions,
        }
        return table

    async def list_buckets(self, call: Call) -> Answer:
        prefix = call.params.get("Prefix", "")
        after = call.params.get("ContinuationToken", "")
        limit = call.params.get("MaxBuckets", MAX_BUCKETS)
        if not 1 <= limit <= MAX_BUCKETS:  # 0 made a token naming the last bucket: the next page was empty
            raise invalid_argument(f"max-buckets must be an integer between 1 and {MAX_BUCKETS}", "max-buckets",
                                   str(limit))
        found = [(n, c) for n, c in self.storage.list_buckets() if n.startswith(prefix) and n > after]
        output: dict[str, Any] = {
            "Buckets": [{"Name": n, "CreationDate": c, "BucketRegion": self.region} for n, c in found[:limit]],
            "Owner": OWNER}
        if prefix:
            output["Prefix"] = prefix
        if len(found) > limit:
            output["ContinuationToken"] = found[limit - 1][0]
        return Answer(output, root="ListAllMyBucketsResult")

    async def create_bucket(self, call: Call) -> Answer:
        bucket = call.bucket
        check_new_bucket_name(bucket)
        check_acl(call.params)
        config = (await read_document(call, self._parse)).get("CreateBucketConfiguration", {})
        location = config.get("LocationConstraint")
        if location is not None and location not in ("", self.region) and self.region != "us-east-1":
            raise S3Error("IllegalLocationConstraintException", f"The {location} location constraint is "
                          f"incompatible for the region specific endpoint this request was sent to.", 400)
        if not self.storage.create_bucket(bucket):
            raise S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded "
                          "and you already own it.", 409, BucketName=bucket)
        return Answer({"Location": f"/{bucket}"})

    async def head_bucket(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        return Answer({"BucketRegion": self.region, "AccessPointAlias": False})

    async def delete_bucket(self, call: Call) -> Answer:
        await asyncio.to_thread(self.storage.delete_bucket, call.bucket)
        return Answer(status=204)

    async def get_bucket_location(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        # botocore reads the root element's text; us-east-1 is the empty constraint.
        region = "" if self.region == "us-east-1" else xml_escape(self.region)
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{NAMESPACE}">{region}' \
               "</LocationConstraint>"
        return Answer(body=body.encode())

    async def _page(self, call: Call, after: str, max_keys: int) -> listing.Page:
        bucket_dir = self.storage.bucket_dir(call.bucket)
        return await asyncio.to_thread(
            listing.list_page, self.storage, call.bucket, bucket_dir, prefix=call.params.get("Prefix", ""),
            delimiter=call.params.get("Delimiter", ""), after=after, max_keys=max_keys)

    @staticmethod
    def _listed(call: Call, page: listing.Page, encode: bool, max_keys: int) -> dict[str, Any]:
        """What the three listings answer alike: the bucket, prefix, delimiter, page size, common prefixes."""
        p = call.params
        output: dict[str, Any] = {
            "IsTruncated": page.truncated, "Name": call.bucket, "Prefix": listing.url(p.get("Prefix", ""), encode),
            "MaxKeys": max_keys, "CommonPrefixes": [{"Prefix": listing.url(cp, encode)} for cp in page.prefixes],
        }
        if p.get("Delimiter"):
            output["Delimiter"] = listing.url(p["Delimiter"], encode)
        if encode:
            output["EncodingType"] = "url"
        return output

    async def list_objects(self, call: Call) -> Answer:
        p = call.params
        encode = _encoding(p)
        max_keys = _max_keys(p)
        marker = p.get("Marker", "")
        page = await self._page(call, marker, max_keys)
        output = self._listed(call, page, encode, max_keys)
        output["Marker"] = listing.url(marker, encode)
        output["Contents"] = listing.contents(page, encode=encode, owner=OWNER)
        if p.get("Delimiter") and page.truncated:
            output["NextMarker"] = listing.url(page.last, encode)
        return Answer(output, root="ListBucketResult")

    async def list_objects_v2(self, call: Call) -> Answer:
        p = call.params
        encode = _encoding(p)
        max_keys = _max_keys(p)
        token = p.get("ContinuationToken")
        start_after = p.get("StartAfter", "")
        after = listing.decode_token(token) if token is not None else start_after
        after = max(after, start_after)
        page = await self._page(call, after, max_keys)
        output = self._listed(call, page, encode, max_keys)
        output["Contents"] = listing.contents(page, encode=encode, owner=OWNER if p.get("FetchOwner") else None)
        output["KeyCount"] = len(page.entries) + len(page.prefixes)
        if token is not None:
            output["ContinuationToken"] = token
        if start_after:
            output["StartAfter"] = listing.url(start_after, encode)
        if page.truncated and page.last is not None:
            output["NextContinuationToken"] = listing.encode_token(page.last)
        return Answer(output, root="ListBucketResult")

    async def list_object_versions(self, call: Call) -> Answer:
        """Without versioning every object is its one version, ``null``."""
        p = call.params
        encode = _encoding(p)
        max_keys = _max_keys(p)
        marker = p.get("KeyMarker", "")
        page = await self._page(call, marker, max_keys)
        versions = []
        for item in listing.contents(page, encode=encode, owner=OWNER):
            item.update({"VersionId": "null", "IsLatest": True})
            versions.append(item)
        output = self._listed(call, page, encode, max_keys)
        output["KeyMarker"] = listing.url(marker, encode)
        output["Versions"] = versions
        if page.truncated:
            output["NextKeyMarker"] = listing.url(page.last, encode)
            output["NextVersionIdMarker"] = "null"
        return Answer(output, root="ListVersionsResult")
