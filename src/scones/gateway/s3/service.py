"""The S3 API behind ``scones up``: one request in, one S3 answer out, over the store's folders.

``handle`` does the same steps for every request: rewrite virtual-hosted addressing to path style, check
a presigned URL, let the rest-xml protocol find the operation and parse its input, call the operation's
handler (``BucketOps``, ``ObjectOps``, ``MultipartOps``), and serialize the output. Every error a client
can cause is an ``S3Error`` turned into S3's ``<Error>`` answer here and nowhere else (HEAD answers carry
no body, as on S3); an operation S3 has but this server does not is 501 ``NotImplemented``.

Construct and wire::

    s3 = S3Service(home / "store", state_dir=home / "state" / "s3", credentials={"AKIA...": "secret"})
    app = Gateway({Service.S3: s3})
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from scones.gateway.model import service_model
from scones.gateway.protocols.rest_xml import ProtocolError, RestXmlProtocol, error_document
from scones.gateway.s3.addressing import Addressing
from scones.gateway.s3.body import ClientGone
from scones.gateway.s3.buckets import NAMESPACE, BucketOps
from scones.gateway.s3.call import Answer, Call, Handler
from scones.gateway.s3.conditions import NotModified
from scones.gateway.s3.errors import not_implemented
from scones.gateway.s3.multipart import MultipartOps
from scones.gateway.s3.objects import ObjectOps
from scones.gateway.s3.presign import SignatureCheck, check_presigned, is_presigned, presigned_signature_matches
from scones.gateway.s3.responses import FileBody, S3Response
from scones.gateway.s3.storage import Storage
from scones.gateway.s3.subresources import SubresourceOps

LOG = logging.getLogger(__name__)
XML: Final = ("Content-Type", "application/xml")


class S3Service:
    """The S3 API over ``store_root`` (``SCONES_HOME/store``); what is not an object goes to ``state_dir``, a
    folder of its own (``SCONES_HOME/state/s3``): ``metadata.sqlite`` and ``uploads/``.

    ``credentials`` (access key -> secret key) turns on the signature check of presigned URLs; None
    accepts any signature (expiry is always enforced). ``signature_check`` replaces the built-in check.
    """

    def __init__(self, store_root: Path, *, state_dir: Path, credentials: Mapping[str, str] | None = None,
                 signature_check: SignatureCheck | None = None, region: str = "us-east-1",
                 virtual_host_domains: Iterable[str] = ()) -> None:
        self.store_root = Path(store_root)
        self.state_dir = Path(state_dir)
        self.credentials = credentials
        self.signature_check: SignatureCheck = signature_check or presigned_signature_matches
        self.region = region
        self.addressing = Addressing(virtual_host_domains)
        self.protocol = RestXmlProtocol(service_model("s3"), namespace=NAMESPACE)
        self._storage: Storage | None = None
        self._handlers: dict[str, Handler] = {}
        self._ids = itertools.count(1)
        self._id_prefix = secrets.token_hex(4).upper()
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._open()
        assert self._storage is not None
        return self._storage

    def _open(self) -> None:
        self.store_root.mkdir(parents=True, exist_ok=True)
        storage = Storage(self.store_root, self.state_dir)
        objects = ObjectOps(storage, self._parse_payload)
        multipart = MultipartOps(storage, objects, self._parse_payload)
        self._handlers = {**BucketOps(storage, self.region, self._parse_payload).handlers(), **objects.handlers(),
                          **multipart.handlers(),
                          **SubresourceOps(storage, objects, self._parse_payload).handlers()}
        self._multipart = multipart
        self._storage = storage

    def _parse_payload(self, call: Call, body: bytes) -> dict[str, Any]:
        return self.protocol.parse_payload(call.operation, body)

    # -- life ------------------------------------------------------------------------------
    async def startup(self) -> None:
        """Open the metadata store, and clean what interrupted writes left, in the background."""
        storage = self.storage
        self._multipart.sweep()
        self._sweeper = asyncio.create_task(self._sweep(storage))

    async def _sweep(self, storage: Storage) -> None:
        removed = await asyncio.to_thread(storage.sweep_partials)
        if removed:
            LOG.info("removed %d partial file(s) of interrupted uploads", removed)

    async def shutdown(self) -> None:
        if self._sweeper is not None:
            await self._sweeper
            self._sweeper = None
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    # -- one request -----------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        scope = request.scope
        method = scope["method"]
        request_id = f"{self._id_prefix}{next(self._ids):012X}"
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            raw_query = scope["query_string"].decode("latin-1")
            query = parse_qs(raw_query, keep_blank_values=True) if raw_query else {}
            path = self.addressing.path_style(scope["path"], headers.get("host", ""))
            if query and is_presigned(query):
                raw_path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
                bucket = self.addressing.bucket_of_host(headers.get("host", ""))
                bucket_path = f"/{bucket}{raw_path}" if bucket else raw_path
                check_presigned(method, raw_path, bucket_path, raw_query, query, headers, self.credentials,
                                self.signature_check)
            operation, labels = self.protocol.match(method, path, query, headers)
            params = self.protocol.parse_input(operation, labels, query, headers)
            if self._storage is None:
                self._open()
            handler = self._handlers.get(operation.name)
            if handler is None:
                raise not_implemented(operation.name)
            answer = await handler(Call(request, operation, params, headers, request_id))
            return self._respond(operation, answer, request_id)
        except ProtocolError as exc:  # S3Error is one
            response = self._error(method, exc.code, exc.message, exc.status, exc.fields, request_id)
        except NotModified:
            response = S3Response(304, [("x-amz-request-id", request_id)])
        except ClientGone:
            LOG.debug("client went away during %s %s", method, scope["path"])
            return S3Response(400, [("x-amz-request-id", request_id), ("connection", "close")])
        if _body_left_unread(request, headers):
            # The client may still be waiting for "100 Continue", or sending a body nobody reads: the
            # connection cannot carry another request, so it ends with this answer.
            response.raw_headers.append((b"connection", b"close"))
        return response

    def _respond(self, operation: Any, answer: Answer, request_id: str) -> Response:
        status, headers, body = self.protocol.serialize_output(operation, answer.output, root=answer.root)
        headers.append(("x-amz-request-id", request_id))
        headers.append(("x-amz-id-2", request_id))
        code = status or answer.status
        if answer.file is not None:
            fd, offset, length = answer.file
            return FileBody(code, headers, fd, offset, length)
        if answer.body is not None:
            if answer.content_length is not None:  # HEAD
                return S3Response(code, headers, b"", answer.content_length)
            if not any(k == "Content-Type" for k, _ in headers):
                headers.append(XML)
            return S3Response(code, headers, answer.body)
        if body is not None:
            headers.append(XML)
            return S3Response(code, headers, body)
        return S3Response(code, headers)

    @staticmethod
    def _error(method: str, code: str, message: str, status: int, fields: Mapping[str, str],
               request_id: str) -> Response:
        headers = [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
        if method == "HEAD":
            return S3Response(status, headers)
        if status == 405:
            fields = {"Method": method, "ResourceType": "OBJECT", **fields}
        headers.append(XML)
        return S3Response(status, headers, error_document(code, message, request_id, fields))


def _body_left_unread(request: Request, headers: Mapping[str, str]) -> bool:
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    return has_body and not getattr(request, "_stream_consumed", False)
