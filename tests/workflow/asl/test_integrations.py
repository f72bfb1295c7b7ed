"""``states:startExecution`` (request-response, ``.sync``, ``.sync:2``, ``.waitForTaskToken``) and ``sns:publish``
in the interpreter, with a small stand-in for the owner of executions. The shapes are AWS's, as recorded by
LocalStack's callback tests (docs/aws-facts.md, Nested executions)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from scones.workflow.asl import Execution, ExecutionStatus, Executor, FakeClock, SystemClock, run_execution
from scones.workflow.asl.connections import Connections, ServiceCallError

from .helpers import one_state

CHILD_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:child"


class Children:
    """Starts executions of in-memory state machines by ARN, as the execution service would."""

    def __init__(self, machines: dict[str, dict[str, Any]], connections: Connections | None = None) -> None:
        self.machines = machines
        self.started: list[tuple[str, Any, str | None, str]] = []
        self.stopped: list[str] = []
        self.connections = connections

    def start_child(self, state_machine_arn: str, input: Any, *, name: str | None, parent_arn: str) -> Any:
        if state_machine_arn not in self.machines:
            raise ServiceCallError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{state_machine_arn}'")
        self.started.append((state_machine_arn, input, name, parent_arn))
        executor = Executor(self.machines[state_machine_arn], state_machine_name=state_machine_arn.rsplit(":", 1)[1],
                            clock=SystemClock(), connections=self.connections)
        run = executor.start(input, name=name)
        threading.Thread(target=run.run, daemon=True).start()
        stopped = self.stopped

        class Child:
            record = run.record
            done = run.done

            def stop(self, error: str | None, cause: str | None) -> None:
                stopped.append(run.record.execution_arn)
                run.stop(error, cause)

        return Child()


def start(resource: str, **parameters: Any) -> dict[str, Any]:
    return one_state({"Type": "Task", "Resource": f"arn:aws:states:::states:startExecution{resource}",
                      "Parameters": {"StateMachineArn": CHILD_ARN, **parameters}})


def run_parent(definition: dict[str, Any], children: Children | None, data: Any = None) -> Execution:
    connections = Connections(children=children) if children is not None else Connections()
    return run_execution(definition, {} if data is None else data, clock=SystemClock(), connections=connections)


def details(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventDetails"))


PASS_CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}
FAIL_CHILD = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure",
                                               "Cause": "This state machines raises a 'SomeFailure' failure."}}}


def test_start_execution_returns_the_start_answer_and_does_not_wait() -> None:
    children = Children({CHILD_ARN: PASS_CHILD})
    execution = run_parent(start("", Input={"Comment": "Hello world!"}, Name="TestStartTarget"), children)
    output = execution.output
    assert list(output) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert output["ExecutionArn"].endswith(":execution:child:TestStartTarget")
    assert isinstance(output["StartDate"], int) and output["StartDate"] > 1_600_000_000_000  # epoch milliseconds
    assert output["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert children.started == [(CHILD_ARN, {"Comment": "Hello world!"}, "TestStartTarget",
                                  execution.execution_arn)]
    assert [e["type"] for e in execution.events()][2:6] == ["TaskScheduled", "TaskStarted", "TaskSucceeded",
                                                           "TaskStateExited"]


@pytest.mark.parametrize(("suffix", "parsed"), [(".sync", False), (".sync:2", True)], ids=["sync", "sync2"])
def test_sync_waits_for_the_child_and_returns_describe_execution(suffix: str, parsed: bool) -> None:
    children = Children({CHILD_ARN: PASS_CHILD})
    execution = run_parent(start(suffix, Input=None, Name="TestStartTarget"), children)
    output = execution.output
    assert list(output) == ["ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails", "StartDate",
                            "StateMachineArn", "Status", "StopDate"]
    assert (output["Status"], output["Name"], output["StateMachineArn"]) == ("SUCCEEDED", "TestStartTarget",
                                                                             CHILD_ARN)
    assert (output["Input"], output["Output"]) == (({}, {"Arg1": "argument1"}) if parsed
                                                   else ("{}", '{"Arg1":"argument1"}'))
    assert output["InputDetails"] == output["OutputDetails"] == {"Included": True}
    assert output["StopDate"] >= output["StartDate"]
    events = execution.events()
    assert [e["type"] for e in events][2:7] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
                                                "TaskStateExited"]
    assert details(events[4])["resource"] == "startExecution" + suffix
    assert details(events[4])["resourceType"] == "states"
    assert list(json.loads(details(events[4])["output"])) == ["ExecutionArn", "SdkHttpMetadata",
                                                              "SdkResponseMetadata", "StartDate"]
    assert json.loads(details(events[2])["parameters"]) == {"StateMachineArn": CHILD_ARN, "Input": None,
                                                            "Name": "TestStartTarget"}


@pytest.mark.parametrize("suffix", [".sync", ".sync:2"])
def test_a_child_that_fails_fails_the_task_with_states_task_failed(suffix: str) -> None:
    execution = run_parent(start(suffix, Name="TestStartTarget"), Children({CHILD_ARN: FAIL_CHILD}))
    assert (execution.status, execution.error) == (ExecutionStatus.FAILED, "States.TaskFailed")
    cause = json.loads(execution.cause or "")
    assert list(cause) == ["Cause", "Error", "ExecutionArn", "Input", "InputDetails", "Name", "StartDate",
                           "StateMachineArn", "Status", "StopDate"]
    assert (cause["Error"], cause["Cause"], cause["Status"]) == (
        "SomeFailure", "This state machines raises a 'SomeFailure' failure.", "FAILED")
    assert cause["Input"] == ({} if suffix == ".sync:2" else "{}")
    failed = execution.events()[-2]
    assert failed["type"] == "TaskFailed" and details(failed)["error"] == "States.TaskFailed"


def test_the_started_by_id_reaches_the_child_input() -> None:
    children = Children({CHILD_ARN: PASS_CHILD})
    execution = run_parent(start(".sync:2", Input={"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                                                   "n": 1}), children)
    assert execution.output["Input"] == {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution.execution_arn,
                                         "n": 1}


def test_input_given_as_json_text_is_the_child_input() -> None:
    children = Children({CHILD_ARN: PASS_CHILD})
    run_parent(start("", Input='{"a": [1, 2]}'), children)
    assert children.started[0][1] == {"a": [1, 2]}


@pytest.mark.timeout(30)
def test_a_parent_that_stops_waiting_stops_its_sync_child() -> None:
    slow = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    children = Children({CHILD_ARN: slow})
    definition = start(".sync")
    definition["States"]["S"]["TimeoutSeconds"] = 1
    execution = run_parent(definition, children)
    assert (execution.error, execution.events()[-2]["type"]) == ("States.Timeout", "TaskTimedOut")
    assert len(children.stopped) == 1


def test_without_an_owner_of_executions_no_state_machine_exists() -> None:
    execution = run_parent(start(".sync"), None)
    assert execution.error == "StepFunctions.StateMachineDoesNotExistException"
    assert (execution.cause or "").startswith(f"State Machine Does Not Exist: '{CHILD_ARN}' (Service: "
                                              "AWSStepFunctions; Status Code: 400; Error Code: "
                                              "StateMachineDoesNotExist; Request ID: ")
    assert (execution.cause or "").endswith("; Proxy: null)")


def test_a_refused_start_is_reported_as_the_sdk_exception() -> None:
    execution = run_parent(start("", Input="{not json"), Children({CHILD_ARN: PASS_CHILD}))
    assert execution.error == "StepFunctions.InvalidExecutionInputException"


def test_start_execution_wait_for_task_token_waits_for_the_child_to_answer() -> None:
    connections = Connections()
    child = {"StartAt": "Answer", "States": {"Answer": {"Type": "Pass", "End": True}}}
    children = Children({CHILD_ARN: child}, connections)
    definition = one_state({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                            "Parameters": {"StateMachineArn": CHILD_ARN, "Input": {"token.$": "$$.Task.Token"}}})
    connections = Connections(connections.callbacks, children)

    def answer() -> None:
        while not children.started:
            threading.Event().wait(0.01)
        connections.callbacks.succeed(children.started[0][1]["token"], '{"answered": true}')

    threading.Thread(target=answer, daemon=True).start()
    execution = run_execution(definition, {}, clock=SystemClock(), connections=connections)
    assert (execution.status.value, execution.output) == ("SUCCEEDED", {"answered": True})
    assert [e["type"] for e in execution.events()][4] == "TaskSubmitted"


def test_unsupported_patterns_are_not_resources() -> None:
    from scones.workflow.asl import validate_definition

    for resource in ("arn:aws:states:::lambda:invoke.sync", "arn:aws:states:::sns:publish.sync",
                     "arn:aws:states:::states:startExecution.sync:3"):
        (problem,) = validate_definition(one_state({"Type": "Task", "Resource": resource}))
        assert problem.code == "INVALID_RESOURCE", resource


class Publisher:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


def test_sns_publish_hands_the_message_to_the_publisher_and_returns_publish_answer() -> None:
    publisher = Publisher()
    definition = one_state({"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": {
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:reviews", "Subject": "Review",
        "Message": {"image.$": "$.image"}}})
    execution = run_execution(definition, {"image": "x.png"}, clock=FakeClock(),
                              connections=Connections(publisher=publisher))
    (message,) = publisher.messages
    assert message["Message"] == '{"image":"x.png"}' and message["Subject"] == "Review"
    assert message["TopicArn"].endswith(":reviews") and message["ExecutionArn"] == execution.execution_arn
    assert list(execution.output) == ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    assert execution.output["MessageId"] == message["MessageId"]
    assert execution.output["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "text/xml"


def test_sns_publish_wait_for_task_token_waits_for_the_answer() -> None:
    connections = Connections(publisher=Publisher())
    definition = one_state({"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:reviews",
                                           "Message": {"TaskToken.$": "$$.Task.Token"}}})

    def answer() -> None:
        while not connections.publisher.messages:  # type: ignore[union-attr]
            threading.Event().wait(0.01)
        token = json.loads(connections.publisher.messages[0]["Message"])["TaskToken"]  # type: ignore[union-attr]
        connections.callbacks.succeed(token, "{}")

    threading.Thread(target=answer, daemon=True).start()
    execution = run_execution(definition, {}, clock=SystemClock(), connections=connections)
    assert execution.output == {}
    submitted = execution.events()[4]
    assert submitted["type"] == "TaskSubmitted" and details(submitted)["resource"] == "publish.waitForTaskToken"
    assert details(submitted)["resourceType"] == "sns"


@pytest.mark.parametrize(("resource", "required", "given"), [
    ("arn:aws:states:::lambda:invoke", "FunctionName", {"FunctionName": "f"}),
    ("arn:aws:states:::states:startExecution", "StateMachineArn", {"StateMachineArn": CHILD_ARN}),
    ("arn:aws:states:::sns:publish", "Message", {"Message": "m", "TopicArn": "t"}),
])
def test_each_integration_refuses_a_missing_required_or_an_unknown_parameter(
        resource: str, required: str, given: dict[str, Any]) -> None:
    missing = run_execution(one_state({"Type": "Task", "Resource": resource, "Parameters": {"Other": 1}}), {},
                            clock=FakeClock())
    assert missing.error == "States.Runtime"
    assert missing.cause is not None and missing.cause.endswith(
        f"The field '{required}' is required by the resource '{resource}'")
    unknown = run_execution(one_state({"Type": "Task", "Resource": resource,
                                       "Parameters": {**given, "Bogus": 1, "Other": 2}}), {}, clock=FakeClock())
    assert unknown.error == "States.Runtime"
    assert unknown.cause is not None and unknown.cause.endswith(
        f"The resource '{resource}' does not support the parameter(s) Bogus, Other")
    scheduled = missing.events()[2]
    assert scheduled["type"] == "TaskScheduled"
    assert details(scheduled)["resource"] == resource.rsplit(":", 1)[1]
    assert json.loads(details(scheduled)["parameters"]) == {"Other": 1}
