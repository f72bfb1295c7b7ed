"""One real gateway per test module, serving Step Functions on a loopback port, driven by boto3.

Its functions (``work``) wait at a gate named by their event until a test opens it, so
executions can be caught while they run.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.workflow.asl import CallableLambdaInvoker

from .server import ROLE, Running, running_gateway

PASS = json.dumps({"StartAt": "One", "States": {
    "One": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.one", "Next": "Two"},
    "Two": {"Type": "Pass", "End": True}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}})
#: Calls ``work`` with the execution input: it returns once the test opens the gate ``$.gate``.
GATED = json.dumps({"StartAt": "Work", "States": {"Work": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
    "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "End": True}}})


class Gates:
    """``work``'s gates: it records that it was entered, then waits until the gate opens (or 30 s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entered: dict[str, threading.Event] = {}
        self._open: dict[str, threading.Event] = {}

    def _events(self, gate: str) -> tuple[threading.Event, threading.Event]:
        with self._lock:
            return (self._entered.setdefault(gate, threading.Event()),
                    self._open.setdefault(gate, threading.Event()))

    def work(self, event: Any, context: Any) -> Any:
        entered, opened = self._events(event["gate"])
        entered.set()
        opened.wait(30)
        return {"done": event["gate"]}

    def entered(self, gate: str, timeout: float = 10) -> bool:
        return self._events(gate)[0].wait(timeout)

    def open(self, gate: str) -> None:
        self._events(gate)[1].set()

    def open_all(self) -> None:
        with self._lock:
            for event in self._open.values():
                event.set()


@pytest.fixture(scope="module")
def gates() -> Iterator[Gates]:
    found = Gates()
    yield found
    found.open_all()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, gates: Gates) -> Iterator[Running]:
    with running_gateway(tmp_path_factory.mktemp("home"), invoker=CallableLambdaInvoker({"work": gates.work})) \
            as running:
        yield running
        gates.open_all()


@pytest.fixture(scope="module")
def sfn(gateway: Running) -> Any:
    return gateway.client()


_names = itertools.count()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test of the module uses."""
    return lambda prefix: f"{prefix}-{next(_names)}-{time.monotonic_ns() % 10**9}"


@pytest.fixture
def machine(sfn: Any, unique: Callable[[str], str]) -> Callable[..., str]:
    """``machine(definition, type="STANDARD")`` -> the ARN of a new state machine."""
    def create(definition: str = PASS, type: str = "STANDARD") -> str:
        return str(sfn.create_state_machine(name=unique("sm"), definition=definition, roleArn=ROLE,
                                            type=type)["stateMachineArn"])
    return create


def wait_for(sfn: Any, arn: str, timeout: float = 10) -> dict[str, Any]:
    """DescribeExecution until the execution is no longer RUNNING."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.005)


def home_of(running: Running) -> Path:
    records = running.executions.records
    assert records is not None and records.folder is not None
    return records.folder
