"""The monitor over S3 (moto in-process, no network): the same reader, the same report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from monitor_helpers import CLASSES, bad_capture, capture_from_images, make_pngs

from scones.monitor.download import download_capture
from scones.monitor.report import ReportOptions, build_report
from scones.testing import make_tiny_model

moto = pytest.importorskip("moto")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    import boto3

    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="scones")
        yield client


def _upload(client: Any, folder: Path, prefix: str) -> list[str]:
    keys = []
    for path in sorted(folder.rglob("*.jsonl")):
        key = f"{prefix}/{path.relative_to(folder).as_posix()}"
        client.put_object(Bucket="scones", Key=key, Body=path.read_bytes())
        keys.append(key)
    return keys


def test_report_and_download_from_s3(tmp_path: Path, s3: Any) -> None:
    capture_from_images(tmp_path / "cap", make_pngs(40, seed=3), make_tiny_model(CLASSES), hours=1.0,
                        rotate_seconds=900)
    bad_capture(tmp_path / "cap")
    keys = _upload(s3, tmp_path / "cap", "run1/data_capture")
    result = build_report("s3://scones/run1/data_capture", str(tmp_path / "out"), None,
                          ReportOptions(show_progress=False), s3_client=s3)
    assert result.records == 40 + 9 and result.input_problems > 0
    one_file = build_report(f"s3://scones/{keys[0]}", str(tmp_path / "out1"), None,
                            ReportOptions(show_progress=False), s3_client=s3)
    assert 0 < one_file.records < 40
    got = download_capture("s3://scones/run1/data_capture/scones-endpoint", tmp_path / "dl", show_progress=False,
                           s3_client=s3)
    assert got.copied == len([k for k in keys if "/scones-endpoint/" in k]) and got.skipped == 0
    again = download_capture("s3://scones/run1/data_capture/scones-endpoint", tmp_path / "dl", show_progress=False,
                             s3_client=s3)
    assert again.copied == 0 and again.skipped == got.copied
    assert sorted(p.name for p in (tmp_path / "dl").rglob("*.jsonl")) == sorted(
        p.name for p in (tmp_path / "cap" / "scones-endpoint").rglob("*.jsonl"))


def test_report_can_be_written_to_s3(tmp_path: Path, s3: Any) -> None:
    capture_from_images(tmp_path / "cap", make_pngs(10, seed=4), make_tiny_model(CLASSES))
    result = build_report(str(tmp_path / "cap"), "s3://scones/reports/today", None,
                          ReportOptions(show_progress=False, workers=1), s3_client=s3)
    assert result.location == "s3://scones/reports/today"
    listed = s3.list_objects_v2(Bucket="scones", Prefix="reports/today/")["Contents"]
    names = sorted(o["Key"].removeprefix("reports/today/") for o in listed)
    assert "report.html" in names and "constraint_violations.json" in names and "charts/class_mix.png" in names
