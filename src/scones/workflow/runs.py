"""Library functions behind ``scones workflow``: read arguments, validate, run, look up history.

The CLI only parses and prints; everything it does is callable from here
(and kept free of heavy imports, so ``scones workflow run`` starts fast).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scones.errors import WorkflowError
from scones.workflow.asl.errors import InputError, ValidationError

if TYPE_CHECKING:
    from scones.lambda_runtime.contract import LambdaInvoker
    from scones.store import Store
    from scones.workflow.asl.executor import Execution, StopRequest


def read_definition(path: str | Path) -> str:
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise WorkflowError(f"No definition file at {file}", hint="pass --definition path/to/machine.asl.json") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowError(f"Cannot read the definition {file}: {exc}") from exc


def parse_input(text: str) -> Any:
    """``--input``: JSON text, or ``@FILE`` naming a file that holds it."""
    source = "--input"
    if text.startswith("@"):
        file = Path(text[1:])
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"Cannot read the input file {file}: {exc}",
                             hint="pass --input '{...}' or --input @path/to/input.json") from exc
        source = str(file)
    from scones.workflow.asl.jsontext import JsonTextError, parse_json

    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise InputError(f"The execution input in {source} is not valid JSON: {exc}",
                         hint="the input must be a JSON value, e.g. '{\"s3_key\": \"test/x.png\"}'") from exc


def may_call_lambda(path: str | Path) -> bool:
    """Whether a definition file might invoke Lambda: False only when no Task can reach a function
    (no ``Resource`` other than a non-Lambda service integration, no ``FunctionName``).

    A cheap pre-check so ``scones workflow run`` of a plain definition skips importing the Scones
    pipeline (which it needs only for definitions that call the Scones functions).
    Unreadable or invalid files answer True: the full check then reports the problem.
    """
    from scones.workflow.asl.jsontext import parse_json

    try:
        doc = parse_json(read_definition(path))
    except (WorkflowError, ValueError):
        return True
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "FunctionName" in node:
                return True
            resource = node.get("Resource")
            if resource is not None and not (isinstance(resource, str) and resource.startswith("arn:aws:states:::")
                                             and "lambda" not in resource.lower()):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def validate_file(path: str | Path) -> list[ValidationError]:
    from scones.workflow.asl import validate_definition

    return validate_definition(read_definition(path))


def run_file(definition: str | Path, input_text: str, *, name: str | None, store: Store | None,
             invoker: LambdaInvoker | None = None) -> Execution:
    """Run a definition file once; the execution is persisted in ``store`` when given.

    Ctrl-C stops the execution as StopExecution would (ABORTED, also during a Wait) and the
    aborted record is still persisted; a second Ctrl-C interrupts at once.
    """
    from scones.workflow.asl.executor import Executor, StopRequest

    execution_input = parse_input(input_text)
    machine_name = Path(definition).name.split(".")[0] or "scones-local"
    executor = Executor(read_definition(definition), invoker=invoker, store=store, state_machine_name=machine_name)
    stop = StopRequest()
    with _stop_on_interrupt(stop):
        return executor.run(execution_input, name=name, stop=stop)


@contextlib.contextmanager
def _stop_on_interrupt(stop: StopRequest) -> Iterator[None]:
    """While running, SIGINT requests a stop instead of raising (only possible in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.request("Interrupted", "The execution was stopped from the command line (Ctrl-C)")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def executions_store(uri: str) -> Store:
    from scones.store import open_store

    return open_store(uri)
