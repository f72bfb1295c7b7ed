"""Object operations: put, get, head, copy, delete (one and many); ACLs and tags are ``subresources``'."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from scones.gateway.s3 import checksums
from scones.gateway.s3.call import Answer, Call, Handler, Parse, check_acl, read_document, read_small_body
from scones.gateway.s3.chunked import AwsChunkedDecoder
from scones.gateway.s3.conditions import check_preconditions, parse_range
from scones.gateway.s3.errors import S3Error, invalid_argument, malformed_xml, no_such_key, precondition_failed
from scones.gateway.s3.layout import check_key
from scones.gateway.s3.metadata import ObjectMeta
from scones.gateway.s3.responses import SMALL_BODY
from scones.gateway.s3.storage import EMPTY_MD5, OpenObject, Storage, filling, write_all
from scones.gateway.s3.uploads import content_encoding, is_aws_chunked, receive_checked, requested_checksum

#: Stored as sent and answered on GET/HEAD (member name -> the same member of the output).
STORED_HEADERS: Final = ("CacheControl", "ContentDisposition", "ContentLanguage", "Expires",
                         "WebsiteRedirectLocation")
#: GetObject's ``response-*`` overrides.
OVERRIDES: Final = {"ResponseCacheControl": "CacheControl", "ResponseContentDisposition": "ContentDisposition",
                    "ResponseContentEncoding": "ContentEncoding", "ResponseContentLanguage": "ContentLanguage",
                    "ResponseContentType": "ContentType", "ResponseExpires": "Expires"}
DERIVE_INLINE: Final = 1 << 20
MAX_DELETE_KEYS: Final = 1000
#: A folder marker's body is read (to find it empty) up to this size.
MARKER_BODY_LIMIT: Final = 64 * 1024


def template(params: dict[str, Any]) -> ObjectMeta:
    """The described parts of a new object (type, user metadata, stored headers, tags) from a request."""
    headers = {}
    for name in STORED_HEADERS:
        value = params.get(name)
        if value is not None:
            headers[name] = value if isinstance(value, str) else value.isoformat()
    encoding = content_encoding(params)
    if encoding is not None:
        headers["ContentEncoding"] = encoding
    tags = dict(parse_qsl(params["Tagging"], keep_blank_values=True)) if params.get("Tagging") else {}
    return ObjectMeta(0, 0, 0, "", params.get("ContentType") or "binary/octet-stream",
                      dict(params.get("Metadata") or {}), headers, tags=tags)


def checksum_output(meta: ObjectMeta) -> dict[str, Any]:
    if not meta.checksum_algorithm or not meta.checksum:
        return {}
    return {f"Checksum{meta.checksum_algorithm}": meta.checksum, "ChecksumType": meta.checksum_type or "FULL_OBJECT"}


def parse_copy_source(source: str) -> tuple[str, str]:
    """``bucket/key`` (URL-encoded, optionally ``/``-led and ``?versionId=``-suffixed) -> (bucket, key)."""
    path, _, query = source.partition("?")
    if query and dict(parse_qsl(query)).get("versionId", "null") != "null":
        raise S3Error("NoSuchVersion", "The specified version does not exist.", 404)
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise invalid_argument("Invalid copy source object key", "x-amz-copy-source", source)
    return bucket, key


class ObjectOps:
    def __init__(self, storage: Storage, protocol_parse: Parse) -> None:
        self.storage = storage
        self._parse = protocol_parse

    def handlers(self) -> dict[str, Handler]:
        return {"PutObject": self.put_object, "GetObject": self.get_object, "HeadObject": self.get_object,
                "CopyObject": self.copy_object, "DeleteObject": self.delete_object,
                "DeleteObjects": self.delete_objects}

    # -- reading -----------------------------------------------------------------------
    async def open(self, bucket: str, key: str) -> tuple[OpenObject, ObjectMeta]:
        """An object opened with its metadata (derived now, once, for a file nobody described)."""
        obj = self.storage.open(bucket, key)
        try:
            meta = obj.meta
            if meta is None:
                if obj.st.st_size <= DERIVE_INLINE:
                    meta = self.storage.derive(bucket, key, obj)
                else:
                    meta = await asyncio.to_thread(self.storage.derive, bucket, key, obj)
        except BaseException:
            obj.close()
            raise
        return obj, meta

    async def get_object(self, call: Call) -> Answer:
        obj, meta = await self.open(call.bucket, call.key)
        try:
            answer = self._get_answer(call, obj, meta)
        except BaseException:
            obj.close()
            raise
        if answer.file is None:
            obj.close()
        return answer

    def _get_answer(self, call: Call, obj: OpenObject, meta: ObjectMeta) -> Answer:
        p = call.params
        size = obj.st.st_size if obj.fd is not None else 0
        mtime = obj.st.st_mtime if obj.fd is not None else meta.mtime_ns / 1e9
        output: dict[str, Any] = {"ETag": f'"{meta.etag}"', "LastModified": mtime, "ContentType": meta.content_type,
                                  "AcceptRanges": "bytes"}
        if meta.metadata:
            output["Metadata"] = meta.metadata
        output.update(meta.headers)
        if meta.tags:
            output["TagCount"] = len(meta.tags)
        check_preconditions(p, meta.etag, mtime)
        part = p.get("PartNumber")
        if part is not None:
            span: tuple[int, int] | None = _part_span(meta, int(part), size, p.get("Range"))
            if meta.parts:
                output["PartsCount"] = len(meta.parts)
        else:
            span = parse_range(p.get("Range"), size)
        status = 200
        offset, length = 0, size
        if span is not None:
            offset, length = span[0], span[1] - span[0] + 1
            output["ContentRange"] = f"bytes {span[0]}-{span[1]}/{size}"
            status = 206
            if part is not None and size == 0:
                output.pop("ContentRange")
        elif p.get("ChecksumMode") == "ENABLED":
            output.update(checksum_output(meta))
        for param, member in OVERRIDES.items():
            if p.get(param) is not None:
                output[member] = p[param]
        if call.request.method == "HEAD":
            return Answer(output, status=status, body=b"", content_length=length)
        if obj.fd is None or length == 0:
            return Answer(output, status=status, body=b"")
        if length <= SMALL_BODY:
            return Answer(output, status=status, body=os.pread(obj.fd, length, offset))
        return Answer(output, status=status, file=(obj.fd, offset, length))

    # -- writing ------------------------------------------------------------------------
    async def put_object(self, call: Call) -> Answer:
        bucket, key, p = call.bucket, call.key, call.params
        check_acl(p)
        wanted = requested_checksum(call)
        await self._check_put_conditions(call, bucket, key)
        base = template(p)
        if key.endswith("/"):
            self.storage.bucket_dir(bucket)
            return await self._put_marker(call, bucket, key, base)
        algorithm = wanted.algorithm or checksums.DEFAULT_ALGORITHM
        target = self.storage.reserve(bucket, key)
        received = await receive_checked(call, target.fd, target.tmp, wanted, (algorithm,))
        st = received.st
        meta = replace(base, size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino, etag=received.md5.hex(),
                       checksum_algorithm=algorithm, checksum=checksums.encode(received.digests[algorithm]),
                       checksum_type="FULL_OBJECT")
        self.storage.commit(bucket, key, target.path, target.tmp, meta)
        return Answer({"ETag": f'"{meta.etag}"', **checksum_output(meta)})

    async def _check_put_conditions(self, call: Call, bucket: str, key: str) -> None:
        """Conditional writes: ``If-None-Match: *`` (create only) and ``If-Match: <etag>``."""
        if_none, if_match = call.params.get("IfNoneMatch"), call.params.get("IfMatch")
        if if_none is None and if_match is None:
            return
        try:
            obj, meta = await self.open(bucket, key)
            obj.close()
        except S3Error as exc:
            if exc.code != "NoSuchKey":
                raise
            if if_match is not None:
                raise no_such_key(key) from exc
            return
        if if_none is not None and if_none.strip() == "*":
            raise precondition_failed("If-None-Match")
        if if_match is not None and if_match.strip().strip('"') not in ("*", meta.etag):
            raise precondition_failed("If-Match")

    async def _put_marker(self, call: Call, bucket: str, key: str, base: ObjectMeta) -> Answer:
        refused = invalid_argument("A key ending in '/' is a folder marker in the local store and must be empty",
                                   "key", key)
        try:
            body = await read_small_body(call, MARKER_BODY_LIMIT)
        except S3Error as exc:
            raise refused from exc
        if body and is_aws_chunked(call):
            decoder = AwsChunkedDecoder()
            body = b"".join(decoder.feed(body))
            decoder.finish()
        if body:
            raise refused
        meta = replace(base, mtime_ns=time.time_ns(), etag=EMPTY_MD5)
        self.storage.put_marker(bucket, key, meta)
        return Answer({"ETag": f'"{EMPTY_MD5}"'})

    async def copy_object(self, call: Call) -> Answer:
        bucket, key, p = call.bucket, call.key, call.params
        self.storage.bucket_dir(bucket)
        check_acl(p)
        src_bucket, src_key = parse_copy_source(p["CopySource"])
        check_key(src_key)
        directive = p.get("MetadataDirective", "COPY")
        if directive not in ("COPY", "REPLACE"):
            raise invalid_argument(f"Unknown metadata directive {directive}", "x-amz-metadata-directive", directive)
        requested = p.get("ChecksumAlgorithm")
        requested = checksums.check_algorithm(requested) if requested else None
        obj, meta = await self.open(src_bucket, src_key)
        try:
            mtime = obj.st.st_mtime if obj.fd is not None else meta.mtime_ns / 1e9
            check_preconditions(p, meta.etag, mtime, prefix="CopySource")
            same = (src_bucket, src_key) == (bucket, key)
            if same and directive == "COPY" and not p.get("StorageClass") and not requested \
                    and not p.get("TaggingDirective"):
                raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object "
                              "to itself without changing the object's metadata, storage class, website redirect "
                              "location or encryption attributes.", 400)
            described = template(p) if directive == "REPLACE" else meta
            if p.get("TaggingDirective") == "REPLACE":
                described = replace(described, tags=template(p).tags)
            elif directive == "REPLACE":
                described = replace(described, tags=meta.tags)
            if key.endswith("/"):  # the copy is a folder marker: only an empty source makes one
                if obj.fd is not None and obj.st.st_size:
                    raise invalid_argument("A key ending in '/' is a folder marker in the local store and must be "
                                           "empty", "key", key)
                marker = replace(described, etag=EMPTY_MD5, mtime_ns=time.time_ns(), checksum_algorithm=None,
                                 checksum=None, checksum_type=None, parts=None)
                self.storage.put_marker(bucket, key, marker)
                return Answer({"CopyObjectResult": {"ETag": f'"{EMPTY_MD5}"', "LastModified": marker.mtime_ns / 1e9}})
            target = self.storage.reserve(bucket, key)
            algorithm = requested or (meta.checksum_algorithm if meta.checksum_type == "FULL_OBJECT" else None) \
                or checksums.DEFAULT_ALGORITHM
            size = obj.st.st_size if obj.fd is not None else 0  # a folder marker copies as an empty object
            md5_hex, digests, st = await asyncio.to_thread(copy_range, obj.fd, 0, size, target.fd, target.tmp,
                                                           (algorithm,))
        finally:
            obj.close()
        new = replace(described, size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino, etag=md5_hex,
                      checksum_algorithm=algorithm, checksum=checksums.encode(digests[algorithm]),
                      checksum_type="FULL_OBJECT",
                      parts=None)
        self.storage.commit(bucket, key, target.path, target.tmp, new)
        result = {"ETag": f'"{new.etag}"', "LastModified": st.st_mtime, **checksum_output(new)}
        return Answer({"CopyObjectResult": result})

    # -- deleting ------------------------------------------------------------------------
    async def delete_object(self, call: Call) -> Answer:
        self.storage.delete(call.bucket, call.key)
        return Answer(status=204)

    async def delete_objects(self, call: Call) -> Answer:
        self.storage.bucket_dir(call.bucket)
        request = (await read_document(call, self._parse, 4 * 1024 * 1024)).get("Delete")
        if not request or "Objects" not in request:
            raise malformed_xml("a Delete document lists at least one Object")
        objects = request["Objects"]
        if len(objects) > MAX_DELETE_KEYS:
            raise malformed_xml(f"at most {MAX_DELETE_KEYS} keys per request")
        deleted, errors = [], []
        for item in objects:
            key = item.get("Key")
            if key is None:
                raise malformed_xml("every Object has a Key")
            try:
                check_key(key)
                self.storage.delete(call.bucket, key)
            except S3Error as exc:
                errors.append({"Key": key, "Code": exc.code, "Message": exc.message})
                continue
            entry = {"Key": key}
            if item.get("VersionId"):
                entry["VersionId"] = item["VersionId"]
            deleted.append(entry)
        output: dict[str, Any] = {"Errors": errors}
        if not request.get("Quiet"):
            output["Deleted"] = deleted
        return Answer(output, root="DeleteResult")



def _part_span(meta: ObjectMeta, number: int, size: int, range_header: str | None) -> tuple[int, int]:
    """The bytes of part ``number``: S3 answers them as a range (206); a single-part object is one part."""
    if range_header:
        raise S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter", 400)
    sizes = meta.parts or (size,)
    if not 1 <= number <= len(sizes):
        raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
                      PartNumberRequested=str(number), ActualPartCount=str(len(sizes)))
    first = sum(sizes[:number - 1])
    return first, first + sizes[number - 1] - 1


def copy_range(src_fd: int | None, offset: int, length: int, fd: int, tmp: Path,
               algorithms: tuple[str, ...]) -> tuple[str, dict[str, bytes], os.stat_result]:
    """Copy ``length`` bytes of ``src_fd`` (None: a folder marker, nothing) from ``offset`` into the new
    ``tmp`` (open as ``fd``, closed here), hashing them: (MD5 hex, the ``algorithms``' digests, the copy's
    stat). Blocking. CopyObject and UploadPartCopy both copy this way."""
    md5 = hashlib.md5()
    hashers = {a: checksums.new_hasher(a) for a in algorithms}
    with filling(fd, tmp):
        left = length
        while left > 0 and src_fd is not None:
            block = os.pread(src_fd, min(1 << 20, left), offset)
            if not block:
                raise S3Error("InternalError", "The source object changed while it was copied", 500)
            md5.update(block)
            for hasher in hashers.values():
                hasher.update(block)
            write_all(fd, block)
            offset += len(block)
            left -= len(block)
        st = os.fstat(fd)
    return md5.hexdigest(), {a: h.digest() for a, h in hashers.items()}, st
