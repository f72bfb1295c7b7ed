"""Sub-resources of buckets and objects: ACLs (accepted; the one account keeps full control), tags (kept),
versioning (off: "Suspended" accepted, "Enabled" is 501), and the configurations a local bucket does not
have, answered as S3 answers a bucket without them (404 with their own code) or with a new bucket's
defaults (SSE-S3 encryption, owner-enforced ownership...)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from scones.gateway.s3.call import FULL_CONTROL_ACL, Answer, Call, Handler, Parse, check_acl, read_document
from scones.gateway.s3.errors import S3Error, malformed_xml, not_implemented
from scones.gateway.s3.objects import ObjectOps
from scones.gateway.s3.storage import Storage

#: Configurations a local bucket never has: S3's "not configured" answer for each Get.
_ABSENT: Final = {
    "GetBucketCors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "GetBucketPolicy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "GetBucketLifecycleConfiguration": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "GetBucketWebsite": ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    "GetPublicAccessBlock": ("NoSuchPublicAccessBlockConfiguration",
                             "The public access block configuration was not found"),
    "GetObjectLockConfiguration": ("ObjectLockConfigurationNotFoundError",
                                   "Object Lock configuration does not exist for this bucket"),
    "GetBucketReplication": ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
}
#: Configurations with a default answer (what a new S3 bucket reports).
_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "GetBucketVersioning": {},
    "GetBucketLogging": {},
    "GetBucketNotificationConfiguration": {},
    "GetBucketAccelerateConfiguration": {},
    "GetBucketRequestPayment": {"Payer": "BucketOwner"},
    "GetBucketOwnershipControls": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
    "GetBucketEncryption": {"ServerSideEncryptionConfiguration": {"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}},
}
_ROOTS: Final = {"GetBucketVersioning": "VersioningConfiguration", "GetBucketLogging": "BucketLoggingStatus",
                 "GetBucketNotificationConfiguration": "NotificationConfiguration",
                 "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
                 "GetBucketRequestPayment": "RequestPaymentConfiguration"}



class SubresourceOps:
    def __init__(self, storage: Storage, objects: ObjectOps,
                 protocol_parse: Parse) -> None:
        self.storage = storage
        self.objects = objects
        self._parse = protocol_parse

    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "GetBucketAcl": self.get_bucket_acl, "PutBucketAcl": self.put_bucket_acl,
            "PutBucketVersioning": self.put_versioning, "GetBucketTagging": self.get_bucket_tagging,
            "PutBucketTagging": self.put_bucket_tagging, "DeleteBucketTagging": self.delete_bucket_tagging,
            "GetObjectAcl": self.get_object_acl, "PutObjectAcl": self.put_object_acl,
            "GetObjectTagging": self.get_object_tagging, "PutObjectTagging": self.put_object_tagging,
            "DeleteObjectTagging": self.delete_object_tagging,
        }
        for name in _ABSENT:
            table[name] = self.absent
        for name in _DEFAULTS:
            table[name] = self.default
        return table

    # -- buckets ------------------------------------------------------------------------
    async def get_bucket_acl(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        return Answer(dict(FULL_CONTROL_ACL), root="AccessControlPolicy")

    async def put_bucket_acl(self, call: Call) -> Answer:
        """Accepted: one account owns everything here, whatever the grants say."""
        self.storage.bucket_dir(call.bucket)
        check_acl(call.params)
        await read_document(call, self._parse)
        return Answer()

    async def put_versioning(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        config = (await read_document(call, self._parse)).get("VersioningConfiguration", {})
        if config.get("Status") == "Enabled":
            raise not_implemented("Bucket versioning")
        return Answer()

    async def get_bucket_tagging(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        tags = self.storage.meta.bucket_doc(call.bucket).get("tags")
        if not tags:
            raise S3Error("NoSuchTagSet", "The TagSet does not exist", 404, BucketName=call.bucket)
        return Answer({"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}, root="Tagging")

    async def put_bucket_tagging(self, call: Call) -> Answer:
        path = self.storage.bucket_dir(call.bucket)
        tags = _tag_set(await read_document(call, self._parse))
        doc = self.storage.meta.bucket_doc(call.bucket)
        doc["tags"] = tags
        self.storage.meta.set_bucket(call.bucket, self.storage.bucket_created(call.bucket, path), doc)
        return Answer(status=204)

    async def delete_bucket_tagging(self, call: Call) -> Answer:
        path = self.storage.bucket_dir(call.bucket)
        doc = self.storage.meta.bucket_doc(call.bucket)
        doc.pop("tags", None)
        self.storage.meta.set_bucket(call.bucket, self.storage.bucket_created(call.bucket, path), doc)
        return Answer(status=204)

    async def absent(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        code, message = _ABSENT[call.operation.name]
        raise S3Error(code, message, 404, BucketName=call.bucket)

    async def default(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        return Answer(dict(_DEFAULTS[call.operation.name]), root=_ROOTS.get(call.operation.name))

    # -- objects ------------------------------------------------------------------------
    async def get_object_acl(self, call: Call) -> Answer:
        obj, _ = await self.objects.open(call.bucket, call.key)
        obj.close()
        return Answer(dict(FULL_CONTROL_ACL), root="AccessControlPolicy")

    async def put_object_acl(self, call: Call) -> Answer:
        obj, _ = await self.objects.open(call.bucket, call.key)
        obj.close()
        check_acl(call.params)
        await read_document(call, self._parse)
        return Answer()

    async def get_object_tagging(self, call: Call) -> Answer:
        obj, meta = await self.objects.open(call.bucket, call.key)
        obj.close()
        return Answer({"TagSet": [{"Key": k, "Value": v} for k, v in meta.tags.items()]}, root="Tagging")

    async def put_object_tagging(self, call: Call) -> Answer:
        obj, meta = await self.objects.open(call.bucket, call.key)
        obj.close()
        tags = _tag_set(await read_document(call, self._parse))
        self.storage.meta.put(call.bucket, call.key, replace(meta, tags=tags))
        return Answer()

    async def delete_object_tagging(self, call: Call) -> Answer:
        obj, meta = await self.objects.open(call.bucket, call.key)
        obj.close()
        self.storage.meta.put(call.bucket, call.key, replace(meta, tags={}))
        return Answer(status=204)


def _tag_set(payload: dict[str, Any]) -> dict[str, str]:
    """The tags of a ``Tagging`` document; MalformedXML without a TagSet, or for a Tag without a Key."""
    tagging = payload.get("Tagging")
    if tagging is None or "TagSet" not in tagging:
        raise malformed_xml("a Tagging document with a TagSet is required")
    if any("Key" not in tag for tag in tagging["TagSet"]):
        raise malformed_xml("every Tag has a Key")
    return {tag["Key"]: tag.get("Value", "") for tag in tagging["TagSet"]}
