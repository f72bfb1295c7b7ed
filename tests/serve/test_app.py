"""The real server, in-process, over loopback: boto3's sagemaker-runtime client and plain HTTP."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from scones.capture_format import CaptureRecord, Encoding
from scones.model_artifact import load_model
from scones.serve.config import ServeConfig
from scones.serve.images import prepare_image
from scones.serve.predictor import Predictor
from scones.serve.server import ThreadedServer, serve_in_thread

from .conftest import ENDPOINT


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def expected_probs(model: Path, data: bytes) -> list[float]:
    predictor = Predictor(load_model(model), threads=1)
    pixels = prepare_image(data, predictor.height, predictor.width)[None]
    return [float(p) for p in predictor.predict(pixels)[0]]


def test_ping_and_metrics(server: ThreadedServer) -> None:
    assert httpx.get(f"{server.url}/ping").status_code == 200
    resp = httpx.get(f"{server.url}/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    assert "# TYPE scones_request_duration_seconds histogram" in resp.text
    assert "scones_capture_backlog_records" in resp.text


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_boto3_round_trip(server: ThreadedServer, runtime_client: Any, tiny_model: Path, kind: str,
                          request: pytest.FixtureRequest) -> None:
    data: bytes = request.getfixturevalue(kind)
    content_type = f"image/{kind}"
    resp = runtime_client(server.url).invoke_endpoint(EndpointName=ENDPOINT, ContentType=content_type, Body=data,
                                                      InferenceId=f"id-{kind}")
    body = resp["Body"].read().decode()
    assert resp["ContentType"] == "application/json"
    assert resp["InvokedProductionVariant"] == "AllTraffic"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    probs = json.loads(body)
    assert body == json.dumps(probs) and ", " in body  # the built-in algorithm's serialisation
    assert np.allclose(probs, expected_probs(tiny_model, data), atol=1e-6)
    assert abs(sum(probs) - 1) < 1e-5


def test_container_route_and_x_image(server: ThreadedServer, png: bytes) -> None:
    for content_type in ("application/x-image", None):
        headers = {"Content-Type": content_type} if content_type else {}
        resp = httpx.post(f"{server.url}/invocations", content=png, headers=headers)
        assert resp.status_code == 200, resp.text
        assert len(resp.json()) == 2


def test_json_batch_answers_a_list_of_lists(server: ThreadedServer, runtime_client: Any, make_image: Any) -> None:
    images = [make_image("PNG", (32, 32), (255, 0, 0)), make_image("JPEG", (50, 70), (0, 0, 255))]
    body = json.dumps([base64.b64encode(i).decode() for i in images])
    resp = runtime_client(server.url).invoke_endpoint(EndpointName=ENDPOINT, ContentType="application/json",
                                                      Body=body)
    result = json.loads(resp["Body"].read())
    assert len(result) == 2 and all(len(r) == 2 for r in result)
    assert result[0] != result[1]
    single = httpx.post(f"{server.url}/invocations", content=images[0], headers={"Content-Type": "image/png"})
    assert np.allclose(result[0], single.json())


def test_model_error_shape_as_boto3_parses_it(server: ThreadedServer, runtime_client: Any) -> None:
    client = runtime_client(server.url)
    with pytest.raises(client.exceptions.ModelError) as info:
        client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=b"not an image")
    err = info.value.response
    assert err["Error"]["Code"] == "ModelError"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert err["OriginalStatusCode"] == 400
    assert json.loads(err["OriginalMessage"])["error"] == "not_an_image"
    assert err["Error"]["Message"].startswith("Received client error (400) from primary with message")
    assert err["LogStreamArn"].endswith(f"/aws/sagemaker/Endpoints/{ENDPOINT}")


def test_unsupported_content_type_is_a_model_error_carrying_415(server: ThreadedServer, runtime_client: Any,
                                                                png: bytes) -> None:
    client = runtime_client(server.url)
    with pytest.raises(client.exceptions.ModelError) as info:
        client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=png)
    assert info.value.response["OriginalStatusCode"] == 415


@pytest.mark.parametrize(("kwargs", "status", "message"), [
    ({"EndpointName": "other-endpoint"}, 400, "Endpoint other-endpoint of account 123456789012 not found."),
    ({"EndpointName": "bad_name!"}, 400, "failed to satisfy constraint"),
    ({"InferenceId": "tab\there"}, 400, "inferenceId"),
    ({"InferenceId": "x" * 65}, 400, "inferenceId"),
    ({"TargetVariant": "Canary"}, 400, "Variant Canary not found"),
    ({"Body": b"\0" * (6 * 1024 * 1024 + 1)}, 413, "larger than 6291456 bytes"),
])
def test_validation_errors_as_boto3_parses_them(server: ThreadedServer, runtime_client: Any, png: bytes,
                                                kwargs: dict[str, Any], status: int, message: str) -> None:
    client = runtime_client(server.url)
    call = {"EndpointName": ENDPOINT, "ContentType": "image/png", "Body": png, **kwargs}
    with pytest.raises(client.exceptions.ValidationError) as info:
        client.invoke_endpoint(**call)
    err = info.value.response
    assert err["Error"]["Code"] == "ValidationError"
    assert message in err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status


def _bad_inputs(make_image: Any) -> list[tuple[str, dict[str, str], bytes, int, str]]:
    from .test_images import png_header_only

    big = make_image("PNG", (64, 64), (9, 9, 9))
    return [
        ("empty body", {"Content-Type": "image/png"}, b"", 400, "empty_body"),
        ("not an image", {"Content-Type": "image/jpeg"}, b"GIF? no, plain text", 400, "not_an_image"),
        ("truncated png", {"Content-Type": "image/png"}, big[: len(big) // 2], 400, "truncated_image"),
        ("decompression bomb", {"Content-Type": "image/png"}, png_header_only(50_000, 50_000), 400, "pixel_limit"),
        ("over 6 MiB", {"Content-Type": "image/png"}, b"\x89PNG" + b"\0" * (6 * 1024 * 1024), 413,
         "payload_too_large"),
        ("unsupported type", {"Content-Type": "text/plain"}, big, 415, "unsupported_content_type"),
        ("malformed json batch", {"Content-Type": "application/json"}, b'["abc', 400, "malformed_batch"),
        ("not acceptable", {"Content-Type": "image/png", "Accept": "text/csv"}, big, 406, "not_acceptable"),
    ]


def test_every_bad_input_is_a_counted_4xx_and_the_server_stays_healthy(server: ThreadedServer,
                                                                        make_image: Any, png: bytes) -> None:
    with httpx.Client(base_url=server.url) as http:
        for name, headers, body, status, kind in _bad_inputs(make_image):
            before = metric(http.get("/metrics").text, f'scones_errors_total{{kind="{kind}"}}')
            resp = http.post("/invocations", content=body, headers=headers)
            assert resp.status_code == status, name
            assert resp.headers["content-type"] == "application/json", name
            assert resp.json()["error"] == kind and resp.json()["message"], name
            after = metric(http.get("/metrics").text, f'scones_errors_total{{kind="{kind}"}}')
            assert after == before + 1, name
            # The runtime route wraps the same container error (or refuses it as the service would).
            runtime = http.post(f"/endpoints/{ENDPOINT}/invocations", content=body, headers=headers)
            assert 400 <= runtime.status_code < 500 and "x-amzn-errortype" in runtime.headers, name
            assert http.get("/ping").status_code == 200
            assert http.post("/invocations", content=png, headers={"Content-Type": "image/png"}).status_code == 200
        metrics = http.get("/metrics").text
    assert 'scones_requests_total{route="invocations",status="415"} 1' in metrics


def test_captures_what_was_answered(tiny_model: Path, tmp_path: Path, png: bytes, runtime_client: Any) -> None:
    from scones.serve.capture import CaptureConfig

    dest = tmp_path / "dc"
    config = ServeConfig(model=str(tiny_model), port=0, endpoint_name="cap-ep", variant="Blue",
                         capture=CaptureConfig(str(dest)), log_level="warning")
    with serve_in_thread(config) as running:
        client = runtime_client(running.url)
        bodies = [client.invoke_endpoint(EndpointName="cap-ep", ContentType="image/png", Body=png,
                                         InferenceId=f"req-{i}")["Body"].read().decode() for i in range(3)]
        httpx.post(f"{running.url}/invocations", content=b"junk", headers={"Content-Type": "image/png"})
    files = sorted(dest.rglob("*.jsonl"))
    assert len(files) == 1
    assert files[0].relative_to(dest).parts[:2] == ("cap-ep", "Blue")
    records = [CaptureRecord.from_json_line(line) for line in files[0].read_text().splitlines()]
    assert [r.inference_id for r in records] == ["req-0", "req-1", "req-2"]  # the failed call is not captured
    for record, body in zip(records, bodies, strict=True):
        assert record.endpoint_input is not None and record.endpoint_output is not None
        assert record.endpoint_input.payload() == png
        assert record.endpoint_input.encoding is Encoding.BASE64
        assert record.endpoint_output.data == body and record.endpoint_output.encoding is Encoding.JSON


def test_recorded_request_through_the_server_captures_like_sagemaker(shared_data: Path, tiny_model: Path,
                                                                     tmp_path: Path, runtime_client: Any) -> None:
    from scones.serve.capture import CaptureConfig

    real_path = next((shared_data / "aws-recorded/data_capture").rglob("*.jsonl"))
    real = CaptureRecord.from_json_line(real_path.read_text())
    assert real.endpoint_input is not None
    dest = tmp_path / "dc"
    config = ServeConfig(model=str(tiny_model), port=0, endpoint_name="golden", capture=CaptureConfig(str(dest)),
                         log_level="warning")
    with serve_in_thread(config) as running:
        body = runtime_client(running.url).invoke_endpoint(
            EndpointName="golden", ContentType=real.endpoint_input.observed_content_type,
            Body=real.endpoint_input.payload())["Body"].read().decode()
    (path,) = dest.rglob("*.jsonl")
    ours = CaptureRecord.from_json_line(path.read_text())
    assert ours.endpoint_input == real.endpoint_input  # same bytes, type and encoding
    assert ours.endpoint_output is not None and real.endpoint_output is not None
    assert ours.endpoint_output.data == body
    assert (ours.endpoint_output.observed_content_type, ours.endpoint_output.mode, ours.endpoint_output.encoding) \
        == (real.endpoint_output.observed_content_type, real.endpoint_output.mode, real.endpoint_output.encoding)
    ours_raw, real_raw = json.loads(path.read_text()), json.loads(real_path.read_text())
    assert list(ours_raw) == list(real_raw)
    assert list(ours_raw["eventMetadata"]) == list(real_raw["eventMetadata"])
    assert path.relative_to(dest).parts[:2] == ("golden", "AllTraffic")


def test_wrong_routes_and_methods_answer_json(server: ThreadedServer) -> None:
    assert httpx.get(f"{server.url}/invocations").json()["error"] == "http_error"
    missing = httpx.post(f"{server.url}/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_a_refused_oversized_body_leaves_the_connection_usable(server: ThreadedServer, png: bytes) -> None:
    with httpx.Client(base_url=server.url) as http:
        big = http.post("/invocations", content=b"\0" * (6 * 1024 * 1024 + 10), headers={"Content-Type": "image/png"})
        assert big.status_code == 413
        assert http.post("/invocations", content=png, headers={"Content-Type": "image/png"}).status_code == 200


def _server_with_model(tiny_model: Path, predict: Any, **config: Any) -> Any:
    from scones.serve.app import Endpoint

    cfg = ServeConfig(model=str(tiny_model), port=0, endpoint_name=ENDPOINT, log_level="critical", **config)
    endpoint = Endpoint(cfg)
    endpoint.prepare()
    endpoint._predict = predict  # type: ignore[method-assign]
    return serve_in_thread(cfg, endpoint=endpoint)


def test_a_model_that_does_not_answer_in_time(tiny_model: Path, png: bytes, runtime_client: Any) -> None:
    import threading

    release = threading.Event()

    def stuck(pixels: np.ndarray) -> np.ndarray:
        release.wait(30)
        return np.full((pixels.shape[0], 2), 0.5, dtype=np.float32)

    with _server_with_model(tiny_model, stuck, invocation_timeout=0.2) as running:
        try:
            resp = httpx.post(f"{running.url}/invocations", content=png, headers={"Content-Type": "image/png"})
            assert resp.status_code == 504 and resp.json()["error"] == "timeout"
            client = runtime_client(running.url)
            with pytest.raises(client.exceptions.ModelError) as info:
                client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=png)
            assert info.value.response["OriginalStatusCode"] == 0
        finally:
            release.set()


def test_a_failing_model_is_a_model_error_and_the_server_recovers(tiny_model: Path, png: bytes,
                                                                    runtime_client: Any) -> None:
    calls = {"n": 0}

    def flaky(pixels: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("onnxruntime exploded")
        return np.full((pixels.shape[0], 2), 0.5, dtype=np.float32)

    with _server_with_model(tiny_model, flaky) as running:
        client = runtime_client(running.url)
        with pytest.raises(client.exceptions.ModelError) as info:
            client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=png)
        assert info.value.response["OriginalStatusCode"] == 500
        assert "onnxruntime exploded" in info.value.response["OriginalMessage"]
        ok = client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=png)
        assert json.loads(ok["Body"].read()) == [0.5, 0.5]
