from __future__ import annotations

import json

from scones.serve.errors import (
    EndpointNotFound,
    InferenceTimeout,
    NotAnImage,
    NotReady,
    PayloadTooLarge,
    TruncatedImage,
    UnsupportedContentType,
    aws_shape,
    container_error_response,
    runtime_error_response,
)


def test_shapes_are_found_along_the_mro() -> None:
    assert aws_shape(TruncatedImage("x")).code == "ModelError"
    assert aws_shape(PayloadTooLarge("x")).code == "ValidationError"
    assert aws_shape(EndpointNotFound("x")).code == "ValidationError"
    assert aws_shape(NotReady("x")).code == "ServiceUnavailable"


def test_container_response_keeps_the_status() -> None:
    resp = container_error_response(UnsupportedContentType("no csv"))
    assert resp.status_code == 415
    assert json.loads(resp.body) == {"error": "unsupported_content_type", "message": "no csv"}


def test_model_error_wraps_the_container_answer() -> None:
    resp = runtime_error_response(NotAnImage("bad bytes"), endpoint_name="ep", region="eu-west-1", request_id="r1")
    body = json.loads(resp.body)
    assert resp.status_code == 424
    assert resp.headers["x-amzn-errortype"] == "ModelError" and resp.headers["x-amzn-requestid"] == "r1"
    assert body["OriginalStatusCode"] == 400
    assert json.loads(body["OriginalMessage"]) == {"error": "not_an_image", "message": "bad bytes"}
    assert "region=eu-west-1" in body["Message"] and "/aws/sagemaker/Endpoints/ep" in body["LogStreamArn"]


def test_a_timeout_reports_original_status_zero() -> None:
    body = json.loads(runtime_error_response(InferenceTimeout("slow"), endpoint_name="ep", region="r").body)
    assert body["OriginalStatusCode"] == 0 and body["Message"].startswith("Received server error (0)")


def test_validation_error_keeps_its_http_status() -> None:
    resp = runtime_error_response(PayloadTooLarge("too big"), endpoint_name="ep", region="r")
    assert resp.status_code == 413 and json.loads(resp.body) == {"Message": "too big"}
    assert resp.headers["x-amzn-errortype"] == "ValidationError"
