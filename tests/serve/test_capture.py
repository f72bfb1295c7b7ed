"""Data Capture writer: the golden comparison with a real SageMaker file, rotation, bounds and drain."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scones.capture_format import CaptureRecord, Encoding, Mode, parse_capture_key
from scones.errors import StoreError, UsageError
from scones.serve.capture import CaptureConfig, CaptureWriter, Invocation
from scones.serve.metrics import Metrics
from scones.store import LocalStore

RECORDED = "aws-recorded/data_capture"


def recorded_file(shared_data: Path) -> Path:
    files = sorted((shared_data / RECORDED).rglob("*.jsonl"))
    assert len(files) == 1
    return files[0]


def invocation_from(record: CaptureRecord) -> Invocation:
    assert record.endpoint_input is not None and record.endpoint_output is not None
    return Invocation(when=record.inference_time, request_body=record.endpoint_input.payload(),
                      request_content_type=record.endpoint_input.observed_content_type,
                      response_body=record.endpoint_output.payload(),
                      response_content_type=record.endpoint_output.observed_content_type,
                      inference_id=record.inference_id)


def write_all(tmp_path: Path, invocations: list[Invocation], **config: object) -> tuple[list[Path], Metrics]:
    metrics = Metrics()
    writer = CaptureWriter(CaptureConfig(str(tmp_path), **config), endpoint_name="ep", variant="AllTraffic",
                           metrics=metrics)
    writer.start()
    for inv in invocations:
        assert writer.submit(inv)
    assert writer.close(timeout=30)
    return sorted(tmp_path.rglob("*.jsonl")), metrics


def test_golden_line_and_key_match_the_real_sagemaker_file(shared_data: Path, tmp_path: Path) -> None:
    real_path = recorded_file(shared_data)
    real_text = real_path.read_text()
    real = CaptureRecord.from_json_line(real_text)

    files, _ = write_all(tmp_path, [invocation_from(real)])
    assert len(files) == 1
    ours_text = files[0].read_text()
    ours = CaptureRecord.from_json_line(ours_text)

    # Same structure through the same reader; only the random event id differs.
    assert ours.to_dict() | {"eventMetadata": None} == real.to_dict() | {"eventMetadata": None}
    assert ours.inference_time == real.inference_time and ours.inference_id is None
    # Byte for byte, once the event id is the real one.
    assert ours_text.replace(ours.event_id, real.event_id) == real_text
    assert json.loads(ours_text).keys() == json.loads(real_text).keys()

    # Key layout: <variant>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid4>.jsonl, named by the first event (UTC).
    ours_rel = files[0].relative_to(tmp_path).as_posix()
    real_rel = real_path.relative_to(shared_data / RECORDED).as_posix()
    endpoint, variant, first = parse_capture_key(ours_rel)
    assert (endpoint, variant) == ("ep", "AllTraffic")
    assert ours_rel.split("/", 1)[1].rsplit("/", 1)[0] == real_rel.rsplit("/", 1)[0] == "AllTraffic/2025/10/04/08"
    assert first.replace(microsecond=0) == real.inference_time
    real_name, our_name = real_rel.rsplit("/", 1)[1], ours_rel.rsplit("/", 1)[1]
    assert len(real_name) == len(our_name) and our_name.startswith("44-11-")


def test_encodings_follow_content_types(tmp_path: Path) -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    invs = [Invocation(when, b"1,2,3\n", "text/csv; charset=utf-8", b"[0.5, 0.5]", "application/json"),
            Invocation(when, b'["aGk="]', "application/json", b"[[0.5, 0.5]]", "application/json", "abc")]
    files, _ = write_all(tmp_path, invs)
    records = [CaptureRecord.from_json_line(x) for x in files[0].read_text().splitlines()]
    assert records[0].endpoint_input is not None and records[0].endpoint_input.encoding is Encoding.CSV
    assert records[0].endpoint_input.data == "1,2,3\n"
    assert records[1].endpoint_input is not None and records[1].endpoint_input.encoding is Encoding.JSON
    assert records[1].inference_id == "abc"


@pytest.mark.parametrize(("mode", "sides"), [("Input", (True, False)), ("Output", (False, True))])
def test_capture_mode(tmp_path: Path, mode: str, sides: tuple[bool, bool]) -> None:
    capture_input, capture_output = CaptureConfig.mode_flags(mode)
    inv = Invocation(datetime.now(UTC), b"\x89PNG", "image/png", b"[1.0, 0.0]", "application/json")
    files, _ = write_all(tmp_path, [inv], capture_input=capture_input, capture_output=capture_output)
    record = CaptureRecord.from_json_line(files[0].read_text())
    assert (record.endpoint_input is not None, record.endpoint_output is not None) == sides


def test_rotation_by_hour_and_size(tmp_path: Path) -> None:
    start = datetime(2025, 10, 4, 8, 59, 59, 500_000, tzinfo=UTC)
    invs = [Invocation(start + timedelta(milliseconds=300 * i), b"x" * 100, "image/png", b"[1.0]", "application/json")
            for i in range(4)]
    files, metrics = write_all(tmp_path, invs, rotate_bytes=700)
    rel = [f.relative_to(tmp_path).as_posix() for f in files]
    hours = {r.split("/")[5] for r in rel}
    assert hours == {"08", "09"}
    lines = [CaptureRecord.from_json_line(x) for f in files for x in f.read_text().splitlines()]
    assert len(lines) == 4 and len(files) >= 3  # two records per file at most under 700 bytes
    for f in files:  # every file is named by its own first event
        first = CaptureRecord.from_json_line(f.read_text().splitlines()[0])
        assert parse_capture_key(f.relative_to(tmp_path).as_posix())[2].replace(microsecond=0) \
            == first.inference_time
    assert 'outcome="written"} 4' in metrics.render()


def test_flushes_on_interval_before_close(tmp_path: Path) -> None:
    writer = CaptureWriter(CaptureConfig(str(tmp_path), flush_interval=0.05), endpoint_name="ep",
                           variant="AllTraffic")
    writer.start()
    writer.submit(Invocation(datetime.now(UTC), b"a", "image/png", b"[1.0]", "application/json"))
    deadline = threading.Event()
    for _ in range(200):
        if list(tmp_path.rglob("*.jsonl")):
            break
        deadline.wait(0.05)
    assert len(list(tmp_path.rglob("*.jsonl"))) == 1
    assert writer.close(timeout=10)


class SlowStore(LocalStore):
    """A store that blocks until released, to fill the backlog."""

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.release = threading.Event()
        self.entered = threading.Event()

    def _put_bytes(self, key: str, data: bytes) -> None:
        self.entered.set()
        self.release.wait(30)
        super()._put_bytes(key, data)


def test_backlog_is_bounded_and_drops_are_counted(tmp_path: Path) -> None:
    store = SlowStore(tmp_path)
    metrics = Metrics()
    writer = CaptureWriter(CaptureConfig(str(tmp_path), max_backlog_records=5, flush_interval=0.01),
                           endpoint_name="ep", variant="AllTraffic", store=store, metrics=metrics)
    writer.start()
    when = datetime.now(UTC)
    assert writer.submit(Invocation(when, b"a", "image/png", b"[1.0]", "application/json"))
    assert store.entered.wait(10)  # the writer is now stuck in the store with that first record
    accepted = [writer.submit(Invocation(when, b"a", "image/png", b"[1.0]", "application/json"))
                for _ in range(50)]
    assert writer.backlog == 5 and accepted.count(True) == 5
    assert 'outcome="dropped"} 45' in metrics.render()
    store.release.set()
    assert writer.close(timeout=10)
    written = sum(len(f.read_text().splitlines()) for f in tmp_path.rglob("*.jsonl"))
    assert written == 6


class BrokenStore(LocalStore):
    def _put_bytes(self, key: str, data: bytes) -> None:
        raise StoreError(f"cannot write {key}: disk on fire")


def test_a_failing_store_is_logged_and_counted_never_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    writer = CaptureWriter(CaptureConfig(str(tmp_path)), endpoint_name="ep", variant="AllTraffic",
                           store=BrokenStore(tmp_path), metrics=metrics)
    writer.start()
    for _ in range(3):
        assert writer.submit(Invocation(datetime.now(UTC), b"a", "image/png", b"[1.0]", "application/json"))
    assert writer.close(timeout=10)
    assert 'outcome="failed"} 3' in metrics.render()
    assert sum("disk on fire" in r.getMessage() for r in caplog.records) == 1


def test_sampling_percentage(tmp_path: Path) -> None:
    def sampled(pct: int) -> int:
        writer = CaptureWriter(CaptureConfig(str(tmp_path), sampling_percentage=pct), endpoint_name="ep",
                               variant="AllTraffic", seed=7)
        return sum(writer.should_sample() for _ in range(2000))
    assert sampled(0) == 0 and sampled(100) == 2000
    assert 800 < sampled(50) < 1200


@pytest.mark.parametrize("bad", [-1, 101])
def test_sampling_percentage_is_validated(bad: int) -> None:
    with pytest.raises(UsageError, match="0 to 100"):
        CaptureConfig("x", sampling_percentage=bad)


@pytest.mark.parametrize("dest", ["", "   "])
def test_empty_destination_is_refused(dest: str) -> None:
    """An empty --capture-dest used to capture into the current folder while announcing '/'."""
    with pytest.raises(UsageError, match="destination is empty"):
        CaptureConfig(dest)


@pytest.mark.parametrize("content_type", ["", "notamime", "a/" + "b" * 300])
def test_capture_content_types_are_validated(content_type: str) -> None:
    """An empty type used to make JSON bodies captured as BASE64 without a word."""
    with pytest.raises(UsageError, match="is not a content type to capture as JSON"):
        CaptureConfig("x", json_content_types=(content_type,))


def test_modes_are_validated() -> None:
    with pytest.raises(UsageError, match="InputAndOutput"):
        CaptureConfig.mode_flags("Both")
    assert Mode.INPUT.value == "INPUT"


def test_capture_to_s3_has_the_sagemaker_key_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    with moto.mock_aws():
        boto3.client("s3").create_bucket(Bucket="capture-bucket")
        writer = CaptureWriter(CaptureConfig("s3://capture-bucket/data_capture"), endpoint_name="ep",
                               variant="AllTraffic")
        writer.start()
        when = datetime(2025, 10, 4, 8, 44, 11, 981_000, tzinfo=UTC)
        assert writer.submit(Invocation(when, b"\x89PNG", "image/png", b"[0.5, 0.5]", "application/json", "s3-id"))
        assert writer.close(timeout=30)
        keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="capture-bucket")["Contents"]]
        assert len(keys) == 1 and keys[0].startswith("data_capture/ep/AllTraffic/2025/10/04/08/44-11-981-")
        body = boto3.client("s3").get_object(Bucket="capture-bucket", Key=keys[0])["Body"].read()
    assert CaptureRecord.from_json_line(body).inference_id == "s3-id"
