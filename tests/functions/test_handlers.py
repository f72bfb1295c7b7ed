from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

from scones.functions import classify_image, filter_inferences, serialize_image_data
from scones.functions.helper import (
    ConfigurationError,
    ImageBody,
    InvalidEvent,
    ObjectNotFound,
    ThresholdConfidenceNotMet,
)

KEY = "dataset/test/bicycle_s_000513.png"


def png_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "store"
    (root / "scones" / "dataset" / "test").mkdir(parents=True)
    (root / "scones" / KEY).write_bytes(png_bytes())
    monkeypatch.setenv("SCONES_LOCAL_STORE_ROOT", str(root))
    return root


@pytest.mark.parametrize("event", [
    {"s3_bucket": "scones", "s3_key": KEY},
    {"body": {"s3_bucket": "scones", "s3_key": KEY}},
    {"body": json.dumps({"s3_bucket": "scones", "s3_key": KEY})},
    {"Payload": {"s3_bucket": "scones", "s3_key": KEY}},
], ids=["top", "body", "body-string", "payload"])
def test_serialize_returns_plain_json_body(local_store: Path, event: Any) -> None:
    result = serialize_image_data.lambda_handler(event, None)
    assert json.loads(json.dumps(result)) == result  # JSON-native all the way down
    assert result["statusCode"] == 200
    body = result["body"]
    assert isinstance(body, dict) and isinstance(body["image_data"], str)
    assert base64.b64decode(body["image_data"]) == (local_store / "scones" / KEY).read_bytes()
    assert body["s3_bucket"] == "scones" and body["s3_key"] == KEY and body["inferences"] == []


def test_serialize_missing_object(local_store: Path) -> None:
    with pytest.raises(ObjectNotFound, match="dataset/test/nope.png"):
        serialize_image_data.lambda_handler({"s3_bucket": "scones", "s3_key": "dataset/test/nope.png"}, None)


def test_serialize_bad_event(local_store: Path) -> None:
    with pytest.raises(InvalidEvent, match="missing the field 's3_key'"):
        serialize_image_data.lambda_handler({"s3_bucket": "scones", "key": KEY}, None)


def _stubbed_runtime(expected_body: bytes, answer: bytes, content_type: str = "image/png") -> Any:
    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    client = boto3.client("sagemaker-runtime", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    stub.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(answer), len(answer)),
                                          "ContentType": "application/json"},
                      {"EndpointName": "scones-endpoint", "ContentType": content_type,
                       "Accept": "application/json", "Body": expected_body})
    stub.activate()
    return client, stub


def test_classify_sends_image_and_stores_floats() -> None:
    image = png_bytes()
    client, stub = _stubbed_runtime(image, b"[0.8227921724319458, 0.1772077977657318]")
    body = ImageBody.from_event({"body": {"image_data": base64.b64encode(image).decode(), "s3_bucket": "b",
                                          "s3_key": "k.png", "inferences": []}})
    out = classify_image.classify(body, "scones-endpoint", client)
    stub.assert_no_pending_responses()
    assert out.inferences == (0.8227921724319458, 0.1772077977657318)
    assert out.to_json()["inferences"] == [0.8227921724319458, 0.1772077977657318]


def test_classify_rejects_non_probability_answer() -> None:
    image = png_bytes()
    client, _ = _stubbed_runtime(image, b'{"error": "boom"}')
    body = ImageBody(base64.b64encode(image).decode(), "b", "k.png")
    with pytest.raises(ValueError, match="expected a JSON array"):
        classify_image.classify(body, "scones-endpoint", client)


def test_classify_needs_endpoint_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="ENDPOINT_NAME"):
        classify_image.lambda_handler({"body": {"image_data": "aGk=", "s3_bucket": "b", "s3_key": "k"}}, None)


def test_classify_classic_missing_image_data_is_named() -> None:
    # The classic failure: classifyImage reading event['body']['image_data'] from the wrong level.
    with pytest.raises(InvalidEvent, match="missing the field 'image_data'"):
        classify_image.lambda_handler({"statusCode": 200, "body": {"s3_key": "k"}}, None)


