"""The three handlers through the local Lambda runtime against a real ``scones serve`` (no interpreter)."""

from __future__ import annotations

from typing import Any

import pytest

from scones.functions.local import scones_functions
from scones.lambda_runtime.runtime import LocalLambdaRuntime

from .conftest import ENDPOINT_NAME, Staged, endpoint_probabilities

pytestmark = pytest.mark.slow


def chain(runtime: LocalLambdaRuntime, key: str) -> list[Any]:
    """serialize -> classify -> filter with the recorded definition's data flow (OutputPath $.Payload)."""
    results = []
    serialized = runtime.invoke("arn:aws:lambda:us-east-1:148908537034:function:serializeImageData:$LATEST",
                                {"s3_bucket": "scones", "s3_key": key})
    results.append(serialized)
    classified = runtime.invoke("classifyImage", {"body": serialized.payload["body"]})
    results.append(classified)
    if classified.function_error is None:
        results.append(runtime.invoke("filterInferences", {"body": classified.payload["body"]}))
    return results


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "isolated"])
def test_functions_against_real_endpoint(staged: Staged, endpoint: str, isolated: bool) -> None:
    threshold = 0.8
    functions = scones_functions(store_root=staged.root, endpoint_url=endpoint, endpoint_name=ENDPOINT_NAME,
                                 threshold=threshold, packaged=isolated)
    seen = {"accepted": 0, "low": 0}
    with LocalLambdaRuntime(functions, isolated=isolated) as runtime:
        for key in staged.keys[:4]:
            serialized, classified, filtered = chain(runtime, key)
            image = (staged.root / "scones" / key).read_bytes()
            expected = endpoint_probabilities(endpoint, image)
            assert serialized.function_error is None and classified.function_error is None, classified.payload
            assert classified.payload["body"]["inferences"] == pytest.approx(expected, abs=1e-6)
            if max(expected) >= threshold:
                seen["accepted"] += 1
                assert filtered.function_error is None
                assert filtered.payload == classified.payload
            else:
                seen["low"] += 1
                assert filtered.function_error == "Unhandled"
                assert filtered.payload["errorType"] == "ThresholdConfidenceNotMet"
    assert seen["accepted"] + seen["low"] == 4


def test_classify_with_unknown_endpoint_is_function_error(staged: Staged, endpoint: str) -> None:
    functions = scones_functions(store_root=staged.root, endpoint_url=endpoint, endpoint_name="no-such-endpoint")
    with LocalLambdaRuntime(functions) as runtime:
        serialized, classified = chain(runtime, staged.keys[0])
    assert classified.function_error == "Unhandled"
    assert classified.payload["errorType"] == "ValidationError", classified.payload
    assert "no-such-endpoint" in classified.payload["errorMessage"]
