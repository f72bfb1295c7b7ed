"""The Scones functions wired for the local Lambda runtime: the local store, a local endpoint, the threshold.

Like ``catalog``, not packed into the deployment zips (``scones.aws.package`` packs
one handler and ``helper.py``), so it may import the rest of scones.
"""

from __future__ import annotations

import os
from pathlib import Path

from scones.errors import UsageError
from scones.functions.catalog import SCONES_FUNCTIONS
from scones.functions.helper import LOCAL_STORE_ENV
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.runtime import DEFAULT_REGION


def scones_functions(*, store_root: str | os.PathLike[str], endpoint_url: str = "",
                     endpoint_name: str = "scones-endpoint", threshold: float | None = None,
                     region: str = DEFAULT_REGION, packaged: bool = False) -> list[FunctionConfig]:
    """The three Scones functions wired to the local store and a local endpoint.

    ``packaged`` attaches each function's deployment zip (needed for isolated mode).
    The credentials are placeholders: the local endpoint checks none, but boto3
    refuses to sign a request without some, as Lambda's own runtime provides.
    """
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise UsageError(f"The threshold must be in (0, 1], got {threshold:g}",
                         hint="filterInferences keeps an image when its top probability is at least the threshold")
    aws = {"AWS_ACCESS_KEY_ID": "scones-local", "AWS_SECRET_ACCESS_KEY": "scones-local",
           "AWS_DEFAULT_REGION": region}
    environments: dict[str, dict[str, str]] = {
        "serializeImageData": {LOCAL_STORE_ENV: str(Path(store_root).resolve())},
        "classifyImage": {**aws, "ENDPOINT_NAME": endpoint_name},
        "filterInferences": {} if threshold is None else {"THRESHOLD": repr(float(threshold))},
    }
    if endpoint_url:
        environments["classifyImage"]["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint_url
    configs = []
    for info in SCONES_FUNCTIONS:
        package = None
        if packaged:
            from scones.aws.package import build_function_zip

            package = build_function_zip(info.name)
        configs.append(FunctionConfig(name=info.name, handler=info.handler, environment=environments[info.name],
                                      timeout_seconds=float(info.timeout_seconds), memory_mb=info.memory_mb,
                                      package=package))
    return configs