def _body(inferences: list[float]) -> dict[str, Any]:
    return {"body": {"image_data": "aGk=", "s3_bucket": "b", "s3_key": "k.png", "inferences": inferences}}


@pytest.mark.parametrize("threshold, inferences, passes", [
    (None, [0.93, 0.07], True),
    (None, [0.92, 0.08], False),
    ("0.8", [0.15, 0.85], True),
    ("0.9", [0.15, 0.85], False),
], ids=["default-at-threshold", "default-below", "env-above", "env-below"])
def test_filter(monkeypatch: pytest.MonkeyPatch, threshold: str | None, inferences: list[float],
                passes: bool) -> None:
    if threshold is None:
        monkeypatch.delenv("THRESHOLD", raising=False)
    else:
        monkeypatch.setenv("THRESHOLD", threshold)
    event = _body(inferences)
    if passes:
        assert filter_inferences.lambda_handler(event, None) == {"statusCode": 200, "body": event["body"]}
    else:
        with pytest.raises(ThresholdConfidenceNotMet, match="^THRESHOLD_CONFIDENCE_NOT_MET$"):
            filter_inferences.lambda_handler(event, None)


def test_filter_accepts_classic_string_inferences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THRESHOLD", raising=False)
    event = {"body": json.dumps({"image_data": "aGk=", "s3_bucket": "b", "s3_key": "k", "inferences": "[0.99, 0.01]"})}
    out = filter_inferences.lambda_handler(event, None)
    assert out["body"]["inferences"] == [0.99, 0.01]


def test_filter_without_inferences_is_invalid_event() -> None:
    with pytest.raises(InvalidEvent, match="inferences"):
        filter_inferences.lambda_handler({"body": {"image_data": "aGk="}}, None)


def test_packed_files_import_only_boto3_and_helper() -> None:
    """Every file that goes into a deployment zip imports the stdlib, boto3/botocore and the helper only."""
    import ast
    import sys

    from scones.aws.package import function_zip_members
    from scones.functions.catalog import SCONES_FUNCTIONS

    allowed_scones = {"scones.functions.helper"}
    third_party = {"boto3", "botocore"}
    for info in SCONES_FUNCTIONS:
        for arcname, data in function_zip_members(info.name).items():
            for node in ast.walk(ast.parse(data)):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    ok = (name in allowed_scones or top in third_party or top in sys.stdlib_module_names
                          or name == "__future__")
                    assert ok, f"{arcname} imports {name}"
            if arcname.endswith("helper.py"):
                assert b"import boto3" not in data  # the helper is stdlib-only; clients are passed in


from .test_helper import SHAPES, wrap  # noqa: E402 - the shapes the helper tests use


@pytest.mark.parametrize("shape", SHAPES)
def test_classify_and_filter_handlers_accept_every_shape(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    image = png_bytes()
    fields = {"image_data": base64.b64encode(image).decode(), "s3_bucket": "b", "s3_key": "k.png", "inferences": []}
    client, stub = _stubbed_runtime(image, b"[0.97, 0.03]")
    monkeypatch.setattr(classify_image, "runtime_client", lambda: client)
    monkeypatch.setenv("ENDPOINT_NAME", "scones-endpoint")
    monkeypatch.delenv("THRESHOLD", raising=False)
    classified = classify_image.lambda_handler(wrap(fields, shape), None)
    stub.assert_no_pending_responses()
    assert json.loads(json.dumps(classified)) == classified
    assert classified["body"] == {**fields, "inferences": [0.97, 0.03]}
    filtered = filter_inferences.lambda_handler(wrap(classified["body"], shape), None)
    assert filtered == classified


@pytest.mark.parametrize("event", [None, 42, "not json", [], {"body": "[1, 2]"}, {"Payload": None}],
                         ids=["null", "number", "string", "list", "body-list", "payload-null"])
@pytest.mark.parametrize("handler", [classify_image, filter_inferences], ids=["classify", "filter"])
def test_handlers_name_the_missing_field_for_any_other_event(handler: Any, event: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINT_NAME", "scones-endpoint")
    with pytest.raises(InvalidEvent, match="missing the field 'image_data'.*Accepted shapes"):
        handler.lambda_handler(event, None)
