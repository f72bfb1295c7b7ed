"""examples/classic end to end: the user's own three handlers and console-exported definition, run unchanged.

With flags and with the SAM template, through ``scones workflow run`` and through ``scones up`` + boto3's
``start_execution``; a confident image is kept, an unconfident one fails as the classic filter makes it fail.
The classic-bugs copy is run too: each planted bug is reported as AWS would report it, and the check names it.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from scones.cli import main
from scones.config import Settings
from scones.testing import tiny_model_tarball

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLASSIC = EXAMPLES / "classic"
BUGS = EXAMPLES / "classic-bugs"
ENDPOINT = "image-classification-2023-01-18-19-42-56-366"
BUCKET = "sagemaker-us-east-1-123456789012"
#: The tiny test model is sure of blue (0.999) and unsure of grey (0.56); the classic filter keeps >= 0.93.
CONFIDENT, UNSURE = (10, 10, 250), (128, 128, 128)

pytestmark = [pytest.mark.xdist_group("examples-tmp-image"), pytest.mark.timeout(300)]


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def model(scones_home: Path) -> Path:
    settings = Settings.from_env()
    folder = settings.store_root / BUCKET / "test"
    folder.mkdir(parents=True)
    (folder / "blue.png").write_bytes(png(CONFIDENT))
    (folder / "grey.png").write_bytes(png(UNSURE))
    path = scones_home / "model.tar.gz"
    path.write_bytes(tiny_model_tarball())
    return path


def flags(root: Path, model: Path) -> list[str]:
    functions = [f"--function={name}={root / 'functions' / name}"
                 for name in ("serializeImageData", "classifyImage", "filterInferences")]
    return [*functions, "--endpoint", f"{ENDPOINT}={model}"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with pytest.raises(SystemExit) as exit_info:
        main(["workflow", "run", *args, "--json"])
    out = capsys.readouterr()
    assert exit_info.value.code == 0, out.err
    result: dict[str, Any] = json.loads(out.out)
    return result


def test_the_users_files_run_with_flags(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = str(CLASSIC / "statemachine" / "stepfunction.json")
    kept = run(["--definition", definition, *flags(CLASSIC, model),
                "--input", json.dumps({"s3_bucket": BUCKET, "s3_key": "test/blue.png"})], capsys)
    assert kept["status"] == "SUCCEEDED", kept
    assert max(kept["output"]["body"]["inferences"]) > 0.99
    dropped = run(["--definition", definition, *flags(CLASSIC, model),
                   "--input", json.dumps({"s3_bucket": BUCKET, "s3_key": "test/grey.png"})], capsys)
    # The filter raises Exception("THRESHOLD_CONFIDENCE_NOT_MET"); the definition catches it into its Fail state.
    assert dropped["status"] == "FAILED" and dropped["error"] == "THRESHOLD_CONFIDENCE_NOT_MET"


def test_the_same_through_the_sam_template(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = ["--template", str(CLASSIC / "template.yaml"), "--endpoint", f"{ENDPOINT}={model}"]
    kept = run([*template, "--input", json.dumps({"s3_bucket": BUCKET, "s3_key": "test/blue.png"})], capsys)
    assert kept["status"] == "SUCCEEDED", kept
    dropped = run([*template, "--input", json.dumps({"s3_bucket": BUCKET, "s3_key": "test/grey.png"})], capsys)
    assert dropped["status"] == "FAILED" and dropped["error"] == "THRESHOLD_CONFIDENCE_NOT_MET"


def test_the_template_served_by_scones_up_and_started_with_boto3(model: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from scones.gateway.up import UpOptions, exports, up_in_thread
    from scones.workspace import DeclarationOptions, declare

    settings = Settings.from_env()
    declared = declare(settings, DeclarationOptions(template=str(CLASSIC / "template.yaml"),
                                                    endpoints=[f"{ENDPOINT}={model}"]))
    with up_in_thread(settings, UpOptions(port=0, declarations=declared)) as (url, _):
        for key, value in exports(url, None).items():
            monkeypatch.setenv(key, value)
        sfn = boto3.client("stepfunctions")
        machine = next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                       if m["name"] == "scones-unlimited")
        outcomes = {}
        for image in ("blue", "grey"):
            arn = sfn.start_execution(stateMachineArn=machine,
                                      input=json.dumps({"s3_bucket": BUCKET, "s3_key": f"test/{image}.png"}))[
                "executionArn"]
            deadline = time.monotonic() + 60
            while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            outcomes[image] = described
    assert outcomes["blue"]["status"] == "SUCCEEDED"
    assert outcomes["grey"]["status"] == "FAILED" and outcomes["grey"]["error"] == "THRESHOLD_CONFIDENCE_NOT_MET"


def test_the_classic_bugs_fail_as_on_aws_and_the_check_names_them(model: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    definition = str(BUGS / "statemachine" / "stepfunction.json")
    image = ["--input", json.dumps({"s3_bucket": BUCKET, "s3_key": "test/blue.png"})]
    returned_bytes = run(["--definition", definition, *flags(BUGS, model), *image], capsys)
    # The console's definition catches everything into its Fail state: the task's error is in the history.
    assert returned_bytes["status"] == "FAILED"
    with pytest.raises(SystemExit) as exit_info:
        main(["workflow", "check", "--definition", definition, *flags(BUGS, model), "--json", *image])
    assert exit_info.value.code == 1  # the check found errors
    report = json.loads(capsys.readouterr().out)
    labels = {json.dumps(f.get("classic_bug")) for f in report["findings"]}
    assert any("returned_bytes" in label for label in labels), report["findings"]
    # With the serializer fixed (the classic one), the next bug shows: the SageMaker SDK is not packaged.
    fixed = [f"--function=serializeImageData={CLASSIC / 'functions' / 'serializeImageData'}",
             f"--function=classifyImage={BUGS / 'functions' / 'classifyImage'}",
             f"--function=filterInferences={BUGS / 'functions' / 'filterInferences'}",
             "--endpoint", f"{ENDPOINT}={model}"]
    with pytest.raises(SystemExit):
        main(["workflow", "check", "--definition", definition, *fixed, "--json", *image])
    report = json.loads(capsys.readouterr().out)
    assert any("module_not_packaged" in json.dumps(f.get("classic_bug")) for f in report["findings"])
