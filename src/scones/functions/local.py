"""The Scones functions wired for the local Lambda runtime: the local store, a local endpoint, the threshold.

What the functions are (names, handlers, timeouts, memory) comes from ``template.yaml`` beside this
file, read by the same loader as a user's SAM template (``scones.templates``): one mechanism, and
scones is its first user. What is local (the store root, the endpoint's URL and name, the threshold)
is added here. Like ``catalog``, not packed into the deployment zips (``scones.aws.package`` packs
one handler and ``helper.py``), so it may import the rest of scones.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Final

from scones.declarations import Declarations, Origin
from scones.errors import UsageError
from scones.functions.helper import LOCAL_STORE_ENV
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.runtime import DEFAULT_REGION

#: scones' own workflow as an AWS SAM template: the three functions and the two state machines.
TEMPLATE: Final = Path(__file__).resolve().with_name("template.yaml")
#: The state machines by the names ``scones workflow run --definition`` knows...
SHIPPED_NAMES: Final = ("scones", "scones-batch")
#: ...and by the names ``scones deploy aws`` gives them, which ``scones up`` serves.
DEPLOYED_NAMES: Final = ("scones-workflow", "scones-workflow-batch")


@functools.lru_cache(maxsize=2)
def scones_declarations(*, deployed_names: bool = False) -> Declarations:
    """scones' own functions and state machines, from its shipped template, all ``Origin.BUILT_IN``.

    ``deployed_names`` names the state machines as ``scones deploy aws`` does (``scones-workflow``,
    ``scones-workflow-batch``) instead of by their definition files (``scones``, ``scones-batch``).
    Read once per process: treat the result as read-only.
    """
    from scones.templates import load_template

    names = "deployed" if deployed_names else "shipped"
    return load_template(TEMPLATE, parameters={"StateMachineNames": names}, origin=Origin.BUILT_IN)


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
    local: dict[str, dict[str, str]] = {
        "serializeImageData": {LOCAL_STORE_ENV: str(Path(store_root).resolve())},
        "classifyImage": {**aws, "ENDPOINT_NAME": endpoint_name},
        "filterInferences": {} if threshold is None else {"THRESHOLD": repr(float(threshold))},
    }
    if endpoint_url:
        local["classifyImage"]["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint_url
    configs = []
    for spec in scones_declarations().functions.values():
        package = None
        if packaged:
            from scones.aws.package import build_function_zip

            package = build_function_zip(spec.name)
        configs.append(FunctionConfig(name=spec.name, handler=spec.handler,
                                      environment={**spec.environment, **local.get(spec.name, {})},
                                      timeout_seconds=spec.timeout_seconds, memory_mb=spec.memory_mb,
                                      package=package))
    return configs
