"""What every service behind the gateway offers: answer a request, and start and stop with the server."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response


class ServiceHandler(Protocol):
    """One AWS service on the wire: parse its protocol, call scones, answer in AWS's shapes.

    ``handle`` never raises for a client's mistake: it answers with the service's own error shape
    (S3's XML ``<Error>``, Step Functions' ``__type`` JSON, ...). ``startup`` runs before the first
    request, ``shutdown`` after the last one (in-flight requests answered).
    """

    async def handle(self, request: Request) -> Response: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...
