"""One ``scones up`` for the console's tests: the tiny model, staged PNGs, and executions of every kind.

Module-scoped (starting it loads a model): the tests read what it holds and add only executions
of their own. The threshold is picked from what the endpoint says about the images, so one
execution passes it and one does not.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from scones.config import Settings
from scones.gateway.up import BuiltInOptions, LocalAws, UpOptions, up_in_thread
from scones.testing import tiny_model_tarball

COLOURS = [(250, 10, 10), (10, 250, 10), (10, 10, 250), (128, 128, 128), (240, 240, 20), (20, 200, 220)]
ACCOUNT = "123456789012"
XSS = "<img src=x onerror=alert(1)>"
#: What the execution name rules let through: quotes, parentheses and '=' (no spaces, brackets or '<').
XSS_NAME = "q'onmouseover=alert(1)'x"
XSS_KEY = 'xss/"><script>alert(1)</script>.json'
SLOW_MACHINE = "console-slow"


@dataclass
class Console:
    url: str
    aws: LocalAws
    settings: Settings
    threshold: float
    confident: str  # keys of the images
    unconfident: str
    ok: str  # execution names
    low: str
    batch: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="scones",
                            aws_secret_access_key="scones")

    def machine_arn(self, name: str) -> str:
        return f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{name}"

    def wait(self, name: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = self.aws.executions.describe(name).status.value
            if status != "RUNNING" or time.monotonic() > deadline:
                return status
            time.sleep(0.05)


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


def _start(console: Console, machine: str, name: str, value: Any) -> None:
    console.client("stepfunctions").start_execution(stateMachineArn=console.machine_arn(machine), name=name,
                                                    input=json.dumps(value))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    settings = Settings(home=tmp_path_factory.mktemp("console") / "home", progress=False)
    bucket = settings.store_root / settings.bucket
    (bucket / "model").mkdir(parents=True)
    (bucket / "model" / "model.tar.gz").write_bytes(tiny_model_tarball())
    keys = []
    for i, colour in enumerate(COLOURS):
        key = f"images/img_{i}.png"
        (bucket / key).parent.mkdir(exist_ok=True)
        (bucket / key).write_bytes(png(colour))
        keys.append(key)
    # The threshold comes from the model itself (read here, not through the endpoint: no captures yet).
    top = _top_probabilities(bucket / "model" / "model.tar.gz", [bucket / k for k in keys])
    confident, unconfident = max(top, key=top.__getitem__), min(top, key=top.__getitem__)
    threshold = (top[confident] + top[unconfident]) / 2
    options = UpOptions(port=0, built_ins=BuiltInOptions(threshold=threshold), console_write=True)
    with up_in_thread(settings, options) as (url, aws):
        c = Console(url, aws, settings, threshold, keys[confident], keys[unconfident], "console-ok",
                    "console-low", "console-batch")
        _start(c, "scones-workflow", c.ok, {"s3_bucket": "scones", "s3_key": c.confident})
        _start(c, "scones-workflow", c.low, {"s3_bucket": "scones", "s3_key": c.unconfident})
        _start(c, "scones-workflow-batch", c.batch, {"s3_bucket": "scones", "keys": keys})
        sfn = c.client("stepfunctions")
        sfn.create_state_machine(name=SLOW_MACHINE, roleArn=f"arn:aws:iam::{ACCOUNT}:role/r", definition=json.dumps(
            {"StartAt": XSS, "States": {XSS: {"Type": "Pass", "Next": "Pause"},
                                        "Pause": {"Type": "Wait", "SecondsPath": "$.seconds", "End": True}}}))
        _start(c, SLOW_MACHINE, XSS_NAME, {"seconds": 0, "note": XSS})
        c.client("s3").put_object(Bucket="scones", Key=XSS_KEY, Body=json.dumps({"note": XSS}).encode())
        for name in (c.ok, c.low, c.batch, XSS_NAME):
            assert c.wait(name) != "RUNNING"
        _wait_for_captures(bucket / "data_capture", at_least=2 + len(keys))
        yield c


def _top_probabilities(model: Path, images: list[Path]) -> dict[int, float]:
    from scones.model_artifact import load_model
    from scones.serve.images import decode_payload
    from scones.serve.predictor import Predictor

    predictor = Predictor(load_model(str(model)))
    top = {}
    for i, path in enumerate(images):
        pixels, _ = decode_payload(path.read_bytes(), "image/png", predictor.height, predictor.width)
        top[i] = float(max(predictor.predict(pixels)[0]))
    return top


def _wait_for_captures(folder: Path, at_least: int, timeout: float = 15.0) -> None:
    """Data Capture writes its files about once a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = sum(len(p.read_text().splitlines()) for p in folder.rglob("*.jsonl"))
        if lines >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} capture records in {folder} after {timeout} s")
