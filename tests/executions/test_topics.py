"""sns:publish messages of local executions land in the store, one JSON object each, by topic."""

from __future__ import annotations

from pathlib import Path

from scones.executions.topics import SNS_PREFIX, StoreTopicPublisher, read_messages
from scones.store import LocalStore
from scones.workflow.asl import FakeClock, run_execution
from scones.workflow.asl.connections import Connections


def test_published_messages_are_written_by_topic_and_read_back_in_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    definition = {"StartAt": "One", "States": {
        "One": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "ResultPath": None, "Next": "Two",
                "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:reviews", "Message": "first"}},
        "Two": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True,
                "Parameters": {"PhoneNumber": "+15555550100", "Message": {"n": 2}}}}}
    clock = FakeClock()
    execution = run_execution(definition, {}, clock=clock,
                              connections=Connections(publisher=StoreTopicPublisher(store)))
    reviews = read_messages(store, "reviews")
    assert [m["Message"] for m in reviews] == ["first"]
    assert reviews[0]["ExecutionArn"] == execution.execution_arn
    assert [m["Message"] for m in read_messages(store)] == ["first", '{"n":2}']
    (sms,) = store.list(f"{SNS_PREFIX}/sms/")
    assert sms.endswith(f"-{execution.output['MessageId']}.json")
