"""The contract checks on recorded invocations: each classic failure gives its finding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scones.workflow.check import Invocation, Kind, Severity, check_invocations, check_state_reads, shape
from scones.workflow.definitions import load_definition

STATES = {"serializeImageData": "SerializeImageData", "classifyImage": "ClassifyImage",
          "filterInferences": "FilterInferences"}
BODY = {"image_data": "aGk=", "s3_bucket": "scones", "s3_key": "k.png", "inferences": [0.97, 0.03]}


def inv(function: str, received: Any, returned: Any, error: str | None = None) -> Invocation:
    return Invocation(function, received, returned, error, 0.001)


def kinds(findings: list[Any]) -> list[tuple[str, str, str | None]]:
    return [(f.severity.value, f.kind.value, f.state) for f in findings]


def test_clean_run_has_no_findings() -> None:
    invocations = [
        inv("serializeImageData", {"s3_bucket": "scones", "s3_key": "k.png"}, {"statusCode": 200, "body": BODY}),
        inv("classifyImage", {"body": BODY}, {"statusCode": 200, "body": BODY}),
        inv("filterInferences", {"body": BODY}, {"statusCode": 200, "body": BODY}),
    ]
    assert check_invocations(invocations, STATES) == []


def test_classic_key_error_image_data() -> None:
    # classify got the serialize result without OutputPath: image_data sits under Payload.body
    received = {"ExecutedVersion": "$LATEST", "Payload": {"statusCode": 200, "body": BODY}}
    findings = check_invocations([inv("classifyImage", received, {"statusCode": 200, "body": BODY})], STATES)
    assert kinds(findings) == [("warning", "missing_field", "ClassifyImage")]
    error = {"errorType": "InvalidEvent", "errorMessage": "event is missing the field 'image_data'"}
    nothing = check_invocations([inv("classifyImage", {"s3_key": "k"}, error, "Unhandled")], STATES)
    assert [f.kind for f in nothing] == [Kind.MISSING_FIELD, Kind.MISSING_FIELD]
    assert all(f.severity is Severity.ERROR for f in nothing)


def test_classic_string_indices_body_string() -> None:
    received = {"body": json.dumps(BODY)}
    findings = check_invocations([inv("filterInferences", received, {"statusCode": 200, "body": BODY})], STATES)
    assert len(findings) == 2  # image_data and inferences both only inside a JSON string
    assert all("string indices must be integers" in f.message for f in findings)


def test_bytes_marshal_error_and_bytes_repr() -> None:
    marshal = check_invocations([inv("serializeImageData", {"s3_bucket": "b", "s3_key": "k"},
                                     {"errorMessage": "Unable to marshal response: Object of type bytes is not JSON "
                                                      "serializable", "errorType": "Runtime.MarshalError"},
                                     "Unhandled")], STATES)
    assert kinds(marshal) == [("error", "not_json_native", "SerializeImageData")]
    repr_bytes = check_invocations([inv("serializeImageData", {"s3_bucket": "b", "s3_key": "k"},
                                        {"statusCode": 200, "body": {**BODY, "image_data": "b'iVBORw0'"}})], STATES)
    assert kinds(repr_bytes) == [("error", "not_json_native", "SerializeImageData")]


def test_reencoded_body_and_string_inferences() -> None:
    findings = check_invocations([inv("classifyImage", {"body": BODY},
                                      {"statusCode": 200, "body": json.dumps({**BODY, "inferences": "[0.5, 0.5]"})})],
                                 STATES)
    assert kinds(findings) == [("warning", "not_json_native", "ClassifyImage")]
    findings = check_invocations([inv("classifyImage", {"body": BODY},
                                      {"statusCode": 200, "body": {**BODY, "inferences": ["0.5", "0.5"]}})], STATES)
    assert [f.kind for f in findings] == [Kind.NOT_JSON_NATIVE, Kind.NOT_JSON_NATIVE]


@pytest.mark.parametrize("returned", [
    {"statusCode": 500, "body": "THRESHOLD_CONFIDENCE_NOT_MET"},
    {"statusCode": 200, "body": {**BODY, "error": "THRESHOLD_CONFIDENCE_NOT_MET"}},
    {"errorMessage": "boom"},
], ids=["status-500", "error-field", "errorMessage"])
def test_swallowed_errors(returned: dict[str, Any]) -> None:
    findings = check_invocations([inv("filterInferences", {"body": BODY}, returned)], STATES)
    assert Kind.SWALLOWED_ERROR in [f.kind for f in findings]


def test_classic_raise_string_is_type_error() -> None:
    error = {"errorMessage": "exceptions must derive from BaseException", "errorType": "TypeError"}
    findings = check_invocations([inv("filterInferences", {"body": BODY}, error, "Unhandled")], STATES)
    assert kinds(findings) == [("error", "function_error", "FilterInferences")]
    assert "Catch on ThresholdConfidenceNotMet will not match" in findings[0].message
    low = {"errorMessage": "THRESHOLD_CONFIDENCE_NOT_MET", "errorType": "ThresholdConfidenceNotMet"}
    assert check_invocations([inv("filterInferences", {"body": BODY}, low, "Unhandled")], STATES) == []


def test_large_payload() -> None:
    big = {**BODY, "image_data": "A" * 140_000}
    findings = check_invocations([inv("classifyImage", {"body": big}, {"statusCode": 200, "body": big})], STATES)
    assert [f.kind for f in findings] == [Kind.LARGE_PAYLOAD, Kind.LARGE_PAYLOAD]


def _entered(name: str, data: Any) -> dict[str, Any]:
    return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name, "input": json.dumps(data)}}


def test_state_reads_checked_against_history() -> None:
    definition = load_definition()
    good = [_entered("SerializeImageData", {"s3_bucket": "b", "s3_key": "k"}),
            _entered("ClassifyImage", {"statusCode": 200, "body": BODY})]
    assert check_state_reads(definition, good) == []
    # The recorded console definition without OutputPath: ClassifyImage reads $.body of the whole invoke result.
    bad = [_entered("ClassifyImage", {"ExecutedVersion": "$LATEST", "Payload": {"body": BODY}, "StatusCode": 200})]
    findings = check_state_reads(definition, bad)
    assert kinds(findings) == [("error", "missing_field", "ClassifyImage")]
    assert "$.body" in findings[0].message and '"OutputPath": "$.Payload"' in findings[0].message


def test_shape_sketch() -> None:
    assert shape({"statusCode": 200, "body": {"image_data": "x" * 4096, "inferences": [0.5, 0.5]}}) == \
        '{"statusCode": int, "body": {"image_data": str[4.0 KB], "inferences": [float ×2]}}'
