from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from scones.functions.helper import (
    ConfigurationError,
    ImageBody,
    ImageRequest,
    InvalidEvent,
    ObjectNotFound,
    content_type_of,
    find_fields,
    parse_probabilities,
    read_object,
    threshold_from_env,
)

FIELDS = {"s3_bucket": "scones", "s3_key": "dataset/test/bicycle_s_000513.png"}


def wrap(fields: dict[str, Any], shape: str) -> Any:
    if shape == "top":
        return dict(fields)
    if shape == "body":
        return {"statusCode": 200, "body": dict(fields)}
    if shape == "body-string":
        return {"statusCode": 200, "body": json.dumps(fields)}
    if shape == "payload":
        return {"ExecutedVersion": "$LATEST", "Payload": dict(fields), "StatusCode": 200}
    if shape == "payload-body":
        return {"Payload": {"statusCode": 200, "body": dict(fields)}, "StatusCode": 200}
    if shape == "payload-body-string":
        return {"Payload": {"statusCode": 200, "body": json.dumps(fields)}}
    if shape == "json-string":
        return json.dumps(fields)
    raise AssertionError(shape)


SHAPES = ["top", "body", "body-string", "payload", "payload-body", "payload-body-string", "json-string"]


@pytest.mark.parametrize("shape", SHAPES)
def test_request_found_in_every_accepted_shape(shape: str) -> None:
    request = ImageRequest.from_event(wrap(FIELDS, shape))
    assert request == ImageRequest(**FIELDS)


def test_outermost_object_with_all_fields_wins() -> None:
    event = {"s3_bucket": "outer", "s3_key": "a.png", "body": {"s3_bucket": "inner", "s3_key": "b.png"}}
    assert find_fields(event, ("s3_bucket", "s3_key"))["s3_bucket"] == "outer"


@pytest.mark.parametrize("event, missing", [
    ({"s3_bucket": "scones"}, "s3_key"),
    ({"body": {"s3_key": "x.png"}}, "s3_bucket"),
    ({"body": "not json"}, "s3_bucket"),
    ({}, "s3_bucket"),
    ([FIELDS], "s3_bucket"),
    (None, "s3_bucket"),
    ("just a string", "s3_bucket"),
    (42, "s3_bucket"),
], ids=["no-key", "body-no-bucket", "body-not-json", "empty", "list", "null", "string", "number"])
def test_missing_field_names_field_and_shapes(event: Any, missing: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        ImageRequest.from_event(event)
    message = str(info.value)
    assert f"missing the field {missing!r}" in message
    assert '{"body": {"<field>": ...}}' in message and "Payload" in message


@pytest.mark.parametrize("fields", [
    {"s3_bucket": "scones", "s3_key": ""},
    {"s3_bucket": 7, "s3_key": "a.png"},
    {"s3_bucket": "scones", "s3_key": ["a.png"]},
], ids=["empty-key", "int-bucket", "list-key"])
def test_request_fields_must_be_strings(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent, match="must be a non-empty string"):
        ImageRequest.from_event(fields)


@pytest.mark.parametrize("value, shown", [
    ("", "got an empty string"), (7, "got a JSON number"), (["a.png"], "got a JSON array"), (None, "got null"),
    (True, "got a JSON boolean"),
])
def test_bad_request_fields_are_described_in_json_terms(value: Any, shown: str) -> None:
    with pytest.raises(InvalidEvent, match=f"field 's3_key' must be a non-empty string, {shown}$"):
        ImageRequest.from_event({"s3_bucket": "scones", "s3_key": value})


def test_event_nested_past_the_parser_limit_is_an_invalid_event() -> None:
    """A JSON string envelope nested deeper than json can parse is 'missing the fields', not a RecursionError."""
    for event in ("[" * 5000, {"body": "[" * 5000}):
        with pytest.raises(InvalidEvent, match="missing the field 's3_bucket'"):
            ImageRequest.from_event(event)


def invoke_result_envelope(image_b64: str) -> dict[str, Any]:
    """What a Step Functions ``lambda:invoke`` task hands the next state without a ResultSelector:
    the Invoke API's result with the function's dict output as ``Payload``."""
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": {"statusCode": 200, "body": {"image_data": image_b64, "s3_bucket": "scones",
                                                "s3_key": "dataset/test/bicycle_s_000513.png",
                                                "inferences": [0.9771, 0.0229]}},
        "SdkHttpMetadata": {
            "AllHttpHeaders": {"X-Amz-Executed-Version": ["$LATEST"], "Content-Type": ["application/json"]},
            "HttpHeaders": {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"},
            "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": "8c1c1b0a-4f0e-4b8e-9a43-1f4f5a1e2c3d"},
        "StatusCode": 200,
    }


