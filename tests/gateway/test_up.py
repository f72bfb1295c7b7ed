"""``scones up``: one port, four services, reached by unchanged boto3 code through the printed exports."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from scones.config import Settings
from scones.errors import UsageError
from scones.gateway.up import UpOptions, exports, up_in_thread
from scones.testing import tiny_model_tarball

pytestmark = pytest.mark.xdist_group("scones-up")


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def settings(scones_home: Path) -> Settings:
    settings = Settings.from_env()
    model = settings.store_root / settings.bucket / "model" / "model.tar.gz"
    model.parent.mkdir(parents=True)
    model.write_bytes(tiny_model_tarball())
    return settings


@pytest.fixture
def served(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    with up_in_thread(settings, UpOptions(port=0)) as (url, local):
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SFN"):
            monkeypatch.delenv(key, raising=False)
        for key, value in exports(url, None).items():  # exactly what scones up prints
            monkeypatch.setenv(key, value)
        yield url, local


def test_unchanged_boto3_code_reaches_every_service(served: tuple[str, Any]) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket="scones", Key="uploads/red.png", Body=png((250, 10, 10)))
    keys = [o.key for o in boto3.resource("s3").Bucket("scones").objects.filter(Prefix="uploads/")]
    assert keys == ["uploads/red.png"]

    answer = boto3.client("sagemaker-runtime").invoke_endpoint(EndpointName="scones-endpoint",
                                                               ContentType="image/png", Body=png((250, 10, 10)))
    probabilities = json.loads(answer["Body"].read())
    assert len(probabilities) == 2 and abs(sum(probabilities) - 1) < 1e-6

    lam = boto3.client("lambda")
    assert {f["FunctionName"] for f in lam.list_functions()["Functions"]} >= {
        "serializeImageData", "classifyImage", "filterInferences"}
    result = lam.invoke(FunctionName="serializeImageData",
                        Payload=json.dumps({"s3_bucket": "scones", "s3_key": "uploads/red.png"}))
    assert json.loads(result["Payload"].read())["body"]["s3_key"] == "uploads/red.png"

    sfn = boto3.client("stepfunctions")
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    assert {"scones-workflow", "scones-workflow-batch"} <= set(machines)
    run = sfn.start_execution(stateMachineArn=machines["scones-workflow"], name="through-up",
                              input=json.dumps({"s3_bucket": "scones", "s3_key": "uploads/red.png"}))
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=run["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["status"] in ("SUCCEEDED", "FAILED")  # FAILED: below the threshold, as the filter says
    if described["status"] == "FAILED":
        assert described["error"] == "ThresholdConfidenceNotMet"
    events = sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    assert sum(1 for e in events if e["type"] == "TaskSucceeded") >= 2


def test_start_sync_execution_from_unchanged_code_with_only_the_exports(served: tuple[str, Any]) -> None:
    """botocore sends StartSyncExecution to sync-<host>; the exports turn the prefix off."""
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="express-pass", type="EXPRESS", roleArn="arn:aws:iam::123456789012:role/r",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1},
                                                                "End": True}}}))["stateMachineArn"]
    result = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"ok": 1}


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_LAMBDA",
                                      "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"])
def test_each_per_service_variable_routes_its_service(served: tuple[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                      variable: str) -> None:
    url, _ = served
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing there: only the per-service one works
    monkeypatch.setenv(variable, url)
    if variable.endswith("S3"):
        assert "Buckets" in boto3.client("s3").list_buckets()
    elif variable.endswith("SFN"):
        assert "stateMachines" in boto3.client("stepfunctions").list_state_machines()
    elif variable.endswith("LAMBDA"):
        assert boto3.client("lambda").list_functions()["Functions"]
    else:
        client = boto3.client("sagemaker-runtime")
        with pytest.raises(client.exceptions.ValidationError, match="Endpoint nope of account"):
            client.invoke_endpoint(EndpointName="nope", ContentType="image/png", Body=png((1, 2, 3)))


def test_on_ipv6_loopback_the_url_puts_the_host_in_brackets(settings: Settings) -> None:
    with up_in_thread(settings, UpOptions(host="::1", port=0)) as (url, _):
        assert url.startswith("http://[::1]:")
        sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                           aws_secret_access_key="s")
        assert "scones-workflow" in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]


def test_binding_beyond_loopback_needs_keys(settings: Settings) -> None:
    with pytest.raises(UsageError, match="--access-key and --secret-key"):
        with up_in_thread(settings, UpOptions(host="0.0.0.0", port=0)):
            pass


def test_with_keys_every_request_is_signed_with_them(settings: Settings) -> None:
    from scones.gateway.sigv4 import Credentials

    keys = Credentials("AKIDLOCAL", "the-secret")
    with up_in_thread(settings, UpOptions(port=0, credentials=keys)) as (url, _):
        def client(service: str, secret: str) -> Any:
            return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDLOCAL",
                                aws_secret_access_key=secret)

        assert "Buckets" in client("s3", "the-secret").list_buckets()
        assert "stateMachines" in client("stepfunctions", "the-secret").list_state_machines()
        with pytest.raises(Exception, match="SignatureDoesNotMatch"):
            client("s3", "wrong").list_buckets()
        with pytest.raises(Exception, match="InvalidSignatureException"):
            client("stepfunctions", "wrong").list_state_machines()
        with pytest.raises(Exception, match="InvalidSignatureException"):
            client("lambda", "wrong").list_functions()


@pytest.mark.timeout(120)
def test_the_command_prints_the_exports_serves_and_stops_on_sigterm(settings: Settings,
                                                                     scones_home: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "scones", "up", "--port", "0"],
                               env={**os.environ, "SCONES_HOME": str(scones_home)}, stderr=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        assert process.stderr is not None
        while not any(line.startswith("Stop with Ctrl-C") for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        url = re.search(r"export AWS_ENDPOINT_URL=(\S+)", text)
        assert url and "export AWS_DISABLE_HOST_PREFIX_INJECTION=true" in text and "scones-endpoint" in text
        sfn = boto3.client("stepfunctions", endpoint_url=url.group(1), region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="y")
        assert {m["name"] for m in sfn.list_state_machines()["stateMachines"]} >= {"scones-workflow"}
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "scones up: stopped" in rest


def test_with_keys_presigned_urls_still_work_and_expire(settings: Settings) -> None:
    import urllib.error
    import urllib.request

    from scones.gateway.sigv4 import Credentials

    keys = Credentials("AKIDLOCAL", "the-secret")
    with up_in_thread(settings, UpOptions(port=0, credentials=keys)) as (url, _):
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDLOCAL",
                          aws_secret_access_key="the-secret")
        s3.put_object(Bucket="scones", Key="shared.txt", Body=b"hello")
        good = s3.generate_presigned_url("get_object", Params={"Bucket": "scones", "Key": "shared.txt"},
                                         ExpiresIn=60)
        with urllib.request.urlopen(good) as answer:
            assert answer.read() == b"hello"
        forged = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDLOCAL",
                              aws_secret_access_key="wrong").generate_presigned_url(
            "get_object", Params={"Bucket": "scones", "Key": "shared.txt"}, ExpiresIn=60)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged)
        assert refused.value.code == 403
