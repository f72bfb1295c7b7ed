"""``.waitForTaskToken`` in the interpreter: the token in the context object, the wait, its answers and limits.

The expected events and error names are AWS's, as LocalStack recorded them against AWS (callback and
heartbeat tests; see docs/aws-facts.md, Task tokens).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from scones.workflow.asl import CallableLambdaInvoker, Executor, FakeClock, SystemClock, run_execution
from scones.workflow.asl.callbacks import CallbackError, CallbackErrorKind, TaskTokens, issue_token, token_execution
from scones.workflow.asl.connections import Connections

from .helpers import one_state

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def ask(**extra: Any) -> dict[str, Any]:
    """One `.waitForTaskToken` state calling the function ``ask`` with the token and the input."""
    return one_state({"Type": "Task", "Resource": CALLBACK,
                      "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token", "input.$": "$"}},
                      **extra})


def answering(connections: Connections, answer: Any, *, delay: float = 0.0) -> Any:
    """A function that answers its own token (``answer(callbacks, token)``), after ``delay`` seconds."""
    tokens: list[str] = []

    def handler(event: Any, context: Any) -> Any:
        tokens.append(event["token"])
        if delay:
            threading.Timer(delay, answer, (connections.callbacks, event["token"])).start()
        else:
            answer(connections.callbacks, event["token"])
        return {"asked": True}

    handler.tokens = tokens  # type: ignore[attr-defined]
    return handler


def run_with(definition: dict[str, Any], handler: Any, connections: Connections, data: Any = None,
             clock: Any = None) -> Any:
    return run_execution(definition, {} if data is None else data, clock=clock or FakeClock(),
                         invoker=CallableLambdaInvoker({"ask": handler}), connections=connections)


def events_of(execution: Any) -> list[dict[str, Any]]:
    return execution.events()


def details(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventDetails"))


def test_success_resumes_the_task_with_the_output_sent() -> None:
    connections = Connections()
    handler = answering(connections, lambda cb, token: cb.succeed(token, '{"label": "motorcycle"}'))
    execution = run_with(ask(), handler, connections, {"image": "x.png"})
    assert execution.status.value == "SUCCEEDED" and execution.output == {"label": "motorcycle"}
    events = events_of(execution)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    scheduled, submitted, succeeded = details(events[2]), details(events[4]), details(events[5])
    token = handler.tokens[0]
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "ask",
                                                   "Payload": {"token": token, "input": {"image": "x.png"}}}
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke.waitForTaskToken")
    # TaskSubmitted records what the invocation returned; TaskSucceeded the callback's output
    assert json.loads(submitted["output"])["Payload"] == {"asked": True}
    assert submitted["resource"] == "invoke.waitForTaskToken" and submitted["outputDetails"] == {"truncated": False}
    assert json.loads(succeeded["output"]) == {"label": "motorcycle"}
    assert token_execution(token) == execution.execution_arn


def test_an_answer_that_comes_later_from_another_thread_is_waited_for() -> None:
    connections = Connections()
    handler = answering(connections, lambda cb, token: cb.succeed(token, '"late"'), delay=0.2)
    execution = run_with(ask(TimeoutSeconds=30), handler, connections, clock=SystemClock())
    assert (execution.status.value, execution.output) == ("SUCCEEDED", "late")


def test_failure_fails_the_task_with_the_error_and_cause_sent() -> None:
    connections = Connections()
    handler = answering(connections, lambda cb, token: cb.fail(token, "Rejected", "blurry image"))
    execution = run_with(ask(), handler, connections)
    assert (execution.status.value, execution.error, execution.cause) == ("FAILED", "Rejected", "blurry image")
    failed = events_of(execution)[-2]
    assert failed["type"] == "TaskFailed" and details(failed) == {
        "resourceType": "lambda", "resource": "invoke.waitForTaskToken", "error": "Rejected", "cause": "blurry image"}


def test_a_failure_without_error_or_cause_is_caught_by_states_all() -> None:
    connections = Connections()
    handler = answering(connections, lambda cb, token: cb.fail(token))
    definition = ask(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], Next="Caught")
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    execution = run_with(definition, handler, connections)
    assert execution.status.value == "SUCCEEDED" and execution.output == {}
    assert details(events_of(execution)[5]) == {"resourceType": "lambda", "resource": "invoke.waitForTaskToken"}


@pytest.mark.timeout(30)
def test_no_heartbeat_times_the_task_out_as_states_timeout_which_heartbeat_timeout_catches() -> None:
    definition = ask(HeartbeatSeconds=1, TimeoutSeconds=600, Next="Caught",
                     Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                            {"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}])
    definition["States"].update({"Caught": {"Type": "Pass", "End": True}, "Wrong": {"Type": "Fail"}})
    started = time.monotonic()
    execution = run_with(definition, lambda event, context: {}, Connections(), clock=SystemClock())
    assert 0.9 < time.monotonic() - started < 5
    assert execution.status.value == "SUCCEEDED" and execution.output == {"Error": "States.Timeout"}
    timed_out = events_of(execution)[5]
    # AWS records a heartbeat timeout as States.Timeout, without a cause
    assert timed_out["type"] == "TaskTimedOut" and details(timed_out) == {
        "resourceType": "lambda", "resource": "invoke.waitForTaskToken", "error": "States.Timeout"}
    assert json.loads(details(events_of(execution)[2])["parameters"])["FunctionName"] == "ask"
    assert (details(events_of(execution)[2])["heartbeatInSeconds"],
            details(events_of(execution)[2])["timeoutInSeconds"]) == (1, 600)


@pytest.mark.timeout(30)
def test_heartbeats_keep_a_task_waiting_past_its_heartbeat_seconds() -> None:
    connections = Connections()

    def beat_then_succeed(callbacks: TaskTokens, token: str) -> None:
        for _ in range(5):
            time.sleep(0.3)
            callbacks.heartbeat(token)
        callbacks.succeed(token, '{"beats": 5}')

    handler = answering(connections, lambda cb, token: threading.Thread(target=beat_then_succeed,
                                                                        args=(cb, token)).start())
    started = time.monotonic()
    execution = run_with(ask(HeartbeatSeconds=1), handler, connections, clock=SystemClock())
    assert time.monotonic() - started > 1.4  # longer than one heartbeat period
    assert (execution.status.value, execution.output) == ("SUCCEEDED", {"beats": 5})


def test_timeout_seconds_ends_the_wait_with_states_timeout() -> None:
    clock = FakeClock()
    execution = run_with(ask(TimeoutSeconds=300), lambda event, context: {}, Connections(), clock=clock)
    assert (execution.status.value, execution.error, execution.cause) == ("FAILED", "States.Timeout", None)
    assert events_of(execution)[-2]["type"] == "TaskTimedOut"
    assert clock.now() - 1_700_000_000 == pytest.approx(300)


def test_a_retried_task_gets_a_new_token_and_the_old_one_is_closed() -> None:
    connections = Connections()
    tokens: list[str] = []

    def handler(event: Any, context: Any) -> Any:
        tokens.append(event["token"])
        if len(tokens) == 1:
            connections.callbacks.fail(event["token"], "Flaky")
        else:
            connections.callbacks.succeed(event["token"], '"second"')
        return {}

    execution = run_with(ask(Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}]), handler, connections)
    assert execution.output == "second" and len(set(tokens)) == 2
    with pytest.raises(CallbackError) as exc:
        connections.callbacks.succeed(tokens[0], "{}")
    assert exc.value.kind is CallbackErrorKind.TASK_TIMED_OUT


def test_the_token_is_in_the_context_object_of_callback_tasks_only() -> None:
    plain = one_state({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}}})
    execution = run_with(plain, lambda event, context: {}, Connections())
    assert execution.error == "States.Runtime"
    assert "The JSONPath '$$.Task.Token' specified for the field 'token.$' could not be found" in execution.cause


def test_jsonata_arguments_read_the_token_from_states_context() -> None:
    connections = Connections()
    handler = answering(connections, lambda cb, token: cb.succeed(token, '{"ok": 1}'))
    definition = {"QueryLanguage": "JSONata", **one_state({
        "Type": "Task", "Resource": CALLBACK,
        "Arguments": {"FunctionName": "ask", "Payload": {"token": "{% $states.context.Task.Token %}"}},
        "Output": "{% $states.result %}"})}
    assert run_with(definition, handler, connections).output == {"ok": 1}


def test_a_function_error_fails_the_task_before_anything_is_submitted() -> None:
    def broken(event: Any, context: Any) -> Any:
        raise ValueError("no reviewer")

    execution = run_with(ask(), broken, Connections())
    assert execution.error == "ValueError"
    assert [e["type"] for e in events_of(execution)][-3:] == ["TaskStarted", "TaskFailed", "ExecutionFailed"]


@pytest.mark.timeout(30)
def test_a_stopped_execution_closes_its_tokens() -> None:
    connections = Connections()
    executor = Executor(ask(), invoker=CallableLambdaInvoker({"ask": lambda e, c: {}}), connections=connections)
    run = executor.start({})
    thread = threading.Thread(target=run.run)
    thread.start()
    deadline = time.monotonic() + 10
    while not connections.callbacks.waiting() and time.monotonic() < deadline:
        time.sleep(0.01)
    (waiting,) = connections.callbacks.waiting()
    assert run.stop("Stopped", "by the test")
    thread.join(10)
    with pytest.raises(CallbackError) as exc:
        connections.callbacks.succeed(waiting.token, "{}")
    assert exc.value.kind is CallbackErrorKind.TASK_TIMED_OUT
    assert str(exc.value.message) == "Task Timed Out: 'Provided task does not exist anymore'"


@pytest.mark.parametrize(("token", "kind", "message"), [
    ("not-a-token", CallbackErrorKind.INVALID_TOKEN, "Invalid Token: 'Invalid token'"),
    (issue_token("arn:aws:states:us-east-1:123456789012:execution:m:gone", "S"),
     CallbackErrorKind.TASK_DOES_NOT_EXIST, "Task Does Not Exist: 'Provided task does not exist'"),
], ids=["malformed", "never-issued-here"])
def test_answers_to_unknown_tokens_are_refused(token: str, kind: CallbackErrorKind, message: str) -> None:
    tokens = TaskTokens()
    for answer in (lambda: tokens.succeed(token, "{}"), lambda: tokens.fail(token), lambda: tokens.heartbeat(token)):
        with pytest.raises(CallbackError) as exc:
            answer()
        assert (exc.value.kind, exc.value.message) == (kind, message)


def test_output_that_is_not_json_is_refused_and_the_task_keeps_waiting() -> None:
    tokens = TaskTokens()
    task = tokens.open("arn:aws:states:us-east-1:123456789012:execution:m:e", "S")
    with pytest.raises(CallbackError) as exc:
        tokens.succeed(task.token, "{not json")
    assert exc.value.kind is CallbackErrorKind.INVALID_OUTPUT and exc.value.message.startswith("Invalid Output: '")
    assert not task.answered.is_set()
    tokens.succeed(task.token, "[1]")
    assert task.outcome is not None and task.answered.is_set()
    with pytest.raises(CallbackError) as second:
        tokens.succeed(task.token, "[2]")  # one answer per token
    assert second.value.kind is CallbackErrorKind.TASK_TIMED_OUT


def test_listeners_hear_of_each_token_as_it_opens() -> None:
    heard: list[str] = []
    connections = Connections(TaskTokens(listeners=(lambda task: heard.append(task.state_name),)))
    handler = answering(connections, lambda cb, token: cb.succeed(token, "{}"))
    run_with(ask(), handler, connections)
    assert heard == ["S"]
