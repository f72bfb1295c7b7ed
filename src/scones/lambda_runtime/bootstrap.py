"""The isolated worker's main loop: one function's handler in a clean interpreter, the way a Lambda sandbox runs it.

Run as a script (``python -I -S``, see ``worker.py``) whose ``sys.path`` holds only
the function's unpacked zip, boto3 and the standard library — what a Lambda
sandbox holds. It imports nothing from scones: the Lambda contract and the log
framing are loaded from ``contract.py`` and ``logs.py`` beside this file, by
path, under private module names, so they can shadow nothing in the function's zip.

Protocol, one JSON object per line: the worker first answers ``{"ready": true}``
once the handler is loaded (or failed to load); then the parent writes
``{"request_id", "event", "timeout_ms", "arn"}`` on stdin and the worker
answers ``{"payload", "error", "log"}`` on the descriptor it was given; ``log``
is the invocation's log as CloudWatch would show it (START ... REPORT).
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
LOGS_MODULE: Final = "_scones_lambda_logs"


def _load(file: str, module_name: str) -> ModuleType:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), file)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from scones.lambda_runtime import contract, logs
else:
    contract = _load("contract.py", CONTRACT_MODULE)
    logs = _load("logs.py", LOGS_MODULE)


def serve(requests: TextIO, replies: TextIO) -> None:
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    init_error: dict[str, Any] | None = None
    handler: contract.Handler | None = None
    logs.route_output()
    init_log = logs.InvocationLog("init")
    try:
        with logs.capturing(init_log):
            handler = contract.load_handler(os.environ["_HANDLER"])
    except contract.HandlerInitError as exc:
        init_error = exc.error_object()
    replies.write(json.dumps({"ready": True}) + "\n")
    pending_init = init_log.text()  # what the module printed on import: the first invocation's log shows it
    for line in requests:
        request = json.loads(line)
        request_id = request["request_id"]
        log = logs.start(request_id)
        log.write(pending_init)
        pending_init = ""
        started = time.perf_counter()
        if handler is None:
            payload, failed = init_error, True
        else:
            context = contract.LambdaContext(
                function_name=name, invoked_function_arn=request["arn"], memory_limit_in_mb=memory,
                aws_request_id=request_id, deadline=time.monotonic() + request["timeout_ms"] / 1000.0)
            with logs.capturing(log):
                payload, failed = contract.call_handler(handler, request["event"], context)
        if failed:
            log.write(logs.error_lines(payload))
        logs.end(log, (time.perf_counter() - started) * 1000, memory)
        replies.write(json.dumps({"payload": payload, "error": failed, "log": log.text()}) + "\n")


def main() -> None:
    # Keep the protocol channel private: anything the handler prints goes to stderr.
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, channel)


if __name__ == "__main__":
    main()
