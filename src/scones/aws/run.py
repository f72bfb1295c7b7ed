"""Run the deployed workflow on Step Functions: start an execution and wait for its outcome.

``scones workflow run --backend aws`` and ``run-batch --backend aws`` call
``run_on_aws`` / ``run_batch_on_aws``; the result mirrors what Step Functions
reports (status, output, error and cause), parsed from ``DescribeExecution`` here only.
"""

from __future__ import annotations

import enum
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from scones.aws.errors import ExecutionFailedError, NotDeployedError, is_not_found, wrap
from scones.aws.naming import Names, check_prefix
from scones.aws.session import AwsClients
from scones.errors import WorkflowError
from scones.progress import progress

LOG = logging.getLogger(__name__)

MAX_INPUT_BYTES: Final = 262_144  # Step Functions' state input quota (docs/aws-facts.md, Step Functions)


class ExecutionStatus(enum.Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"

    @property
    def done(self) -> bool:
        return self is not ExecutionStatus.RUNNING


@dataclass(frozen=True)
class ExecutionResult:
    execution_arn: str
    status: ExecutionStatus
    output: Any = None
    error: str | None = None
    cause: str | None = None

    @classmethod
    def from_describe(cls, response: dict[str, Any]) -> ExecutionResult:
        """Read a ``DescribeExecution`` response (``output`` is JSON text, present only on success)."""
        output = response.get("output")
        return cls(execution_arn=str(response["executionArn"]), status=ExecutionStatus(response["status"]),
                   output=json.loads(output) if output else None,
                   error=response.get("error"), cause=response.get("cause"))

    def result(self) -> dict[str, Any]:
        """The workflow CLI's protocol object, as the local ``Execution.result()`` gives it."""
        return {"status": self.status.value,
                "output": self.output if self.status is ExecutionStatus.SUCCEEDED else None,
                "error": self.error, "cause": self.cause, "executionArn": self.execution_arn}

    def check(self) -> ExecutionResult:
        """Return self when the execution succeeded, else raise ``ExecutionFailedError``."""
        if self.status is ExecutionStatus.SUCCEEDED:
            return self
        raise ExecutionFailedError(
            f"Execution {self.execution_arn} ended {self.status.value}"
            + (f": {self.error}" if self.error else "") + (f" ({self.cause})" if self.cause else ""),
            error=self.error, cause=self.cause,
            hint="see the execution's history in the Step Functions console; the failure was also "
                 "published to the deployment's SNS topic")


def _encode_input(execution_input: Any) -> str:
    try:
        text = json.dumps(execution_input)
    except (TypeError, ValueError) as exc:
        raise WorkflowError(f"The execution input is not JSON: {exc}") from exc
    if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
        raise WorkflowError(f"The execution input is {len(text.encode())} bytes; Step Functions accepts "
                            f"at most {MAX_INPUT_BYTES}", hint="pass S3 keys instead of inline data")
    return text


def start_execution(sfn: Any, state_machine_arn: str, execution_input: Any, *, name: str | None = None) -> str:
    text = _encode_input(execution_input)
    try:
        response = sfn.start_execution(stateMachineArn=state_machine_arn, input=text,
                                       name=name or f"scones-{uuid.uuid4().hex[:16]}")
    except Exception as exc:
        if is_not_found(exc):
            raise NotDeployedError(f"State machine {state_machine_arn} does not exist",
                                   hint="deploy it first with 'scones deploy aws'") from exc
        raise wrap(exc, action="start an execution of", resource=f"state machine {state_machine_arn}") from exc
    return str(response["executionArn"])


def wait_for_execution(sfn: Any, execution_arn: str, *, timeout_seconds: float = 900.0,
                       poll_seconds: float = 1.0, show_progress: bool = True,
                       sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic) -> ExecutionResult:
    deadline = clock() + timeout_seconds
    with progress(total=None, enabled=show_progress, desc="execution", unit="poll") as bar:
        while True:
            try:
                result = ExecutionResult.from_describe(sfn.describe_execution(executionArn=execution_arn))
            except Exception as exc:
                raise wrap(exc, action="read", resource=f"execution {execution_arn}") from exc
            bar.set_postfix_str(result.status.value)
            bar.update(1)
            if result.status.done:
                return result
            if clock() >= deadline:
                raise WorkflowError(f"Execution {execution_arn} is still RUNNING after {timeout_seconds:.0f} s",
                                    hint="it keeps running on AWS; check it in the Step Functions console")
            sleep(poll_seconds)


def _run(clients: AwsClients, stem: str, execution_input: Any, *, prefix: str, name: str | None, wait: bool,
         timeout_seconds: float, poll_seconds: float, show_progress: bool,
         sleep: Callable[[float], None]) -> ExecutionResult:
    check_prefix(prefix)
    names = Names(prefix=prefix, bucket="", account=clients.account_id(), region=clients.region,
                  partition=clients.partition())
    arn = start_execution(clients.sfn, names.state_machine_arn(stem), execution_input, name=name)
    LOG.info("started %s", arn)
    if not wait:
        return ExecutionResult(execution_arn=arn, status=ExecutionStatus.RUNNING)
    try:
        return wait_for_execution(clients.sfn, arn, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds,
                                  show_progress=show_progress, sleep=sleep)
    except KeyboardInterrupt:
        # Ctrl-C stops the waiting, not the execution: say where to find it.
        raise WorkflowError(f"Stopped waiting; the execution keeps running on AWS: {arn}",
                            hint="follow it in the Step Functions console, or stop it with "
                                 f"'aws stepfunctions stop-execution --execution-arn {arn}'") from None


def run_on_aws(clients: AwsClients, execution_input: Any, *, prefix: str = "scones", name: str | None = None,
               wait: bool = True, timeout_seconds: float = 900.0, poll_seconds: float = 1.0,
               show_progress: bool = True, sleep: Callable[[float], None] = time.sleep) -> ExecutionResult:
    """Run the single-image workflow (input ``{"s3_bucket": ..., "s3_key": ...}``) on Step Functions."""
    return _run(clients, "scones", execution_input, prefix=prefix, name=name, wait=wait,
                timeout_seconds=timeout_seconds, poll_seconds=poll_seconds, show_progress=show_progress,
                sleep=sleep)


def run_batch_on_aws(clients: AwsClients, execution_input: Any, *, prefix: str = "scones", name: str | None = None,
                     wait: bool = True, timeout_seconds: float = 3600.0, poll_seconds: float = 2.0,
                     show_progress: bool = True, sleep: Callable[[float], None] = time.sleep) -> ExecutionResult:
    """Run the batch workflow (``scones-batch.asl.json``) on Step Functions."""
    return _run(clients, "scones-batch", execution_input, prefix=prefix, name=name, wait=wait,
                timeout_seconds=timeout_seconds, poll_seconds=poll_seconds, show_progress=show_progress,
                sleep=sleep)
