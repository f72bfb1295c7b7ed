"""Which operation a REST request names (rest-xml and rest-json alike), from botocore's service model.

Each operation's ``requestUri`` becomes a path pattern (``{Bucket}`` one segment, ``{Key+}`` the rest) and
the query keys it spells out (``?uploads``, ``?list-type=2``); its required query and header members
count too (``uploadId``, ``x-amz-copy-source``). Operations sharing a method and path are tried most
specific first, so ``PUT /{Bucket}/{Key+}`` with ``x-amz-copy-source`` and ``?partNumber&uploadId`` is
UploadPartCopy, without the header UploadPart, with neither PutObject.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.model import OperationModel, ServiceModel, StructureShape

from scones.gateway.protocols.values import NoSuchOperation

Headers = Mapping[str, str]
Query = Mapping[str, list[str]]


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    path: re.Pattern[str]
    literal_query: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    rank: tuple[int, int, str]

    def accepts(self, query: Query, headers: Headers) -> bool:
        for key, value in self.literal_query:
            got = query.get(key)
            if got is None or (value is not None and value not in got):
                return False
        return all(k in query for k in self.required_query) and all(h in headers for h in self.required_headers)


def _route(operation: OperationModel) -> _Route:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    pattern = "".join(
        ("(?P<%s>.+)" if m.group(2) else "(?P<%s>[^/]+)") % m.group(1) if m.group(1) else re.escape(m.group(0))
        for m in re.finditer(r"\{([A-Za-z0-9_]+)(\+?)\}|[^{]+", path))
    literal = tuple((k, v if sep else None) for k, sep, v in (p.partition("=") for p in query.split("&") if p))
    required_query: list[str] = []
    required_headers: list[str] = []
    shape = operation.input_shape
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            if location == "querystring":
                required_query.append(member.serialization.get("name", name))
            elif location == "header":
                required_headers.append(member.serialization.get("name", name).lower())
    specificity = 10 * len(literal) + len(required_query) + len(required_headers)
    # Deprecated twins (GetBucketLifecycle beside GetBucketLifecycleConfiguration) lose ties; then by name.
    rank = (-specificity, 1 if operation.deprecated else 0, operation.name)
    return _Route(operation, re.compile(f"^{pattern}$"), literal, tuple(required_query), tuple(required_headers), rank)


class RestRouter:
    """The operations of one service model, found by method, path and parameters."""

    def __init__(self, model: ServiceModel) -> None:
        # method -> [(path pattern, routes of that pattern most specific first, those needing no query)]: a
        # request matches its path against the few distinct templates once, then checks only those routes'
        # parameters; most object requests carry no query at all.
        self._routes: dict[str, list[tuple[re.Pattern[str], list[_Route], list[_Route]]]] = {}
        by_path: dict[tuple[str, str], list[_Route]] = {}
        for name in model.operation_names:
            route = _route(model.operation_model(name))
            by_path.setdefault((route.operation.http["method"], route.path.pattern), []).append(route)
        for (method, _), routes in by_path.items():
            routes.sort(key=lambda r: r.rank)
            bare = [r for r in routes if not r.literal_query and not r.required_query]
            self._routes.setdefault(method, []).append((routes[0].path, routes, bare))

    def match(self, method: str, path: str, query: Query, headers: Headers) -> tuple[OperationModel, dict[str, str]]:
        """The operation a request names, and its path labels; ``headers`` with lower-case names."""
        for pattern, routes, bare in self._routes.get(method, ()):
            found = pattern.match(path)
            if found is None:
                continue
            for route in routes if query else bare:
                if route.accepts(query, headers):
                    return route.operation, found.groupdict()
        if any(pattern.match(path) for groups in self._routes.values() for pattern, _, _ in groups):
            raise NoSuchOperation("MethodNotAllowed", "The specified method is not allowed against this resource.",
                                  405, Method=method)
        raise NoSuchOperation("InvalidRequest", f"No operation matches {method} {path}")
