"""The contract checks on recorded invocations: each classic failure gives its finding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scones.workflow.check import (
    ClassicBug,
    Invocation,
    Kind,
    Severity,
    check_invocations,
    check_state_reads,
    shape,
)
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


# -- the classic bugs, in the user's terms (any function, no catalogue) --------------------------------------

USER = {"serialize": "Serialize", "classify": "Classify", "filter": "Filter"}


def bugs(findings: list[Any]) -> list[tuple[str, str, str | None]]:
    return [(f.kind.value, f.classic_bug.value if f.classic_bug else "-", f.state) for f in findings]


def test_returned_bytes() -> None:
    marshal = {"errorMessage": "Unable to marshal response: Object of type bytes is not JSON serializable",
               "errorType": "Runtime.MarshalError"}
    findings = check_invocations([inv("serialize", {"s3_bucket": "b", "s3_key": "k"}, marshal, "Unhandled")], USER)
    assert bugs(findings) == [("not_json_native", "returned_bytes", "Serialize")]
    assert findings[0].classic_bug is ClassicBug.RETURNED_BYTES
    assert ".decode('utf-8')" in ClassicBug.RETURNED_BYTES.fix
    repr_bytes = check_invocations([inv("serialize", {}, {"statusCode": 200, "body": {"image_data": "b'iVBO'"}})],
                                   USER)
    assert bugs(repr_bytes) == [("not_json_native", "returned_bytes", "Serialize")]


def test_raised_a_string() -> None:
    error = {"errorMessage": "exceptions must derive from BaseException", "errorType": "TypeError"}
    findings = check_invocations([inv("filter", {"body": BODY}, error, "Unhandled")], USER)
    assert bugs(findings) == [("function_error", "raised_string", "Filter")]
    assert findings[0].severity is Severity.ERROR


def test_a_plain_exception_below_the_threshold_is_the_intended_end() -> None:
    error = {"errorMessage": "THRESHOLD_CONFIDENCE_NOT_MET", "errorType": "Exception"}
    findings = check_invocations([inv("filter", {"body": BODY}, error, "Unhandled")], USER)
    assert [(f.severity, f.kind, f.classic_bug) for f in findings] == \
        [(Severity.WARNING, Kind.FUNCTION_ERROR, None)]
    assert "Catch Exception or States.ALL" in findings[0].message


def test_swallowed_an_error() -> None:
    findings = check_invocations([inv("filter", {"body": BODY},
                                      {"statusCode": 500, "body": "THRESHOLD_CONFIDENCE_NOT_MET"})], USER)
    assert bugs(findings) == [("swallowed_error", "swallowed_error", "Filter")]


def test_a_field_no_earlier_state_produced_inferred_from_a_key_error() -> None:
    received = {"ExecutedVersion": "$LATEST", "Payload": {"statusCode": 200, "body": BODY}, "StatusCode": 200}
    error = {"errorMessage": "'body'", "errorType": "KeyError"}
    findings = check_invocations([inv("classify", received, error, "Unhandled")], USER)
    assert bugs(findings) == [("missing_field", "field_never_produced", "Classify")]
    assert findings[0].severity is Severity.ERROR and "raised KeyError: 'body'" in findings[0].message
    nowhere = check_invocations([inv("classify", {"s3_key": "k"}, {"errorMessage": "'image_data'",
                                                                   "errorType": "KeyError"}, "Unhandled")], USER)
    assert bugs(nowhere) == [("missing_field", "field_never_produced", "Classify")]
    # A KeyError on something that is not a field name stays a plain function error.
    other = check_invocations([inv("classify", {}, {"errorMessage": "3", "errorType": "KeyError"}, "Unhandled")], USER)
    assert bugs(other) == [("function_error", "-", "Classify")]


def test_a_field_no_earlier_state_produced_in_the_state_machine() -> None:
    bad = [_entered("ClassifyImage", {"ExecutedVersion": "$LATEST", "Payload": {"body": BODY}, "StatusCode": 200})]
    findings = check_state_reads(load_definition(), bad)
    assert [f.classic_bug for f in findings] == [ClassicBug.FIELD_NEVER_PRODUCED]


def test_a_body_that_travels_as_a_json_string() -> None:
    produced = inv("serialize", {}, {"statusCode": 200, "body": json.dumps(BODY)})
    error = {"errorMessage": "string indices must be integers, not 'str'", "errorType": "TypeError"}
    consumed = inv("classify", {"body": json.dumps(BODY)}, error, "Unhandled")
    findings = check_invocations([produced, consumed], USER)
    assert bugs(findings) == [("not_json_native", "body_as_json_string", "Serialize"),
                              ("missing_field", "body_as_json_string", "Classify")]
    assert "(serialize returned its body as a JSON string)" in findings[1].message
    # With the catalogue's reads, the same event says so too.
    scones = check_invocations([inv("filterInferences", {"body": json.dumps(BODY)},
                                    {"statusCode": 200, "body": BODY})], STATES)
    assert {f.classic_bug for f in scones} == {ClassicBug.BODY_AS_JSON_STRING}


def test_a_module_that_is_not_packaged() -> None:
    error = {"errorMessage": "Unable to import module 'lambda_function': No module named 'sagemaker'",
             "errorType": "Runtime.ImportModuleError"}
    findings = check_invocations([inv("classify", {"body": BODY}, error, "Unhandled")], USER)
    assert bugs(findings) == [("function_error", "module_not_packaged", "Classify")]
    assert "No module named 'sagemaker'" in findings[0].message


def test_classic_bugs_in_json_and_text() -> None:
    finding = check_invocations([inv("filter", {"body": BODY}, {"statusCode": 500, "body": "x"})], USER)[0]
    data = finding.to_json()
    assert data["classic_bug"] == "swallowed_error" and data["label"] == "swallowed an error"
    assert data["explanation"] and data["fix"].startswith("let the exception propagate")
    plain = check_invocations([inv("classify", {"body": BODY}, {"statusCode": 200, "body": {**BODY,
                                                                                            "inferences": ["1"]}})],
                              USER)[0].to_json()
    assert plain["classic_bug"] is None and "fix" not in plain
    for bug in ClassicBug:
        assert bug.label and bug.explanation and bug.fix and "\n" not in bug.explanation + bug.fix


def test_report_text_says_the_classic_bug() -> None:
    from scones.workflow.check import CheckReport

    class Outcome:  # only what format_text reads
        name, status, error = "x", "SUCCEEDED", None

    finding = check_invocations([inv("filter", {"body": BODY}, {"statusCode": 500, "body": "x"})], USER)[0]
    text = CheckReport(outcome=Outcome(), steps=[], findings=[finding]).format_text()  # type: ignore[arg-type]
    assert "classic bug, swallowed an error:" in text and "fix: let the exception propagate" in text
