"""Multipart uploads: create, upload parts (or copy them), complete, abort, list parts and uploads.

Parts are files in ``<state_dir>/uploads/<upload id>/<part number>`` (written like objects: temporary
name, then rename), their records in the metadata store. Completing checks the part list as S3 does
(ascending numbers, known parts with matching ETags, every part but the last at least 5 MiB), then
concatenates the chosen parts into a temporary file in the bucket folder and publishes it by one rename.
ETag: the MD5 of the parts' binary MD5s, ``-N``. Checksum: COMPOSITE (the checksum of the parts'
checksums, ``-N``) or FULL_OBJECT (CRCs combined from the parts'), as the upload was created; an upload
created without one gets S3's default full-object CRC64NVME.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from scones.gateway.s3 import checksums, listing
from scones.gateway.s3.call import OWNER, Answer, Call, Handler, Parse, check_acl, page_size, read_document
from scones.gateway.s3.conditions import check_preconditions, parse_range
from scones.gateway.s3.errors import MIN_PART_SIZE, S3Error, invalid_argument, malformed_xml, no_such_upload
from scones.gateway.s3.metadata import Part, Upload
from scones.gateway.s3.objects import ObjectOps, checksum_output, copy_range, parse_copy_source, template
from scones.gateway.s3.storage import Storage, create_temp, filling, write_all
from scones.gateway.s3.uploads import receive_checked, requested_checksum

MAX_PARTS: Final = 10_000


def _invalid_part() -> S3Error:
    return S3Error("InvalidPart", "One or more of the specified parts could not be found. The part may not have been "
                   "uploaded, or the specified entity tag may not have matched the part's entity tag.", 400)


class MultipartOps:
    def __init__(self, storage: Storage, objects: ObjectOps,
                 protocol_parse: Parse) -> None:
        self.storage = storage
        self.objects = objects
        self._parse = protocol_parse

    def handlers(self) -> dict[str, Handler]:
        return {"CreateMultipartUpload": self.create, "UploadPart": self.upload_part,
                "UploadPartCopy": self.upload_part_copy, "CompleteMultipartUpload": self.complete,
                "AbortMultipartUpload": self.abort, "ListParts": self.list_parts,
                "ListMultipartUploads": self.list_uploads}

    def folder(self, upload_id: str) -> Path:
        return self.storage.uploads_dir / upload_id

    def _upload(self, call: Call) -> Upload:
        upload_id = str(call.params["UploadId"])
        upload = self.storage.meta.upload(upload_id) if upload_id.isalnum() else None
        if upload is None or upload.bucket != call.bucket or upload.key != call.key:
            self.storage.bucket_dir(call.bucket)
            raise no_such_upload(upload_id)
        return upload

    def _part_number(self, call: Call) -> int:
        number = int(call.params["PartNumber"])
        if not 1 <= number <= MAX_PARTS:
            raise invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber",
                                   str(number))
        return number

    async def create(self, call: Call) -> Answer:
        bucket, key, p = call.bucket, call.key, call.params
        self.storage.bucket_dir(bucket)
        check_acl(p)
        algorithm = p.get("ChecksumAlgorithm")
        algorithm = checksums.check_algorithm(algorithm) if algorithm else None
        kind = p.get("ChecksumType")
        if kind is not None and kind not in ("COMPOSITE", "FULL_OBJECT"):
            raise invalid_argument("Invalid checksum type", "x-amz-checksum-type", kind)
        if kind is not None and algorithm is None:
            raise S3Error("InvalidRequest", "The x-amz-checksum-type header can only be used with the "
                          "x-amz-checksum-algorithm header.", 400)
        if algorithm is not None and kind is None:
            kind = "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"
        if kind == "FULL_OBJECT" and algorithm not in checksums.CRC_ALGORITHMS:
            raise S3Error("InvalidRequest", f"The FULL_OBJECT checksum type cannot be used with the {algorithm} "
                          "checksum algorithm.", 400)
        if kind == "COMPOSITE" and algorithm == "CRC64NVME":
            raise S3Error("InvalidRequest", "The COMPOSITE checksum type cannot be used with the CRC64NVME checksum "
                          "algorithm.", 400)
        upload_id = secrets.token_hex(24)
        self.folder(upload_id).mkdir(parents=True)
        base = replace(template(p), checksum_algorithm=algorithm, checksum_type=kind)
        self.storage.meta.add_upload(Upload(upload_id, bucket, key, time.time(), base))
        output: dict[str, Any] = {"Bucket": bucket, "Key": key, "UploadId": upload_id}
        if algorithm:
            output.update({"ChecksumAlgorithm": algorithm, "ChecksumType": kind})
        return Answer(output, root="InitiateMultipartUploadResult")

    async def upload_part(self, call: Call) -> Answer:
        upload = self._upload(call)
        number = self._part_number(call)
        wanted = requested_checksum(call)
        algorithm = upload.template.checksum_algorithm
        if wanted.algorithm is not None and algorithm is not None and wanted.algorithm != algorithm:
            raise S3Error("InvalidRequest", f"Checksum Type mismatch occurred, expected checksum Type: "
                          f"{algorithm.lower()}, actual checksum Type: {wanted.algorithm.lower()}", 400)
        fd, tmp = self._part_file(upload)
        received = await receive_checked(call, fd, tmp, wanted, _part_algorithms(upload))
        part = Part(number, received.size, received.md5.hex(), time.time(),
                    checksums.encode(received.digests[algorithm]) if algorithm else None,
                    checksums.encode(received.digests["CRC64NVME"]))
        return self._record(upload, part, tmp)

    def _part_file(self, upload: Upload) -> tuple[int, Path]:
        """A new temporary file in the upload's folder, open for writing; NoSuchUpload once it is gone."""
        tmp = self.storage.temp_file(self.folder(upload.upload_id))
        try:
            return create_temp(tmp), tmp
        except FileNotFoundError:
            raise no_such_upload(upload.upload_id) from None

    def _record(self, upload: Upload, part: Part, tmp: Path) -> Answer:
        try:
            os.replace(tmp, self.folder(upload.upload_id) / str(part.number))
        except FileNotFoundError:
            raise no_such_upload(upload.upload_id) from None
        self.storage.meta.put_part(upload.upload_id, part)
        output: dict[str, Any] = {"ETag": f'"{part.etag}"'}
        if part.checksum and upload.template.checksum_algorithm:
            output[f"Checksum{upload.template.checksum_algorithm}"] = part.checksum
        return Answer(output)

    async def upload_part_copy(self, call: Call) -> Answer:
        upload = self._upload(call)
        number = self._part_number(call)
        src_bucket, src_key = parse_copy_source(call.params["CopySource"])
        obj, meta = await self.objects.open(src_bucket, src_key)
        try:
            if obj.fd is None:
                raise invalid_argument("A folder marker cannot be copied into a part", "x-amz-copy-source",
                                       call.params["CopySource"])
            check_preconditions(call.params, meta.etag, obj.st.st_mtime, prefix="CopySource")
            span = parse_range(call.params.get("CopySourceRange"), obj.st.st_size)
            offset, length = (span[0], span[1] - span[0] + 1) if span else (0, obj.st.st_size)
            fd, tmp = self._part_file(upload)
            md5, digests, st = await asyncio.to_thread(copy_range, obj.fd, offset, length, fd, tmp,
                                                       _part_algorithms(upload))
        finally:
            obj.close()
        algorithm = upload.template.checksum_algorithm
        part = Part(number, st.st_size, md5, time.time(), checksums.encode(digests[algorithm]) if algorithm else None,
                    checksums.encode(digests["CRC64NVME"]))
        answer = self._record(upload, part, tmp)
        result = {"ETag": answer.output["ETag"], "LastModified": part.last_modified}
        result.update({k: v for k, v in answer.output.items() if k.startswith("Checksum")})
        return Answer({"CopyPartResult": result})

    async def complete(self, call: Call) -> Answer:
        upload = self._upload(call)
        document = (await read_document(call, self._parse, 4 * 1024 * 1024)).get("MultipartUpload") or {}
        listed = document.get("Parts") or []
        if not listed:
            raise malformed_xml("You must specify at least one part")
        stored = {part.number: part for part in self.storage.meta.parts(upload.upload_id)}
        chosen = self._check_parts(upload, listed, stored)
        algorithm = upload.template.checksum_algorithm
        kind = upload.template.checksum_type
        if algorithm is None:
            algorithm, kind = checksums.DEFAULT_ALGORITHM, "FULL_OBJECT"
            checksum = checksums.combine(algorithm, [(checksums.decode(p.crc64), p.size) for p in chosen])
        elif kind == "FULL_OBJECT":
            checksum = checksums.combine(algorithm, [(checksums.decode(p.checksum or ""), p.size) for p in chosen])
        else:
            checksum = checksums.composite(algorithm, [checksums.decode(p.checksum or "") for p in chosen])
        self._check_full_checksum(call, algorithm, kind, checksum, sum(p.size for p in chosen))
        etag = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in chosen)).hexdigest() + f"-{len(chosen)}"
        target = self.storage.reserve(call.bucket, call.key)
        try:
            st = await asyncio.to_thread(_concatenate, [self.folder(upload.upload_id) / str(p.number) for p in chosen],
                                         target.fd, target.tmp)
        except FileNotFoundError:  # its parts were removed meanwhile (an abort, or another complete)
            raise no_such_upload(upload.upload_id) from None
        if self.storage.meta.upload(upload.upload_id) is None:  # aborted while we were assembling
            target.tmp.unlink(missing_ok=True)
            raise no_such_upload(upload.upload_id)
        meta = replace(upload.template, size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino, etag=etag,
                       checksum_algorithm=algorithm, checksum=checksum, checksum_type=kind,
                       parts=tuple(p.size for p in chosen))
        self.storage.commit(call.bucket, call.key, target.path, target.tmp, meta)
        self._forget(upload.upload_id)
        output = {"Location": f"/{call.bucket}/{call.key}", "Bucket": call.bucket, "Key": call.key,
                  "ETag": f'"{etag}"', **checksum_output(meta)}
        return Answer(output, root="CompleteMultipartUploadResult")

    @staticmethod
    def _check_parts(upload: Upload, listed: list[dict[str, Any]], stored: dict[int, Part]) -> list[Part]:
        chosen: list[Part] = []
        for item in listed:
            number = item.get("PartNumber")
            if number is None or "ETag" not in item:
                raise malformed_xml("every Part has a PartNumber and an ETag")
            if chosen and number <= chosen[-1].number:
                raise S3Error("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must "
                              "be specified in order by part number.", 400)
            part = stored.get(number)
            if part is None or str(item["ETag"]).strip().strip('"') != part.etag:
                raise _invalid_part()
            algorithm = upload.template.checksum_algorithm
            for name in checksums.ALGORITHMS:
                given = item.get(f"Checksum{name}")
                if given is not None and (name != algorithm or given != part.checksum):
                    raise _invalid_part()
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object "
                              "size.", 400, ProposedSize=str(part.size), MinSizeAllowed=str(MIN_PART_SIZE),
                              PartNumber=str(part.number), ETag=part.etag)
        return chosen

    @staticmethod
    def _check_full_checksum(call: Call, algorithm: str, kind: str | None, checksum: str, size: int) -> None:
        expected_size = call.params.get("MpuObjectSize")
        if expected_size is not None and int(expected_size) != size:
            raise S3Error("InvalidRequest", f"The provided x-amz-mp-object-size ({expected_size}) does not match the "
                          f"size of the object ({size})", 400)
        for name in checksums.ALGORITHMS:
            given = call.params.get(f"Checksum{name}")
            if given is None:
                continue
            if name != algorithm:
                raise S3Error("InvalidRequest", f"The upload was created using the {algorithm} checksum algorithm, "
                              f"not {name}", 400)
            if given.partition("-")[0] != checksum.partition("-")[0]:
                raise S3Error("BadDigest", f"The {name} you specified did not match the calculated checksum.", 400)

    async def abort(self, call: Call) -> Answer:
        upload = self._upload(call)
        self._forget(upload.upload_id)
        return Answer(status=204)

    def _forget(self, upload_id: str) -> None:
        self.storage.meta.drop_upload(upload_id)
        shutil.rmtree(self.folder(upload_id), ignore_errors=True)

    async def list_parts(self, call: Call) -> Answer:
        upload = self._upload(call)
        marker = int(call.params.get("PartNumberMarker") or 0)
        max_parts = page_size(call.params, "MaxParts", "max-parts", 1000)
        parts = [p for p in self.storage.meta.parts(upload.upload_id) if p.number > marker]
        page = parts[:max_parts]
        algorithm = upload.template.checksum_algorithm
        items = []
        for part in page:
            item: dict[str, Any] = {"PartNumber": part.number, "LastModified": part.last_modified,
                                    "ETag": f'"{part.etag}"', "Size": part.size}
            if algorithm and part.checksum:
                item[f"Checksum{algorithm}"] = part.checksum
            items.append(item)
        output: dict[str, Any] = {
            "Bucket": call.bucket, "Key": call.key, "UploadId": upload.upload_id, "PartNumberMarker": marker,
            "MaxParts": max_parts, "IsTruncated": len(parts) > max_parts, "Parts": items, "Initiator": OWNER,
            "Owner": OWNER, "StorageClass": "STANDARD"}
        if page:
            output["NextPartNumberMarker"] = page[-1].number
        if algorithm:
            output.update({"ChecksumAlgorithm": algorithm, "ChecksumType": upload.template.checksum_type})
        return Answer(output, root="ListPartsResult")

    async def list_uploads(self, call: Call) -> Answer:
        p = call.params
        self.storage.bucket_dir(call.bucket)
        prefix, delimiter = p.get("Prefix", ""), p.get("Delimiter", "")
        key_marker, id_marker = p.get("KeyMarker", ""), p.get("UploadIdMarker", "")
        max_uploads = page_size(p, "MaxUploads", "max-uploads", 1000)
        uploads: list[dict[str, Any]] = []
        prefixes: list[str] = []
        truncated = False
        last: Upload | str | None = None  # the page's last entry: an upload or a common prefix
        skip = key_marker if listing.is_common_prefix(key_marker, prefix, delimiter) else None
        for upload in self.storage.meta.uploads(call.bucket):
            if not upload.key.startswith(prefix):
                continue
            if (upload.key, upload.upload_id if id_marker else "") <= (key_marker, id_marker) and key_marker:
                continue
            if skip is not None and upload.key.startswith(skip):
                continue
            common = None
            if delimiter:
                cut = upload.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = upload.key[:cut + len(delimiter)]
                    if prefixes and prefixes[-1] == common:
                        continue
            if len(uploads) + len(prefixes) >= max_uploads:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
                last = common
                continue
            last = upload
            item: dict[str, Any] = {"UploadId": upload.upload_id, "Key": upload.key, "Initiated": upload.initiated,
                                    "StorageClass": "STANDARD", "Owner": OWNER, "Initiator": OWNER}
            if upload.template.checksum_algorithm:
                item.update({"ChecksumAlgorithm": upload.template.checksum_algorithm,
                             "ChecksumType": upload.template.checksum_type})
            uploads.append(item)
        output: dict[str, Any] = {"Bucket": call.bucket, "KeyMarker": key_marker, "UploadIdMarker": id_marker,
                                  "Prefix": prefix, "MaxUploads": max_uploads, "IsTruncated": truncated,
                                  "Uploads": uploads, "CommonPrefixes": [{"Prefix": c} for c in prefixes]}
        if delimiter:
            output["Delimiter"] = delimiter
        if truncated and isinstance(last, Upload):
            output.update({"NextKeyMarker": last.key, "NextUploadIdMarker": last.upload_id})
        elif truncated and last is not None:  # a common prefix: the next page starts after all it stood for
            output["NextKeyMarker"] = last
        return Answer(output, root="ListMultipartUploadsResult")

    def sweep(self) -> None:
        """Remove part folders whose upload has no record (a crash between the two)."""
        if not self.storage.uploads_dir.is_dir():
            return
        known = self.storage.meta.all_upload_ids()
        for folder in self.storage.uploads_dir.iterdir():
            if folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)


def _concatenate(parts: list[Path], fd: int, tmp: Path) -> os.stat_result:
    """The parts, one after the other, in the new ``tmp`` open as ``fd`` (closed here; blocking; the kernel
    copies: ``copy_file_range``)."""
    with filling(fd, tmp):
        for path in parts:
            with open(path, "rb") as src:
                size = os.fstat(src.fileno()).st_size
                copied = 0
                while copied < size:
                    try:
                        n = os.copy_file_range(src.fileno(), fd, size - copied)
                    except OSError:
                        n = 0
                    if n <= 0:  # no kernel copy here: fall back to reading
                        src.seek(copied)
                        while block := src.read(1 << 20):
                            write_all(fd, block)
                        break
                    copied += n
        st = os.fstat(fd)
    return st



def _part_algorithms(upload: Upload) -> tuple[str, ...]:
    """What a part is hashed with: the upload's algorithm, and CRC64NVME for the default full-object checksum."""
    return tuple(a for a in (upload.template.checksum_algorithm, "CRC64NVME") if a)
