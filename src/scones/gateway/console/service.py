"""``ConsoleService``: the console of ``scones up`` under ``/_console/``, a page and the JSON API it reads.

The page is a small client-side app (``static/``): it fetches JSON from ``/_console/api/…`` and
builds the DOM with ``textContent`` and DOM calls, so user data (execution names, inputs,
keys) never becomes markup. The API answers JSON with proper status codes (``errors``),
never a traceback.

Defences, since the console shows everything and may start executions:

- ``Content-Security-Policy`` on every page: scripts and styles from the console only, no
  inline script; objects from buckets are served ``sandbox``ed, as downloads unless a
  picture, and never sniffed;
- a ``Host`` the server was not asked to answer for is refused (DNS rebinding);
- changes (start, stop) need ``--console-write``, a JSON body, the console's own request
  header and, when the browser sends one, an ``Origin`` of this server (no cross-site form
  can send them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from scones.gateway.console import buckets_api, endpoints_api, executions_api, functions_api
from scones.gateway.console.context import ConsoleContext
from scones.gateway.console.errors import ApiError, BadRequest, Forbidden, MethodNotAllowed, NotFound
from scones.gateway.routing import CONSOLE_PREFIX

LOG = logging.getLogger(__name__)

STATIC: Final = Path(__file__).resolve().with_name("static")
#: The header the console's own requests carry; a cross-site form cannot send it.
REQUEST_HEADER: Final = "x-scones-console"
MAX_BODY_BYTES: Final = 512 * 1024
#: How often each endpoint's request counter is sampled for the invocations-per-minute chart.
SAMPLE_SECONDS: Final = 5.0

PAGE_POLICY: Final = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                      "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                      "frame-ancestors 'none'")
#: Objects from the store (a report, any file): no script runs, nothing is loaded but pictures.
OBJECT_POLICY: Final = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_SECURITY: Final = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
_STATIC_NAME: Final = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
_STATIC_TYPES: Final = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                        ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
                        ".md": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8"}

Handler = Callable[[Request, dict[str, str]], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class ConsoleService:
    """The ``Service.CONSOLE`` handler. ``hosts``: the host names it answers for (None: any)."""

    def __init__(self, ctx: ConsoleContext, *, hosts: Collection[str] | None = None) -> None:
        self.ctx = ctx
        self.hosts = None if hosts is None else {h.lower().strip("[]") for h in hosts}
        self.rates = endpoints_api.InvocationRates(ctx.endpoints)
        self._sampler: asyncio.Task[None] | None = None
        self.routes = [
            self._get("/config", self._config),
            self._get("/state-machines", lambda r, p: self._json(executions_api.state_machines, self.ctx)),
            self._get("/state-machines/{name}",
                      lambda r, p: self._json(executions_api.state_machine, self.ctx, p["name"])),
            Route("POST", _pattern("/state-machines/{name}/executions"), self._start),
            self._get("/executions", self._executions),
            self._get("/executions/{name}",
                      lambda r, p: self._json(executions_api.execution_detail, self.ctx, p["name"])),
            Route("POST", _pattern("/executions/{name}/stop"), self._stop),
            self._get("/functions", lambda r, p: self._json(functions_api.functions, self.ctx)),
            self._get("/functions/{name}", lambda r, p: self._json(functions_api.function, self.ctx, p["name"])),
            self._get("/endpoints", lambda r, p: self._json(endpoints_api.endpoints, self.ctx)),
            self._get("/endpoints/{name}",
                      lambda r, p: self._json(endpoints_api.endpoint, self.ctx, p["name"], self.rates)),
            self._get("/endpoints/{name}/captures", self._captures),
            self._get("/buckets", lambda r, p: self._json(buckets_api.buckets, self.ctx)),
            self._get("/buckets/{name}/objects", self._listing),
            self._get("/buckets/{name}/preview",
                      lambda r, p: self._json(buckets_api.preview, self.ctx, p["name"], _query(r, "key"))),
            self._get("/buckets/{name}/object", self._object),
        ]

    # -- life ------------------------------------------------------------------------
    async def startup(self) -> None:
        if self.ctx.endpoints:
            self._sampler = asyncio.create_task(self._sample())

    async def shutdown(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler

    async def _sample(self) -> None:
        while True:
            self.rates.sample()
            await asyncio.sleep(SAMPLE_SECONDS)

    # -- requests --------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        if not self._host_allowed(request):
            return _secured(Response("This console answers only on the address scones up printed.\n",
                                     status_code=403, media_type="text/plain"))
        path = request.url.path[len(CONSOLE_PREFIX):]
        if path == "":
            return RedirectResponse(f"{CONSOLE_PREFIX}/", status_code=308)
        if path.startswith("/api/"):
            return _secured(await self._api(request, path[len("/api"):]))
        if request.method not in ("GET", "HEAD"):
            return _secured(_error_response(MethodNotAllowed("The console's pages are read with GET")))
        if path in ("/", "/index.html"):
            return _secured(_static("index.html"), policy=PAGE_POLICY)
        if path.startswith("/static/"):
            return _secured(_static(path[len("/static/"):]), policy=PAGE_POLICY)
        return _secured(_error_response(NotFound(f"Nothing at {CONSOLE_PREFIX}{path}")))

    def _host_allowed(self, request: Request) -> bool:
        if self.hosts is None:
            return True
        host = request.headers.get("host", "")
        name = urlsplit(f"//{host}").hostname or ""
        return name.lower() in self.hosts

    async def _api(self, request: Request, path: str) -> Response:
        allowed = []
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.method != request.method and not (route.method == "GET" and request.method == "HEAD"):
                allowed.append(route.method)
                continue
            try:
                return await route.handler(request, match.groupdict())
            except ApiError as exc:
                return _error_response(exc)
            except Exception:
                LOG.exception("the console failed on %s %s", request.method, request.url.path)
                return _json_response({"error": "InternalError",
                                       "message": "The console failed on this request; see the scones up log"},
                                      status=500)
        if allowed:
            return _error_response(MethodNotAllowed(f"Use {' or '.join(sorted(set(allowed)))} here"))
        return _error_response(NotFound(f"No console API at {path}"))

    def _get(self, path: str, handler: Handler) -> Route:
        return Route("GET", _pattern(path), handler)

    async def _json(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Response:
        return _json_response(await run_in_threadpool(function, *args, **kwargs))

    async def _config(self, request: Request, params: dict[str, str]) -> Response:
        return _json_response({"write": self.ctx.write, "bucket": self.ctx.bucket})

    async def _executions(self, request: Request, params: dict[str, str]) -> Response:
        q = request.query_params
        return await self._json(executions_api.list_executions, self.ctx, machine=q.get("stateMachine") or None,
                                status=q.get("status") or None, name=q.get("name") or None,
                                token=q.get("token") or None,
                                limit=_int(q.get("limit"), executions_api.PAGE_SIZE))

    async def _captures(self, request: Request, params: dict[str, str]) -> Response:
        q = request.query_params
        return await self._json(endpoints_api.captures, self.ctx, params["name"], q.get("cursor") or None,
                                _int(q.get("limit"), endpoints_api.CAPTURE_PAGE))

    async def _listing(self, request: Request, params: dict[str, str]) -> Response:
        q = request.query_params
        return await self._json(buckets_api.listing, self.ctx, params["name"], q.get("prefix", ""),
                                q.get("after") or None)

    async def _object(self, request: Request, params: dict[str, str]) -> Response:
        obj = await run_in_threadpool(buckets_api.stored_object, self.ctx, params["name"], _query(request, "key"))
        with open(obj.path, "rb") as f:
            head = f.read(16)
        media = buckets_api.content_type(obj, head)
        download = request.query_params.get("download") == "1" or media == "application/octet-stream"
        name = obj.key.rsplit("/", 1)[-1]
        disposition = "attachment" if download else "inline"
        headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
                   "Content-Security-Policy": OBJECT_POLICY}
        return FileResponse(obj.path, media_type=media, headers=headers)

    async def _start(self, request: Request, params: dict[str, str]) -> Response:
        body = await self._change(request)
        return await self._json(executions_api.start_execution, self.ctx, params["name"], body)

    async def _stop(self, request: Request, params: dict[str, str]) -> Response:
        await self._change(request)
        return await self._json(executions_api.stop_execution, self.ctx, params["name"])

    async def _change(self, request: Request) -> Any:
        """The JSON body of a change, once it is known to come from the console itself."""
        if request.headers.get(REQUEST_HEADER) != "1":
            raise Forbidden(f"Changes need the {REQUEST_HEADER} header the console sends")
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
            raise Forbidden("Changes are taken from this console's own pages only")
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise BadRequest("Send the change as application/json")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise BadRequest(f"The request is larger than {MAX_BODY_BYTES} bytes")
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise BadRequest("The request body is not JSON") from exc


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if value is None:
        raise BadRequest(f"The query parameter {name!r} is missing")
    return value


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise BadRequest(f"{value!r} is not a whole number") from exc


def _json_response(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(body, status_code=status, media_type="application/json")


def _error_response(exc: ApiError) -> Response:
    return _json_response(exc.body(), status=exc.status)


def _static(name: str) -> Response:
    if not _STATIC_NAME.match(name) or ".." in name:
        return _error_response(NotFound("No such file"))
    path = STATIC / name
    media = _STATIC_TYPES.get(path.suffix)
    if media is None or not path.is_file():
        return _error_response(NotFound("No such file"))
    return FileResponse(path, media_type=media)


def _secured(response: Response, *, policy: str | None = None) -> Response:
    for key, value in _SECURITY.items():
        response.headers.setdefault(key, value)
    if policy is not None and "content-security-policy" not in response.headers:
        response.headers["Content-Security-Policy"] = policy
    elif "content-security-policy" not in response.headers:
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response
