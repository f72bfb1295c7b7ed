"""``scones workflow approve`` / ``reject``: answer a task waiting for a callback, through a Step Functions API.

The task token of a ``.waitForTaskToken`` state is held by the execution service that
runs the execution; ``scones up`` serves it, so these send ``SendTaskSuccess`` /
``SendTaskFailure`` to its Step Functions API (``--endpoint-url``, or ``AWS_ENDPOINT_URL``),
exactly as any other program would. An execution waiting inside a ``scones workflow run``
process cannot be reached this way: that process serves no API.
"""

from __future__ import annotations

import json
from typing import Any, Final

from scones.errors import UsageError, WorkflowError
from scones.local_account import LOCAL_REGION

#: What each refusal means for the person answering (the API's own message is shown too).
_HINTS: Final = {
    "TaskTimedOut": "the task no longer waits for this token: it was answered already, it timed out, or its "
                    "execution ended or was stopped",
    "TaskDoesNotExist": "no execution of this endpoint issued this token (waiting executions do not survive a "
                        "restart of 'scones up')",
    "InvalidToken": "pass the token exactly as published (it is long: quote it)",
    "InvalidOutput": "the output must be JSON text",
}


def approve(token: str, *, label: str, endpoint_url: str | None) -> dict[str, Any]:
    """``SendTaskSuccess`` with ``{"label": label}``; returns the output sent."""
    output = {"label": label}
    send_task_success(token, output, endpoint_url=endpoint_url)
    return output


def reject(token: str, *, error: str | None, cause: str | None, endpoint_url: str | None) -> None:
    """``SendTaskFailure``: the waiting task fails with ``error`` and ``cause`` (its Catch may take it)."""
    kwargs = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
    _call("send_task_failure", endpoint_url, taskToken=token, **kwargs)


def send_task_success(token: str, output: Any, *, endpoint_url: str | None) -> None:
    _call("send_task_success", endpoint_url, taskToken=token, output=json.dumps(output))


def _call(operation: str, endpoint_url: str | None, **params: Any) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    if not endpoint_url:
        raise UsageError("No Step Functions endpoint to send the answer to",
                         hint="start 'scones up' and pass --endpoint-url http://127.0.0.1:4566 (or set "
                              "AWS_ENDPOINT_URL); the task token is held by the service running the execution")
    session = boto3.session.Session()
    # A local endpoint without --access-key checks no signature, but boto3 signs every request.
    signed = session.get_credentials() is not None
    client = session.client("stepfunctions", endpoint_url=endpoint_url,
                            region_name=session.region_name or LOCAL_REGION,
                            config=Config(inject_host_prefix=False, retries={"max_attempts": 2}),
                            aws_access_key_id=None if signed else "scones",
                            aws_secret_access_key=None if signed else "scones")
    try:
        getattr(client, operation)(**params)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Error")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise WorkflowError(f"{code}: {message}", hint=_HINTS.get(code, "see the message above")) from exc
    except BotoCoreError as exc:
        raise WorkflowError(f"Could not reach the Step Functions endpoint at {endpoint_url}: {exc}",
                            hint="is 'scones up' running there?") from exc
