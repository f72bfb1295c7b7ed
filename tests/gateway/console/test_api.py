"""The console's JSON API against a real ``scones up``: what the pages read, and every refusal as a status code."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scones.gateway.routing import Service

from .conftest import SLOW_MACHINE, XSS, XSS_KEY, XSS_NAME, Console

pytestmark = pytest.mark.xdist_group("console")


@pytest.fixture
def http(console: Console) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{console.url}/_console", timeout=30) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_the_executions_list_has_both_single_image_runs(console: Console, http: httpx.Client) -> None:
    page = ok(http.get("/api/executions", params={"stateMachine": "scones-workflow"}))
    status = {e["name"]: e["status"] for e in page["items"]}
    assert status == {console.ok: "SUCCEEDED", console.low: "FAILED"}
    failed = ok(http.get("/api/executions", params={"status": "FAILED"}))["items"]
    assert [e["name"] for e in failed] == [console.low]
    named = ok(http.get("/api/executions", params={"name": "LOW"}))["items"]  # any case
    assert [e["name"] for e in named] == [console.low]


def test_pages_of_executions_follow_their_token(console: Console, http: httpx.Client) -> None:
    first = ok(http.get("/api/executions", params={"limit": 2}))
    second = ok(http.get("/api/executions", params={"limit": 2, "token": first["nextToken"]}))
    assert len(first["items"]) == 2 and second["items"]
    assert not {e["name"] for e in first["items"]} & {e["name"] for e in second["items"]}
    searched = ok(http.get("/api/executions", params={"limit": 1, "name": "console-"}))
    more = ok(http.get("/api/executions", params={"limit": 1, "name": "console-", "token": searched["nextToken"]}))
    assert searched["items"][0]["name"] != more["items"][0]["name"]


def test_the_failed_execution_in_detail(console: Console, http: httpx.Client) -> None:
    detail = ok(http.get(f"/api/executions/{console.low}"))
    assert detail["execution"]["error"] == "ThresholdConfidenceNotMet"
    assert detail["states"]["FilterInferences"]["outcome"] == "caught"
    assert detail["states"]["LowConfidence"]["outcome"] == "failed"
    assert detail["states"]["SerializeImageData"]["outcome"] == "succeeded"
    assert detail["image"] == {"kind": "s3", "bucket": "scones", "key": console.unconfident}
    assert {n["state"] for n in detail["graph"]["nodes"] if n["state"]} == \
        {"SerializeImageData", "ClassifyImage", "FilterInferences", "LowConfidence"}


def test_a_map_execution_has_its_iterations(console: Console, http: httpx.Client) -> None:
    detail = ok(http.get(f"/api/executions/{console.batch}"))
    (map_run,) = [r for r in detail["runs"] if r["iterations"]]
    assert [i["index"] for i in map_run["iterations"]] == list(range(6))
    ended = {i["image"]["key"]: i["lastState"] for i in map_run["iterations"]}
    assert ended[console.confident] == "Accepted" and ended[console.unconfident] == "LowConfidence"


def test_functions_report_their_invocations(http: httpx.Client) -> None:
    listed = {f["name"]: f for f in ok(http.get("/api/functions"))["functions"]}
    assert listed["filterInferences"]["invocations"] >= 8 and listed["filterInferences"]["errors"] >= 1
    assert listed["classifyImage"]["p50Ms"] is not None
    detail = ok(http.get("/api/functions/filterInferences"))
    assert any(r["errorType"] == "ThresholdConfidenceNotMet" for r in detail["recent"])


def test_the_endpoint_shows_predictions_against_the_threshold(console: Console, http: httpx.Client) -> None:
    detail = ok(http.get("/api/endpoints/scones-endpoint"))
    assert detail["classes"] == ["bicycle", "motorcycle"]
    assert detail["threshold"] == pytest.approx(console.threshold)
    assert detail["thresholdSource"] == "filterInferences THRESHOLD"
    assert sum(p["count"] for p in detail["perMinute"]) >= 8
    records = ok(http.get("/api/endpoints/scones-endpoint/captures", params={"limit": 100}))["records"]
    assert len(records) >= 8
    assert {r["prediction"]["passed"] for r in records} == {True, False}
    assert all(r["image"]["type"] == "image/png" and r["prediction"]["name"] in ("bicycle", "motorcycle")
               for r in records)
    newest_first = [r["inferenceTime"] for r in records]
    assert newest_first == sorted(newest_first, reverse=True)
    page = ok(http.get("/api/endpoints/scones-endpoint/captures", params={"limit": 3}))
    rest = ok(http.get("/api/endpoints/scones-endpoint/captures", params={"cursor": page["next"], "limit": 100}))
    assert [r["eventId"] for r in page["records"] + rest["records"]] == [r["eventId"] for r in records]


def test_buckets_list_preview_and_download(console: Console, http: httpx.Client) -> None:
    assert {"name": "scones"} in ok(http.get("/api/buckets"))["buckets"]
    top = ok(http.get("/api/buckets/scones/objects"))
    assert "images/" in top["prefixes"] and "xss/" in top["prefixes"]
    images = ok(http.get("/api/buckets/scones/objects", params={"prefix": "images/"}))
    assert [o["key"] for o in images["objects"]][:2] == ["images/img_0.png", "images/img_1.png"]
    assert ok(http.get("/api/buckets/scones/preview", params={"key": "images/img_0.png"}))["kind"] == "image"
    preview = ok(http.get("/api/buckets/scones/preview", params={"key": XSS_KEY}))
    assert preview["kind"] == "json" and XSS in preview["text"]
    picture = http.get("/api/buckets/scones/object", params={"key": "images/img_0.png"})
    assert picture.headers["content-type"] == "image/png" and picture.content.startswith(b"\x89PNG")
    assert "sandbox" in picture.headers["content-security-policy"]
    download = http.get("/api/buckets/scones/object", params={"key": XSS_KEY, "download": "1"})
    assert download.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert download.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/api/executions/nope", {}, 404),
    (f"/api/executions/{'x' * 81}", {}, 404),
    ("/api/executions", {"status": "SLEEPING"}, 400),
    ("/api/executions", {"token": "not-a-token"}, 400),
    ("/api/executions", {"limit": "many"}, 400),
    ("/api/executions", {"stateMachine": "nope"}, 404),
    ("/api/state-machines/nope", {}, 404),
    ("/api/functions/nope", {}, 404),
    ("/api/endpoints/nope", {}, 404),
    ("/api/endpoints/scones-endpoint/captures", {"cursor": "bm9wZQ=="}, 400),
    ("/api/buckets/nope/objects", {}, 404),
    ("/api/buckets/../objects", {}, 404),
    ("/api/buckets/scones/object", {"key": "../../etc/passwd"}, 400),
    ("/api/buckets/scones/object", {"key": "/etc/passwd"}, 400),
    ("/api/buckets/scones/object", {"key": "a\\..\\b"}, 400),
    ("/api/buckets/scones/object", {}, 400),
    ("/api/buckets/scones/object", {"key": "images/"}, 400),
    ("/api/buckets/scones/object", {"key": "images/none.png"}, 404),
    ("/api/buckets/scones/object", {"key": "a" * 300}, 404),  # longer than a file name can be
    ("/api/buckets/scones/preview", {"key": "a" * 300}, 404),
    ("/api/buckets/scones/objects", {"prefix": "../"}, 400),
    ("/api/nothing", {}, 404),
    ("/static/../service.py", {}, 404),
    ("/static/vendor/missing.js", {}, 404),
], ids=lambda v: str(v)[:40])
def test_refusals_are_json_with_a_status_never_a_traceback(http: httpx.Client, path: str, params: dict[str, str],
                                                            status: int) -> None:
    response = http.get(path, params=params)
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    if path.startswith("/api/"):
        assert set(response.json()) == {"error", "message"}


def test_a_prefix_no_folder_can_have_lists_nothing(http: httpx.Client) -> None:
    listing = ok(http.get("/api/buckets/scones/objects", params={"prefix": "a" * 300 + "/"}))
    assert listing["prefixes"] == [] and listing["objects"] == []


def test_a_symbolic_link_out_of_the_store_is_not_followed(console: Console, http: httpx.Client) -> None:
    link = console.settings.store_root / "scones" / "escape"
    link.symlink_to("/etc")
    try:
        assert http.get("/api/buckets/scones/object", params={"key": "escape/hostname"}).status_code == 400
        assert http.get("/api/buckets/scones/objects", params={"prefix": "escape/"}).status_code == 400
    finally:
        link.unlink()


def test_changes_need_the_console_header_json_and_its_own_origin(console: Console, http: httpx.Client) -> None:
    url = "/api/state-machines/scones-workflow/executions"
    body = {"input": "{}"}
    assert http.post(url, json=body).status_code == 403  # no X-Scones-Console: a cross-site form cannot add it
    headers = {"X-Scones-Console": "1", "Origin": "http://evil.example"}
    assert http.post(url, json=body, headers=headers).status_code == 403
    assert http.post(url, content=b"{}", headers={"X-Scones-Console": "1", "Content-Type": "text/plain"}) \
        .status_code == 400
    bad = http.post(url, json={"input": "{nope"}, headers={"X-Scones-Console": "1"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["message"]
    assert http.post(url, json={"input": "{}", "name": "a b"}, headers={"X-Scones-Console": "1"}).status_code == 400
    taken = http.post(url, json={"input": "{}", "name": console.ok}, headers={"X-Scones-Console": "1"})
    assert taken.status_code == 409
    assert http.get(url).status_code == 405
    assert http.post("/api/executions/console-ok/stop", json={}, headers={"X-Scones-Console": "1"}) \
        .status_code == 409  # not running


def test_a_read_only_console_refuses_changes(console: Console, http: httpx.Client) -> None:
    service = console.aws.gateway.handlers[Service.CONSOLE]
    writable = service.ctx
    service.ctx = dataclasses.replace(writable, write=False)
    try:
        assert ok(http.get("/api/config"))["write"] is False
        refused = http.post("/api/state-machines/scones-workflow/executions", json={"input": "{}"},
                            headers={"X-Scones-Console": "1"})
        assert refused.status_code == 403 and "--console-write" in refused.json()["message"]
    finally:
        service.ctx = writable


def test_the_page_is_served_with_a_strict_content_security_policy(console: Console) -> None:
    page = httpx.get(f"{console.url}/_console/")
    assert page.status_code == 200 and "<main" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert httpx.get(f"{console.url}/_console").status_code == 308
    # Another host name (DNS rebinding) is refused.
    port = console.url.rsplit(":", 1)[1]
    refused = httpx.get(f"http://127.0.0.1:{port}/_console/api/config", headers={"Host": f"evil.example:{port}"})
    assert refused.status_code == 403


def test_user_data_comes_back_as_data(console: Console, http: httpx.Client) -> None:
    detail = ok(http.get(f"/api/executions/{XSS_NAME}"))
    assert detail["execution"]["name"] == XSS_NAME
    assert XSS in detail["states"]
    assert XSS in detail["execution"]["input"]


def test_a_running_execution_can_be_stopped_from_the_console(console: Console, http: httpx.Client) -> None:
    started = http.post(f"/api/state-machines/{SLOW_MACHINE}/executions", headers={"X-Scones-Console": "1"},
                        json={"name": "to-be-stopped", "input": '{"seconds": 30}'})
    assert ok(started)["name"] == "to-be-stopped"
    assert ok(http.get("/api/executions/to-be-stopped"))["states"]["Pause"]["outcome"] == "running"
    stopped = ok(http.post("/api/executions/to-be-stopped/stop", json={}, headers={"X-Scones-Console": "1"}))
    assert stopped["status"] == "ABORTED"
    detail = ok(http.get("/api/executions/to-be-stopped"))
    assert detail["execution"]["status"] == "ABORTED" and detail["states"]["Pause"]["outcome"] == "aborted"


def test_the_monitoring_report_is_linked_and_served_without_script(console: Console, http: httpx.Client) -> None:
    report = console.settings.store_root / "scones" / "monitor" / "report" / "report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("<html><body><h1>Drift</h1><script>alert(1)</script></body></html>")
    try:
        link = ok(http.get("/api/endpoints/scones-endpoint"))["report"]
        assert link == {"bucket": "scones", "key": "monitor/report/report.html"}
        page = http.get("/api/buckets/scones/object", params={"key": link["key"]})
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"].startswith("sandbox")  # shown, its scripts never run
    finally:
        report.unlink()