def classic_string_body(image_b64: str) -> dict[str, Any]:
    """The classic project's handler output: ``body`` a JSON string, ``inferences`` a string inside it."""
    return {"statusCode": 200, "body": json.dumps({"image_data": image_b64, "s3_bucket": "scones",
                                                   "s3_key": "dataset/test/bicycle_s_000513.png",
                                                   "inferences": "[0.9771, 0.0229]"})}


def test_invoke_result_envelope_gives_typed_body() -> None:
    b64 = base64.b64encode(b"\x89PNG\r\n\x1a\nrest").decode()
    raw = invoke_result_envelope(b64)
    body = ImageBody.from_event(raw, need_inferences=True)
    inner = raw["Payload"]["body"]
    assert body.image_data == inner["image_data"]
    assert body.s3_bucket == inner["s3_bucket"] and body.s3_key == inner["s3_key"]
    assert list(body.inferences) == inner["inferences"]
    assert body.image_bytes() == b"\x89PNG\r\n\x1a\nrest"


def test_classic_string_body_with_string_inferences_is_read() -> None:
    b64 = base64.b64encode(b"img").decode()
    body = ImageBody.from_event(classic_string_body(b64), need_inferences=True)
    assert body.inferences == (0.9771, 0.0229)


def test_body_round_trips_as_plain_json() -> None:
    body = ImageBody("aGk=", "b", "k.png").with_inferences([0.25, 0.75])
    text = json.dumps({"body": body.to_json()})
    assert ImageBody.from_event(text, need_inferences=True) == body


@pytest.mark.parametrize("fields, match", [
    ({"image_data": "b'iVBOR'", "inferences": [1.0]}, "repr of a bytes object"),
    ({"image_data": 12, "inferences": [1.0]}, "non-empty base64 string"),
    ({"image_data": "aGk=", "inferences": "oops"}, "not a JSON list"),
    ({"image_data": "aGk=", "inferences": {"a": 1}}, "list of numbers"),
    ({"image_data": "aGk=", "inferences": [0.5, "x"]}, "probabilities"),
    ({"image_data": "aGk=", "inferences": [True, 0.1]}, "probabilities"),
    ({"image_data": "aGk=", "inferences": [5.0]}, r"probabilities \(numbers from 0 to 1\), found 5.0"),
    ({"image_data": "aGk=", "inferences": [-1.0, 0.2]}, "found -1.0"),
    ({"image_data": "aGk=", "inferences": [float("nan")]}, "found nan"),
    ({"image_data": "aGk=", "inferences": "[" * 5000}, "not a JSON list"),
    ({"image_data": "aGk=", "inferences": []}, "is empty"),
    ({"image_data": "aGk="}, "missing the field 'inferences'"),
], ids=["bytes-repr", "int-image", "bad-string", "dict", "mixed", "bool", "above-one", "negative", "nan",
        "nested-too-deep", "empty", "absent"])
def test_bad_bodies(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidEvent, match=match):
        ImageBody.from_event({"body": fields}, need_inferences=True)


def test_bad_base64_is_invalid_event() -> None:
    with pytest.raises(InvalidEvent, match="not valid base64"):
        ImageBody("@@@", "b", "k").image_bytes()


def test_read_object_from_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scones" / "dataset").mkdir(parents=True)
    (tmp_path / "scones" / "dataset" / "a.png").write_bytes(b"png")
    monkeypatch.setenv("SCONES_LOCAL_STORE_ROOT", str(tmp_path))

    def no_s3() -> Any:
        raise AssertionError("S3 must not be used locally")

    assert read_object("scones", "dataset/a.png", no_s3) == b"png"
    with pytest.raises(ObjectNotFound, match="no object s3://scones/dataset/b.png"):
        read_object("scones", "dataset/b.png", no_s3)
    for key in ("../../etc/passwd", "/etc/passwd", "a/../../x"):
        with pytest.raises(InvalidEvent):
            read_object("scones", key, no_s3)


