"""examples/human-review end to end: scones up serves the definition, boto3 starts it as any program would, an
unsure image waits for a person, who finds the token in the published message and answers with
``scones workflow approve`` from the command line; a sure image never asks."""

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

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "human-review"
DEFINITION = EXAMPLE / "statemachine" / "human-review.asl.json"
#: The tiny test model is sure of blue (0.999) and unsure of grey (0.56); the filter keeps >= 0.93.
SURE, UNSURE = (10, 10, 250), (128, 128, 128)

pytestmark = pytest.mark.timeout(300)


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def settings(scones_home: Path) -> Settings:
    """The store as the README sets it up: the model where scones up serves it from, two images."""
    settings = Settings.from_env()
    bucket = settings.store_root / settings.bucket
    (bucket / "model").mkdir(parents=True)
    (bucket / "model" / "model.tar.gz").write_bytes(tiny_model_tarball())
    (bucket / "review").mkdir()
    (bucket / "review" / "grey.png").write_bytes(png(UNSURE))
    (bucket / "review" / "blue.png").write_bytes(png(SURE))
    return settings


def finished(sfn: Any, arn: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.05)
    return dict(described)


def published(settings: Settings, timeout: float = 60) -> list[dict[str, Any]]:
    """The messages in notifications/sns/scones-review/, as the reviewer reads them."""
    from scones.executions.topics import read_messages
    from scones.store import LocalStore

    store = LocalStore.in_bucket(settings.store_root, settings.bucket)
    deadline = time.monotonic() + timeout
    while not (messages := read_messages(store, "scones-review")):
        assert time.monotonic() < deadline, "nothing was published for review"
        time.sleep(0.05)
    return messages


def test_an_unsure_image_waits_for_a_person_who_labels_it_from_the_command_line(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from scones.gateway.up import UpOptions, exports, up_in_thread
    from scones.workspace import DeclarationOptions, declare

    declared = declare(settings, DeclarationOptions(state_machines=[f"human-review={DEFINITION}"]))
    with up_in_thread(settings, UpOptions(port=0, declarations=declared)) as (url, _):
        for key, value in exports(url, None).items():  # what 'scones up' prints for the other shells
            monkeypatch.setenv(key, value)
        sfn = boto3.client("stepfunctions")
        machine = next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                       if m["name"] == "human-review")
        sure = sfn.start_execution(stateMachineArn=machine,
                                   input=json.dumps({"s3_bucket": settings.bucket, "s3_key": "review/blue.png"}))
        kept = finished(sfn, sure["executionArn"])
        assert kept["status"] == "SUCCEEDED" and "label" not in json.loads(kept["output"])["body"]

        unsure = sfn.start_execution(stateMachineArn=machine,
                                     input=json.dumps({"s3_bucket": settings.bucket, "s3_key": "review/grey.png"}))
        (message,) = published(settings)
        assert message["Subject"] == "Scones: an image needs a label"
        request = json.loads(message["Message"])
        assert (request["s3_key"], request["execution"]) == ("review/grey.png", unsure["executionArn"])
        assert max(request["inferences"]) < 0.93
        assert sfn.describe_execution(executionArn=unsure["executionArn"])["status"] == "RUNNING"

        with pytest.raises(SystemExit) as exit_info:  # the person, in another shell
            main(["workflow", "approve", request["TaskToken"], "--label", "motorcycle"])
        assert exit_info.value.code == 0, capsys.readouterr().err
        labelled = finished(sfn, unsure["executionArn"])
        history = sfn.get_execution_history(executionArn=unsure["executionArn"])["events"]
    assert labelled["status"] == "SUCCEEDED"
    body = json.loads(labelled["output"])["body"]
    assert (body["s3_key"], body["label"], body["labelled_by"]) == ("review/grey.png", "motorcycle", "person")
    types = [e["type"] for e in history]
    assert "TaskSubmitted" in types and types[-1] == "ExecutionSucceeded"
