"""``scones package functions``, ``deploy aws`` and ``destroy aws`` through the real CLI, against a moto server.

boto3 finds the server through ``AWS_ENDPOINT_URL``, exactly as it would for a
user pointing scones at LocalStack or moto.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "aws"))

from aws_harness import BUCKET, IMAGE, REGION, _moto_server, make_inputs, queue_lambda_results

from scones.cli import main

pytestmark = pytest.mark.xdist_group("test_aws_cmd")  # keeps the module's moto fixtures on one worker


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    import boto3

    with _moto_server() as url:
        boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s").client(
            "s3", region_name=REGION, endpoint_url=url).create_bucket(Bucket=BUCKET)
        yield url


@pytest.fixture
def aws_env(server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return server_url


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_package_functions_writes_one_zip_per_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["package", "functions", "--out", str(tmp_path)], capsys)
    assert code == 0
    for name, module in (("serializeImageData", "serialize_image_data"), ("classifyImage", "classify_image"),
                         ("filterInferences", "filter_inferences")):
        zipped = tmp_path / f"{name}.zip"
        assert str(zipped) in out
        assert any(n.endswith(f"{module}.py") for n in zipfile.ZipFile(zipped).namelist())


@pytest.mark.slow
def test_deploy_dry_run_apply_again_template_and_destroy(aws_env: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    inputs = make_inputs(tmp_path)
    base = ["deploy", "aws", "--bucket", BUCKET, "--region", REGION, "--prefix", "cli", "--image-uri", IMAGE,
            "--dataset", str(inputs.dataset), "--model", str(inputs.model)]
    code, out, err = run(base + ["--dry-run"], capsys)
    assert code == 0, err
    assert "+ create    lambda function" in out and out.rstrip().endswith("dry run: nothing was changed")

    code, out, err = run(base, capsys)
    assert code == 0, err
    assert "endpoint: cli-endpoint" in out
    assert "stateMachine:cli-workflow" in out

    code, out, _ = run(base, capsys)
    assert "no change: everything is up to date" in out

    template = tmp_path / "stack.json"
    code, out, err = run(base + ["--template", str(template)], capsys)
    assert code == 0, err
    assert "aws cloudformation deploy" in out
    assert json.loads(template.read_text())["Resources"]["Endpoint"]["Type"] == "AWS::SageMaker::Endpoint"

    destroy = ["destroy", "aws", "--region", REGION, "--prefix", "cli"]
    code, out, _ = run(destroy + ["--dry-run"], capsys)
    assert "- delete    sagemaker endpoint         cli-endpoint" in out
    assert out.rstrip().endswith("dry run: nothing was deleted")
    code, out, _ = run(destroy + ["--yes"], capsys)
    assert code == 0 and out.rstrip().endswith("destroyed")
    code, out, _ = run(destroy + ["--yes"], capsys)
    assert "nothing to destroy" in out


@pytest.mark.slow
def test_workflow_runs_on_the_deployed_state_machines(aws_env: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    inputs = make_inputs(tmp_path)
    code, _, err = run(["deploy", "aws", "--bucket", BUCKET, "--region", REGION, "--prefix", "onaws",
                        "--image-uri", IMAGE, "--dataset", str(inputs.dataset), "--model", str(inputs.model)], capsys)
    assert code == 0, err
    key = "onaws/dataset/test/test_0.png"
    body = {"image_data": "aGk=", "s3_bucket": BUCKET, "s3_key": key, "inferences": [0.95, 0.05]}
    queue_lambda_results(aws_env, [{"statusCode": 200, "body": body}] * 3)
    code, out, err = run(["workflow", "run", "--backend", "aws", "--region", REGION, "--deployment", "onaws",
                          "--input", json.dumps({"s3_bucket": BUCKET, "s3_key": key}), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "SUCCEEDED" and result["output"]["body"]["inferences"] == [0.95, 0.05]
    assert ":stateMachine:" not in result["executionArn"] and ":execution:onaws-workflow:" in result["executionArn"]

    queue_lambda_results(aws_env, [{"statusCode": 200, "body": body}] * 3)
    code, out, err = run(["workflow", "run-batch", "--backend", "aws", "--region", REGION, "--deployment", "onaws",
                          "--bucket", BUCKET, "--prefix", "onaws/dataset/test/", "--limit", "1", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "SUCCEEDED" and ":execution:onaws-workflow-batch:" in result["executionArn"]
    assert key in json.dumps(result["output"])

    code, _, err = run(["workflow", "run", "--backend", "aws", "--region", REGION, "--deployment", "onaws",
                        "--definition", "x.json", "--input", "{}"], capsys)
    assert code == 2 and "--definition runs locally" in err


def test_missing_credentials_is_one_clean_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = run(["deploy", "aws", "--bucket", BUCKET, "--region", REGION, "--dry-run"], capsys)
    assert code == 1
    assert err.startswith("Error: No AWS credentials found")
    assert "Traceback" not in err


def test_delete_data_needs_the_bucket(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["destroy", "aws", "--region", REGION, "--delete-data"], capsys)
    assert code == 2
    assert "--delete-data needs --bucket" in err