def test_read_object_follows_links_only_inside_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, outside = tmp_path / "store", tmp_path / "outside"
    (store / "scones" / "dataset").mkdir(parents=True)
    outside.mkdir()
    (store / "scones" / "dataset" / "real.png").write_bytes(b"inside")
    (outside / "secret.png").write_bytes(b"secret")
    (store / "scones" / "dataset" / "alias.png").symlink_to(store / "scones" / "dataset" / "real.png")
    (store / "scones" / "dataset" / "escape.png").symlink_to(outside / "secret.png")
    (store / "scones" / "linked").symlink_to(outside, target_is_directory=True)
    (store / "scones" / "dataset" / "folder.png").mkdir()
    big = bytes(range(256)) * 1000
    (store / "scones" / "dataset" / "big.png").write_bytes(big)
    monkeypatch.setenv("SCONES_LOCAL_STORE_ROOT", str(store))

    def no_s3() -> Any:
        raise AssertionError("S3 must not be used locally")

    assert read_object("scones", "dataset/alias.png", no_s3) == b"inside"
    assert read_object("scones", "dataset/big.png", no_s3) == big
    for key in ("dataset/escape.png", "linked/secret.png"):
        with pytest.raises(InvalidEvent, match="outside the local store"):
            read_object("scones", key, no_s3)
    with pytest.raises(ObjectNotFound):
        read_object("scones", "dataset/folder.png", no_s3)
    with pytest.raises(ObjectNotFound):
        read_object("scones", "dataset/real.png/below", no_s3)


def test_read_object_refuses_fifos_and_over_long_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FIFO under the store would block the function in open() forever (no timeout can interrupt
    it in-process); a key longer than a file name allows cannot exist locally."""
    (tmp_path / "scones" / "dataset").mkdir(parents=True)
    os.mkfifo(tmp_path / "scones" / "dataset" / "pipe.png")
    monkeypatch.setenv("SCONES_LOCAL_STORE_ROOT", str(tmp_path))

    def no_s3() -> Any:
        raise AssertionError("S3 must not be used locally")

    with pytest.raises(ObjectNotFound, match="dataset/pipe.png"):
        read_object("scones", "dataset/pipe.png", no_s3)
    with pytest.raises(ObjectNotFound, match="too long"):
        read_object("scones", "dataset/" + "k" * 300 + ".png", no_s3)


def test_read_object_uses_s3_without_local_root(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    monkeypatch.delenv("SCONES_LOCAL_STORE_ROOT", raising=False)
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(b"abc"), 3)},
                          {"Bucket": "bkt", "Key": "k.png"})
        stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404,
                              expected_params={"Bucket": "bkt", "Key": "gone.png"})
        assert read_object("bkt", "k.png", lambda: client) == b"abc"
        with pytest.raises(ObjectNotFound, match="NoSuchKey"):
            read_object("bkt", "gone.png", lambda: client)
        stub.assert_no_pending_responses()


def test_threshold_from_env() -> None:
    assert threshold_from_env({}) == 0.93
    assert threshold_from_env({"THRESHOLD": "0.8"}) == 0.8
    for bad in ("high", "0", "1.5"):
        with pytest.raises(ConfigurationError, match="THRESHOLD"):
            threshold_from_env({"THRESHOLD": bad})


def test_content_type_and_probabilities() -> None:
    assert content_type_of(b"\x89PNG\r\n\x1a\n...") == "image/png"
    assert content_type_of(b"\xff\xd8\xff\xe0...") == "image/jpeg"
    assert content_type_of(b"GIF89a") == "application/x-image"
    assert parse_probabilities(b"[0.8227921724319458, 0.1772077977657318]") == [0.8227921724319458, 0.1772077977657318]
    for bad in (b"{}", b"[]", b"nope", b'["a"]'):
        with pytest.raises(ValueError):
            parse_probabilities(bad)
