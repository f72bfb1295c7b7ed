"""The shipped Scones state machine in JSONPath and in JSONata: one behaviour, checked end to end.

Both definitions run through the real three handlers in the local Lambda
runtime against a real ``scones serve`` of the tiny model, with THRESHOLD set
from what the endpoint says about the image so that each outcome happens.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scones.workflow.asl import Execution, FakeClock, run_execution, validate_definition
from scones.workflow.definitions import JSONATA_DEFINITION, JSONPATH_DEFINITION

from .conftest import ENDPOINT_NAME, Staged, endpoint_probabilities

LOW_CONFIDENCE_CAUSE = "THRESHOLD_CONFIDENCE_NOT_MET: the top inference is below the filter's THRESHOLD"


def definitions() -> list[dict[str, Any]]:
    loaded = []
    for path in (JSONPATH_DEFINITION, JSONATA_DEFINITION):
        text = path.read_text(encoding="utf-8")
        assert validate_definition(text) == [], path
        loaded.append(json.loads(text))
    return loaded


def test_jsonata_definition_is_a_translation_of_the_jsonpath_one() -> None:
    jsonpath, jsonata = definitions()
    assert jsonata["QueryLanguage"] == "JSONata" and "QueryLanguage" not in jsonpath
    assert jsonata["StartAt"] == jsonpath["StartAt"]
    assert list(jsonata["States"]) == list(jsonpath["States"])
    for name, state in jsonpath["States"].items():
        other = jsonata["States"][name]
        for key in ("Type", "Resource", "Next", "End", "Retry", "Error", "Cause"):
            assert other.get(key) == state.get(key), (name, key)
        assert [(c["ErrorEquals"], c["Next"]) for c in other.get("Catch", [])] == \
            [(c["ErrorEquals"], c["Next"]) for c in state.get("Catch", [])], name
        if state["Type"] == "Task":
            assert not {"Parameters", "InputPath", "ResultPath", "OutputPath", "ResultSelector"} & set(other)
            assert other["Arguments"]["FunctionName"] == state["Parameters"]["FunctionName"]
            assert other["Output"] == "{% $states.result.Payload %}"


def without_request_ids(value: Any) -> Any:
    """``value`` with Lambda's per-call request ids dropped, error causes (JSON text) read as JSON."""
    if isinstance(value, dict):
        return {k: without_request_ids(v) for k, v in value.items() if k != "requestId"}
    if isinstance(value, list):
        return [without_request_ids(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        try:
            return without_request_ids(json.loads(value))
        except ValueError:
            return value
    return value


def observable(execution: Execution) -> tuple[Any, ...]:
    """Everything a caller can see of an execution, history included (timestamps and request ids aside)."""
    steps = []
    for event in execution.events():
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        kept = {k: v for k, v in details.items() if k in ("name", "error", "cause", "resource", "resourceType")}
        for key in ("input", "output", "parameters"):
            if key in details and event["type"] not in ("TaskSucceeded", "LambdaFunctionSucceeded"):
                kept[key] = json.loads(details[key])
        if event["type"] == "TaskSucceeded":
            kept["output"] = json.loads(details["output"])["Payload"]
        steps.append((event["type"], event.get("previousEventId"), without_request_ids(kept)))
    return execution.status.value, execution.output, execution.error, execution.cause, steps


def run_both(staged: Staged, endpoint: str, key: str, threshold: float) -> list[tuple[Any, ...]]:
    from scones.functions.local import scones_functions
    from scones.lambda_runtime.runtime import LocalLambdaRuntime

    functions = scones_functions(store_root=staged.root, endpoint_url=endpoint, endpoint_name=ENDPOINT_NAME,
                                 threshold=threshold)
    results = []
    with LocalLambdaRuntime(functions) as runtime:
        for definition in definitions():
            execution = run_execution(definition, {"s3_bucket": "scones", "s3_key": key}, invoker=runtime,
                                      clock=FakeClock())
            results.append(observable(execution))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "low-confidence"])
def test_scones_state_machine_behaves_the_same_in_both_languages(staged: Staged, endpoint: str,
                                                                 accepted: bool) -> None:
    key = staged.keys[0]
    probabilities = endpoint_probabilities(endpoint, (staged.root / "scones" / key).read_bytes())
    top = max(probabilities)
    assert top < 0.999, "the test needs an image the tiny model is not certain about"
    threshold = top - 1e-3 if accepted else (top + 1.0) / 2
    jsonpath, jsonata = run_both(staged, endpoint, key, threshold)
    assert jsonata == jsonpath
    status, output, error, cause, steps = jsonpath
    if accepted:
        assert (status, error, cause) == ("SUCCEEDED", None, None)
        assert output["statusCode"] == 200 and output["body"]["s3_key"] == key
        assert output["body"]["inferences"] == pytest.approx(probabilities, abs=1e-6)
    else:
        assert (status, output, error, cause) == ("FAILED", None, "ThresholdConfidenceNotMet", LOW_CONFIDENCE_CAUSE)
        entered = [kept for kind, _, kept in steps if kind == "FailStateEntered"]
        assert [e["name"] for e in entered] == ["LowConfidence"]
        assert entered[0]["input"]["error"]["Error"] == "ThresholdConfidenceNotMet"
