"""The gateway as one ASGI application: route each request to its service, answer every request.

A raw ASGI callable rather than a router: the service is decided from headers
and the path before any body is read (``routing``), and each service parses
its own protocol. A service's unexpected exception becomes that service's
``InternalFailure``-style answer (500; S3's ``InternalError``) and one logged traceback; the server stays up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from scones.gateway.errors import error_response
from scones.gateway.handler import ServiceHandler
from scones.gateway.routing import Service, service_of

LOG = logging.getLogger(__name__)

Scope = dict[str, Any]


class RequestVerifier(Protocol):
    """Checks a request's SigV4 signature; returns an error response when it does not match."""

    async def check(self, service: Service, request: Request) -> Response | None: ...


class Gateway:
    """One port, every service: ``handlers`` maps each served service to its handler."""

    def __init__(self, handlers: Mapping[Service, ServiceHandler], *, verifier: RequestVerifier | None = None) -> None:
        self.handlers = dict(handlers)
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        service = service_of(scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers)
        request = Request(scope, receive)
        handler = self.handlers.get(service)
        if handler is None:
            response = error_response(service, "UnknownOperationException", f"{service.value} is not served here",
                                      400)
        else:
            response = await self._handle(handler, service, request)
        await response(scope, receive, send)
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("%s %s %s -> %d (%.1f ms)", service.value, scope["method"], scope["path"],
                      response.status_code, (time.perf_counter() - started) * 1000)

    async def _handle(self, handler: ServiceHandler, service: Service, request: Request) -> Response:
        try:
            refused = await self.verifier.check(service, request) if self.verifier is not None else None
            return refused or await handler.handle(request)
        except Exception:
            LOG.exception("%s failed on %s %s", service.value, request.method, request.url.path)
            return error_response(service, "InternalError" if service is Service.S3 else "InternalFailure",
                                  "The local service failed; see its log", 500)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for handler in self.handlers.values():
                        await handler.startup()
                except Exception as exc:
                    LOG.exception("the gateway could not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for handler in reversed(list(self.handlers.values())):
                    try:
                        await handler.shutdown()
                    except Exception:
                        LOG.exception("a service did not stop cleanly")
                await send({"type": "lifespan.shutdown.complete"})
                return
