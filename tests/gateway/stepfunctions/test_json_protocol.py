"""The generic awsJson module, on its own: any JSON-protocol service model in, answers botocore's parser reads.

(It lives beside the Step Functions tests because Step Functions is its first user; DynamoDB's model,
also awsJson 1.0, checks the parts Step Functions does not use: blobs, maps, nested lists.)
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.parsers import create_parser

from scones.gateway.model import service_model
from scones.gateway.protocols.json_protocol import JsonProtocol, ProtocolError, epoch_seconds


def parsed_by_botocore(protocol: JsonProtocol, operation: Any, body: bytes) -> dict[str, Any]:
    parser = create_parser("json")
    response = {"status_code": 200, "headers": {"x-amzn-requestid": "r"}, "body": body}
    result: dict[str, Any] = parser.parse(response, operation.output_shape)
    result.pop("ResponseMetadata")
    return result


def test_outputs_round_trip_through_botocore() -> None:
    protocol = JsonProtocol(service_model("dynamodb"))
    operation = protocol.operation("DynamoDB_20120810.GetItem")
    item = {"Item": {"blob": {"B": b"\x00\xffbytes"}, "list": {"L": [{"S": "a"}, {"N": "1"}]},
                     "map": {"M": {"k": {"BOOL": True}}}}, "Unknown": "dropped"}
    body = protocol.serialize(operation, item)
    assert json.loads(body)["Item"]["blob"] == {"B": base64.b64encode(b"\x00\xffbytes").decode()}
    assert parsed_by_botocore(protocol, operation, body) == {"Item": item["Item"]}


def test_timestamps_are_epoch_seconds_botocore_turns_into_datetimes() -> None:
    protocol = JsonProtocol(service_model("stepfunctions"))
    operation = protocol.operation("AWSStepFunctions.StartExecution")
    instant = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    for given in (instant.timestamp(), instant, "2024-01-02T03:04:05.678Z"):
        body = protocol.serialize(operation, {"executionArn": "a", "startDate": given})
        assert json.loads(body)["startDate"] == 1704164645.678
        assert parsed_by_botocore(protocol, operation, body)["startDate"] == instant
    assert epoch_seconds(1704164645.0) == 1704164645 and isinstance(epoch_seconds(1704164645.0), int)


def test_errors_are_read_by_botocore_as_the_code_and_message() -> None:
    protocol = JsonProtocol(service_model("stepfunctions"))
    response = protocol.error("ValidationException", "bad", fields={"reason": "MISSING_REQUIRED_PARAMETER"})
    parsed = create_parser("json").parse({"status_code": 400, "headers": dict(response.headers),
                                          "body": response.body}, None)
    assert parsed["Error"] == {"Code": "ValidationException", "Message": "bad"}
    assert json.loads(response.body)["reason"] == "MISSING_REQUIRED_PARAMETER"


def test_inputs_are_converted_and_checked_against_the_model() -> None:
    protocol = JsonProtocol(service_model("dynamodb"))
    operation = protocol.operation("DynamoDB_20120810.PutItem")
    params = protocol.parse(operation, json.dumps({"TableName": "t", "Item": {
        "b": {"B": base64.b64encode(b"raw").decode()}, "s": {"SS": ["x", "y"]}}}).encode())
    assert params == {"TableName": "t", "Item": {"b": {"B": b"raw"}, "s": {"SS": ["x", "y"]}}}
    with pytest.raises(ProtocolError) as exc:
        protocol.parse(operation, json.dumps({"TableName": "t", "Item": {"b": {"B": "***"}}}).encode())
    assert exc.value.code == "SerializationException"
    with pytest.raises(ProtocolError) as exc:
        protocol.parse(operation, json.dumps({"TableName": "", "ReturnValues": "SOME"}).encode())
    assert exc.value.code == "ValidationException"
    assert exc.value.message.startswith("3 validation errors detected: ")
    assert "Value null at 'Item' failed to satisfy constraint: Member must not be null" in exc.value.message
    assert "Value '' at 'TableName' failed to satisfy constraint: Member must have length greater than or " \
           "equal to 1" in exc.value.message


@pytest.mark.parametrize("target", ["AWSStepFunctions.Nope", "DynamoDB_20120810.ListTables", None, "ListStateMachines"])
def test_operations_are_found_by_their_target_only(target: str | None) -> None:
    protocol = JsonProtocol(service_model("stepfunctions"))
    with pytest.raises(ProtocolError) as exc:
        protocol.operation(target)
    assert (exc.value.code, exc.value.status) == ("UnknownOperationException", 400)


@pytest.mark.parametrize("stamp", [1e300, -1e300, "9999999-01-01T00:00:00Z"])
def test_a_timestamp_no_datetime_holds_is_a_serialization_error(stamp: Any) -> None:
    protocol = JsonProtocol(service_model("kinesis"))  # awsJson 1.1, with a timestamp member in a request
    operation = protocol.operation("Kinesis_20131202.GetShardIterator")
    with pytest.raises(ProtocolError) as exc:
        protocol.parse(operation, json.dumps({"StreamName": "s", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP",
                                              "Timestamp": stamp}).encode())
    assert exc.value.code == "SerializationException"
