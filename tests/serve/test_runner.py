"""``running_endpoint``: the child process the workflow and demo use, and its graceful stop."""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from scones.capture_format import CaptureRecord
from scones.serve import EndpointStartError, running_endpoint


def _captured(dest: Path) -> list[CaptureRecord]:
    return [CaptureRecord.from_json_line(line) for f in sorted(dest.rglob("*.jsonl"))
            for line in f.read_text().splitlines()]


@pytest.mark.parametrize("in_subprocess", [True, False])
def test_running_endpoint_serves_and_flushes_capture_on_exit(tiny_model: Path, tmp_path: Path, png: bytes,
                                                             runtime_client: Any, in_subprocess: bool) -> None:
    dest = tmp_path / "capture"
    with running_endpoint(str(tiny_model), endpoint_name="wf-endpoint", capture_dest=str(dest),
                          subprocess=in_subprocess) as ep:
        assert ep.url.startswith("http://127.0.0.1:") and ep.endpoint_name == "wf-endpoint"
        assert ep.capture_dest == str(dest)
        client = runtime_client(ep.url)
        for i in range(3):
            client.invoke_endpoint(EndpointName="wf-endpoint", ContentType="image/png", Body=png,
                                   InferenceId=f"n{i}")
    assert sorted(r.inference_id or "" for r in _captured(dest)) == ["n0", "n1", "n2"]


def test_a_bad_model_fails_with_the_servers_own_error(tmp_path: Path) -> None:
    """One message, the server's: not the child's whole log with an 'Error:' line inside another."""
    with pytest.raises(EndpointStartError) as info:
        with running_endpoint(str(tmp_path / "missing" / "model.tar.gz")):
            pass  # pragma: no cover - never reached
    assert info.value.message.startswith("The endpoint could not start: No object ")
    assert "missing/model.tar.gz" in info.value.message and "\n" not in info.value.message
    with pytest.raises(EndpointStartError) as info:
        with running_endpoint(str(tmp_path / "nowhere")):
            pass  # pragma: no cover - never reached
    assert info.value.message == f"The endpoint could not start: No model at {tmp_path / 'nowhere'}"
    assert info.value.hint and "scones train" in info.value.hint  # the server's hint, passed on


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigterm_under_load_loses_no_answered_capture(tiny_model: Path, tmp_path: Path, png: bytes) -> None:
    """Concurrent clients, SIGTERM mid-load: each 2xx has exactly one capture record, matched by inference id."""
    dest = tmp_path / "capture"
    answered: list[str] = []
    attempted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int, port: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.monotonic() + 60
        i = 0
        while not stop.is_set() and time.monotonic() < deadline:
            inference_id = f"c{n}-{i}"
            i += 1
            with lock:
                attempted.append(inference_id)
            try:
                conn.request("POST", "/endpoints/rel-ep/invocations", body=png,
                             headers={"Content-Type": "image/png", "X-Amzn-SageMaker-Inference-Id": inference_id})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                try:  # the server may be gone: a fresh connection tells
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.connect()
                    continue
                except OSError:
                    return
            if 200 <= resp.status < 300:
                with lock:
                    answered.append(inference_id)

    with running_endpoint(str(tiny_model), endpoint_name="rel-ep", capture_dest=str(dest)) as ep:
        port = int(ep.url.rsplit(":", 1)[1])
        threads = [threading.Thread(target=client, args=(n, port)) for n in range(8)]
        for t in threads:
            t.start()
        while True:  # under load: wait until some requests have been answered
            with lock:
                if len(answered) >= 200:
                    break
            time.sleep(0.01)
        assert ep.pid is not None
        os.kill(ep.pid, signal.SIGTERM)
        for t in threads:
            t.join(60)
        stop.set()
    records = _captured(dest)
    ids = [r.inference_id for r in records]
    assert len(ids) == len(set(ids)), "a record was written twice"
    assert set(answered) <= set(ids), f"{len(set(answered) - set(ids))} answered requests have no capture record"
    assert set(ids) <= set(attempted)
    assert len(answered) >= 200


@pytest.mark.slow
def test_worker_processes_share_the_port_and_all_capture(tiny_model: Path, tmp_path: Path, png: bytes) -> None:
    dest = tmp_path / "capture"
    with running_endpoint(str(tiny_model), capture_dest=str(dest), workers=2) as ep:
        port = int(ep.url.rsplit(":", 1)[1])
        for i in range(20):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # new connections spread over workers
            conn.request("POST", "/invocations", body=png,
                         headers={"Content-Type": "image/png", "X-Amzn-SageMaker-Inference-Id": f"w{i}"})
            resp = conn.getresponse()
            assert resp.status == 200, resp.read()
            resp.read()
            conn.close()
    assert sorted(r.inference_id or "" for r in _captured(dest)) == sorted(f"w{i}" for i in range(20))


def test_runtime_client_and_the_endpoint_url_environment_variable(tiny_model: Path, png: bytes,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    with running_endpoint(str(tiny_model), subprocess=False) as ep:
        first = ep.runtime_client().invoke_endpoint(EndpointName=ep.endpoint_name, ContentType="image/png",
                                                    Body=png)["Body"].read()
        # Unchanged user code: only the environment points boto3 at the local endpoint.
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ep.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
        second = boto3.client("sagemaker-runtime").invoke_endpoint(
            EndpointName="scones-endpoint", ContentType="image/png", Body=png)["Body"].read()
    assert first == second and len(json.loads(second)) == 2


def test_a_clean_stop_is_not_reported_as_a_failure(tiny_model: Path, tmp_path: Path, png: bytes,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """The CLI turns SIGTERM into exit status 143 (so cleanup runs); the runner must still call that a clean stop."""
    with running_endpoint(str(tiny_model), capture_dest=str(tmp_path / "capture")) as ep:
        ep.runtime_client().invoke_endpoint(EndpointName=ep.endpoint_name, ContentType="image/png", Body=png)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]


def test_errors_logged_by_a_cleanly_stopped_endpoint_are_passed_on(tiny_model: Path, tmp_path: Path, png: bytes,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    import shutil

    dest = tmp_path / "capture"
    with running_endpoint(str(tiny_model), capture_dest=str(dest)) as ep:
        variant = dest / ep.endpoint_name / ep.variant  # writable at start-up (probed), then broken
        shutil.rmtree(variant)
        variant.write_text("a file where the capture folder should go")
        ep.runtime_client().invoke_endpoint(EndpointName=ep.endpoint_name, ContentType="image/png", Body=png)
    assert any("data capture could not write" in r.getMessage() for r in caplog.records)


def test_a_capture_destination_that_cannot_be_written_stops_the_start(tiny_model: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the capture folder should go")
    with pytest.raises(EndpointStartError, match="Data Capture cannot write to .*not-a-folder/capture"):
        with running_endpoint(str(tiny_model), capture_dest=str(blocker / "capture")):
            pass  # pragma: no cover - never reached


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.timeout(60)
def test_the_endpoint_ends_when_its_parent_is_killed(tiny_model: Path) -> None:
    """A parent killed with SIGKILL (or by the OOM killer) must not leave the endpoint listening."""
    import subprocess

    script = ("import sys, time\nfrom scones.serve import running_endpoint\n"
              f"with running_endpoint({str(tiny_model)!r}) as ep:\n"
              "    print(ep.pid, flush=True)\n    time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        try:
            os.waitpid(child, os.WNOHANG)  # not ours to reap; just give it time
        except ChildProcessError:
            pass
        time.sleep(0.1)
    gone = not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z"
    if not gone:
        os.kill(child, signal.SIGKILL)
    assert gone, "the endpoint outlived its killed parent"
