"""The isolated worker's main loop: one function's handler in a clean interpreter, the way a Lambda sandbox runs it.

Run as a script (``python -I -S``, see ``worker.py``) whose ``sys.path`` holds only
the function's unpacked zip, boto3 and the standard library — what a Lambda
sandbox holds. It imports nothing from scones: the Lambda contract is loaded
from ``contract.py`` beside this file, by path, under a private module name,
so it can shadow nothing in the function's zip.

Protocol, one JSON object per line: the worker first answers ``{"ready": true}``
once the handler is loaded (or failed to load); then the parent writes
``{"request_id", "event", "timeout_ms", "arn"}`` on stdin and the worker
answers ``{"payload", "error"}`` on the descriptor it was given. The handler's
own prints go to stderr, as they go to CloudWatch on AWS.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, TextIO

CONTRACT_MODULE: Final = "_scones_lambda_contract"


def _load_contract() -> ModuleType:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "contract.py")
    spec = importlib.util.spec_from_file_location(CONTRACT_MODULE, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load the Lambda contract from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[CONTRACT_MODULE] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from scones.lambda_runtime import contract
else:
    contract = _load_contract()


def serve(requests: TextIO, replies: TextIO) -> None:
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    init_error: dict[str, Any] | None = None
    handler: contract.Handler | None = None
    try:
        handler = contract.load_handler(os.environ["_HANDLER"])
    except contract.HandlerInitError as exc:
        init_error = exc.error_object()
    replies.write(json.dumps({"ready": True}) + "\n")
    for line in requests:
        request = json.loads(line)
        if handler is None:
            payload, failed = init_error, True
        else:
            context = contract.LambdaContext(
                function_name=name, invoked_function_arn=request["arn"], memory_limit_in_mb=memory,
                aws_request_id=request["request_id"], deadline=time.monotonic() + request["timeout_ms"] / 1000.0)
            payload, failed = contract.call_handler(handler, request["event"], context)
        replies.write(json.dumps({"payload": payload, "error": failed}) + "\n")


def main() -> None:
    # Keep the protocol channel private: anything the handler prints goes to stderr.
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, channel)


if __name__ == "__main__":
    main()
