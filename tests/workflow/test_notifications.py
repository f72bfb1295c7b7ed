from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from scones.store import LocalStore
from scones.workflow.notifications import (
    FailureNotification,
    FanOutNotifier,
    SnsNotifier,
    StoreLogNotifier,
    WebhookNotifier,
    read_failures,
)


def notification(name: str = "exec-1") -> FailureNotification:
    return FailureNotification.create(execution_name=name,
                                      execution_arn=f"arn:aws:states:us-east-1:0:execution:sm:{name}",
                                      status="FAILED", error="ThresholdConfidenceNotMet",
                                      cause="THRESHOLD_CONFIDENCE_NOT_MET",
                                      execution_input={"s3_bucket": "scones", "s3_key": "dataset/test/a.png"})


def test_store_log_appends_whole_lines(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "scones")
    notifier = StoreLogNotifier(store)
    threads = [threading.Thread(target=notifier.notify, args=(notification(f"e{i}"),)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = read_failures(store)
    assert sorted(f.execution_name for f in failures) == sorted(f"e{i}" for i in range(20))
    assert failures[0].s3_key == "dataset/test/a.png" and failures[0].error == "ThresholdConfidenceNotMet"


class _Hook(BaseHTTPRequestHandler):
    received: list[Any] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_and_broken_webhook(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Hook(_Hook):
        received: list[Any] = []

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        store = LocalStore(tmp_path / "scones")
        fan = FanOutNotifier([WebhookNotifier("http://127.0.0.1:1/nothing-listens", timeout_seconds=1),
                              WebhookNotifier(url), StoreLogNotifier(store)])
        fan.notify(notification())
    finally:
        server.shutdown()
    assert Hook.received == [notification().to_json() | {"time": Hook.received[0]["time"]}]
    assert len(read_failures(store)) == 1  # delivered despite the broken webhook before it
    assert "could not deliver the failure notification of exec-1 through WebhookNotifier" in caplog.text


def test_sns_publish_shape() -> None:
    import boto3
    from botocore.stub import ANY, Stubber

    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    n = notification()
    with Stubber(client) as stub:
        stub.add_response("publish", {"MessageId": "1"},
                          {"TopicArn": "arn:aws:sns:us-east-1:0:scones", "Subject": n.subject, "Message": ANY})
        SnsNotifier("arn:aws:sns:us-east-1:0:scones", client).notify(n)
        stub.assert_no_pending_responses()
    assert n.subject == "scones: exec-1 failed: ThresholdConfidenceNotMet"
