"""Path-style (``/bucket/key``) and virtual-hosted-style (``Host: bucket.localhost:4566``) addressing.

botocore picks virtual-hosted style for DNS-compatible buckets when the endpoint has a host name
(``http://localhost:4566`` -> ``bucket.localhost:4566``) and path style for IP endpoints. A virtual-hosted
request is rewritten to path style before routing, so operations never see the difference. Recognised
hosts: ``<bucket>.localhost``, ``<bucket>.s3.localhost``, ``<bucket>.s3.<region>.localhost`` and the same
under ``amazonaws.com`` (for clients pointed here by DNS), plus any ``extra_domains`` given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

DEFAULT_DOMAINS: Final = ("localhost", "amazonaws.com", "localhost.localstack.cloud")
_S3_LABEL: Final = re.compile(r"\.s3(?:[.-][a-z0-9-]+)?$")


class Addressing:
    def __init__(self, extra_domains: Iterable[str] = ()) -> None:
        self.domains = tuple(sorted({*DEFAULT_DOMAINS, *(d.lower().strip(".") for d in extra_domains)},
                                    key=len, reverse=True))
        self._cache: dict[str, str | None] = {}

    def bucket_of_host(self, host: str) -> str | None:
        """The bucket a virtual-hosted ``Host`` names, or None (path style)."""
        found = self._cache.get(host, "")
        if found != "":
            return found
        bucket = self._parse(host)
        if len(self._cache) < 4096:
            self._cache[host] = bucket
        return bucket

    def _parse(self, host: str) -> str | None:
        name = host.lower()
        if name.startswith("["):
            return None  # IPv6 literal
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        for domain in self.domains:
            if name.endswith("." + domain):
                rest = _S3_LABEL.sub("", name[: -len(domain) - 1])
                if not rest or rest == "s3" or rest.startswith("s3.") or rest.startswith("s3-"):
                    return None
                return host.split(":", 1)[0][: len(rest)]
        return None

    def path_style(self, path: str, host: str) -> str:
        """The request path as if it were addressed path-style; ``/bucket/`` is the bucket itself."""
        bucket = self.bucket_of_host(host) if host else None
        if bucket is not None:
            path = f"/{bucket}" + (path if path != "/" else "")
        if path.count("/") == 2 and path.endswith("/") and len(path) > 2:
            path = path[:-1]
        return path
