"""SageMaker Runtime's InvokeEndpoint for each declared endpoint name, served by ``scones serve``'s own code.

Each name is one ``scones.serve.app.Endpoint`` (model, micro-batcher, Data Capture,
metrics) running in this process: the same request checks, answers and error
shapes as ``scones serve``, reused rather than written again. Only the choice of
endpoint by name is done here; an unknown name gets AWS's ``ValidationError``,
which names the endpoint and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from scones.serve.app import Endpoint

_PATH: Final = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")


class SageMakerRuntimeService:
    """``POST /endpoints/{name}/invocations`` for the endpoints given by name."""

    def __init__(self, endpoints: Mapping[str, Endpoint]) -> None:
        self.endpoints = dict(endpoints)

    async def handle(self, request: Request) -> Response:
        match = _PATH.match(request.url.path)
        name = match["name"] if match is not None and request.method == "POST" else ""
        request.scope["path_params"] = {"name": name}
        endpoint = self.endpoints.get(name)
        if endpoint is None and self.endpoints:
            # Any served endpoint refuses a name not its own in AWS's words (pattern, or "not found").
            endpoint = next(iter(self.endpoints.values()))
        if endpoint is not None:
            return await endpoint.runtime_invocations(request)
        from scones.serve.errors import ACCOUNT_ID, EndpointNotFound, runtime_error_response

        return runtime_error_response(EndpointNotFound(f"Endpoint {name} of account {ACCOUNT_ID} not found."),
                                      endpoint_name=name, region="us-east-1")

    async def startup(self) -> None:
        for endpoint in self.endpoints.values():
            await endpoint.startup()

    async def shutdown(self) -> None:
        for endpoint in self.endpoints.values():
            await endpoint.shutdown()
