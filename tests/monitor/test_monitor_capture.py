from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from monitor_helpers import START, bad_capture, make_pngs

from scones.capture_format import CaptureRecord, CaptureSide, Encoding, Mode
from scones.errors import NotFoundError, StoreError
from scones.monitor.capture import Issue, locate_capture
from scones.monitor.scan import CaptureColumns, ScanOptions, scan_capture
from scones.monitor.simulate import make_record, write_capture
from scones.store import LocalStore

AWS_FILE = "aws-recorded/data_capture/AllTraffic/2025/10/04/08/44-11-981-04c92c7e-3666-48c8-963c-cb83a5bcf154.jsonl"


def _scan(uri: str | Path, k: int = 2) -> CaptureColumns:
    store, files = locate_capture(str(uri))
    return scan_capture(store, files, ScanOptions(k), workers=1, show_progress=False)


def test_reads_the_real_aws_capture_file(shared_data: Path) -> None:
    path = shared_data / AWS_FILE
    raw = json.loads(path.read_text())
    for uri in (path, path.parent, shared_data / "aws-recorded" / "data_capture"):
        cols = _scan(uri)
        assert cols.count == 1 and cols.issues.total == 0
        assert cols.probs[0].tolist() == pytest.approx(json.loads(raw["captureData"]["endpointOutput"]["data"]))
        assert cols.images[0, :2].tolist() == [32, 32]
        assert cols.content_types == {"image/png": 1}
        assert cols.time[0] == START.replace(minute=44, second=11).timestamp()
    store, files = locate_capture(str(path.parent))
    assert files[0].first_event is not None and files[0].first_event.minute == 44


def test_finds_files_at_every_level_of_the_layout(tmp_path: Path) -> None:
    images = make_pngs(30, 0)
    records = [make_record(img, [0.7, 0.3], START.replace(hour=8 + i // 10, minute=i)) for i, img in enumerate(images)]
    written = write_capture(tmp_path / "data_capture", records, endpoint="ep", variant="AllTraffic")
    assert len(written) == 3  # one per hour
    root = tmp_path / "data_capture"
    hour = written[1].parent
    expected = {root: 30, root / "ep": 30, root / "ep" / "AllTraffic": 30, hour: 10, written[2]: 10,
                f"file://{root}": 30}
    for uri, count in expected.items():
        assert _scan(uri).count == count, uri
    _, files = locate_capture(str(root))
    assert [f.first_event for f in files] == sorted(f.first_event for f in files)  # type: ignore[type-var]


def test_missing_capture_is_a_clear_error_and_an_empty_folder_is_empty(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No capture"):
        locate_capture(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    cols = _scan(tmp_path / "empty")
    assert cols.count == 0 and cols.files == 0


def test_every_bad_input_is_counted_never_raised(tmp_path: Path) -> None:
    expected = bad_capture(tmp_path)
    cols = _scan(tmp_path)
    assert {issue: cols.issues.counts[issue] for issue in Issue if cols.issues.counts[issue]} == expected
    # the good record and every record that parsed are kept; the unusable parts are NaN
    assert cols.count == 9
    assert int(cols.has_output.sum()) == 4
    examples = cols.issues.examples[Issue.NOT_JSON]
    assert examples[0].startswith("00-00-000-00000000-0000-0000-0000-000000000000.jsonl:2: not JSON")


def test_scanning_in_parallel_gives_the_same_columns(tmp_path: Path) -> None:
    images = make_pngs(40, 5)
    records = [make_record(img, [0.6, 0.4], START.replace(minute=i)) for i, img in enumerate(images)]
    write_capture(tmp_path, records, rotate_seconds=600)
    store, files = locate_capture(str(tmp_path))
    one = scan_capture(store, files, ScanOptions(2, max_thumbnails=3), workers=1, show_progress=False)
    two = scan_capture(store, files, ScanOptions(2, max_thumbnails=3), workers=2, show_progress=False)
    assert len(files) == 4
    assert (one.time == two.time).all() and (one.images == two.images).all()
    assert [t.where for t in one.thumbnails] == [t.where for t in two.thumbnails]


def test_time_window_filters_records(tmp_path: Path) -> None:
    images = make_pngs(20, 6)
    records = [make_record(img, [0.6, 0.4], START.replace(minute=i)) for i, img in enumerate(images)]
    write_capture(tmp_path, records)
    store, files = locate_capture(str(tmp_path))
    cols = scan_capture(store, files, ScanOptions(2, since=START.replace(minute=5), until=START.replace(minute=15)),
                        workers=1, show_progress=False)
    assert cols.count == 10 and cols.out_of_window == 10


def test_csv_and_batch_style_outputs_are_understood(tmp_path: Path) -> None:
    png = make_pngs(1, 9)[0]
    rec_csv = CaptureRecord("a", START, CaptureSide.from_payload(png, "image/png", Mode.INPUT),
                            CaptureSide.from_payload(b"0.25,0.75", "text/csv", Mode.OUTPUT))
    rec_obj = CaptureRecord("b", START, CaptureSide.from_payload(png, "image/png", Mode.INPUT),
                            CaptureSide.from_payload(b'{"prediction": [0.1, 0.9]}', "application/jsonlines",
                                                     Mode.OUTPUT))
    assert rec_obj.endpoint_output is not None and rec_obj.endpoint_output.encoding is Encoding.BASE64
    (tmp_path / "c.jsonl").write_text(rec_csv.to_json_line() + rec_obj.to_json_line())
    cols = _scan(tmp_path / "c.jsonl")
    assert cols.probs.tolist() == [[0.25, 0.75], [pytest.approx(0.1), pytest.approx(0.9)]]
    assert base64.b64decode(rec_obj.endpoint_output.data)  # the payload really was base64


def test_a_json_batch_request_to_scones_serve_is_one_row_per_image(tmp_path: Path) -> None:
    """scones serve's application/json batches (base64 images in, one probability list each out) are
    read image by image, not counted as bad input."""
    pngs = make_pngs(3, 4)
    body = json.dumps([base64.b64encode(p).decode() for p in pngs]).encode()
    answer = b"[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]"
    batch = CaptureRecord("b", START, CaptureSide.from_payload(body, "application/json", Mode.INPUT),
                          CaptureSide.from_payload(answer, "application/json", Mode.OUTPUT))
    single = make_record(pngs[0], [0.7, 0.3], START)
    broken_answer = CaptureRecord("c", START, CaptureSide.from_payload(body, "application/json", Mode.INPUT),
                                  CaptureSide.from_payload(b"[[0.9, 0.1]]", "application/json", Mode.OUTPUT))
    (tmp_path / "c.jsonl").write_text(batch.to_json_line() + single.to_json_line() + broken_answer.to_json_line())
    cols = _scan(tmp_path / "c.jsonl")
    assert cols.count == 7
    assert cols.probs[:4].tolist() == [[pytest.approx(0.9), pytest.approx(0.1)], [pytest.approx(0.2),
                                       pytest.approx(0.8)], [pytest.approx(0.6), pytest.approx(0.4)],
                                       [pytest.approx(0.7), pytest.approx(0.3)]]
    assert not np.isnan(cols.images).any()  # every image of every batch was decoded and measured
    assert cols.content_types == {"image/png": 7}
    assert cols.issues.counts == {Issue.BAD_OUTPUT: 3}  # the answer with one list for three images


def test_output_nested_past_the_parser_limit_is_counted_not_raised(tmp_path: Path) -> None:
    png = make_pngs(1, 5)[0]
    deep = CaptureRecord("d", START, CaptureSide.from_payload(png, "image/png", Mode.INPUT),
                         CaptureSide.from_payload(b"[" * 100_000, "application/json", Mode.OUTPUT))
    (tmp_path / "c.jsonl").write_text(deep.to_json_line())
    cols = _scan(tmp_path / "c.jsonl")
    assert cols.count == 1 and cols.issues.counts == {Issue.BAD_OUTPUT: 1}


def test_large_images_are_measured_in_bounded_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import numpy as np
    from PIL import Image

    monkeypatch.setattr("scones.monitor.scan.IMAGE_BATCH_BYTES", 400 * 300 * 3 * 2)  # two big images
    rng = np.random.default_rng(0)
    images = []
    for _ in range(5):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(buf, format="JPEG")
        images.append(buf.getvalue())
    images.append(make_pngs(1, 1)[0])
    write_capture(tmp_path, [make_record(img, [0.5, 0.5], START.replace(minute=i), content_type="image/jpeg")
                             for i, img in enumerate(images)])
    cols = _scan(tmp_path)
    assert cols.images[:, :2].tolist() == [[400, 300]] * 5 + [[32, 32]]
    assert np.all((cols.images[:, 2] > 0.3) & (cols.images[:, 2] < 0.7))


class _RemoteLikeStore(LocalStore):
    """A local folder read the way S3 is (no local paths), with one object that cannot be fetched."""

    def __init__(self, base: Path, broken: str) -> None:
        super().__init__(base)
        self.broken = broken

    def local_path(self, key: str) -> Path | None:
        return None

    def _get_bytes(self, key: str) -> bytes:
        if key.endswith(self.broken):
            raise StoreError(f"Could not read {key}: simulated network failure")
        return super()._get_bytes(key)


@pytest.mark.parametrize("workers", [1, 2])
def test_remote_files_are_prefetched_in_order_and_failures_counted(tmp_path: Path, workers: int) -> None:
    images = make_pngs(60, 2)
    records = [make_record(img, [0.9 - i / 100, 0.1 + i / 100], START.replace(minute=i))
               for i, img in enumerate(images)]
    written = write_capture(tmp_path, records, rotate_seconds=300)  # 12 files of 5 records
    store = _RemoteLikeStore(tmp_path, broken=written[3].name)
    _, files = locate_capture(str(tmp_path))
    cols = scan_capture(store, files, ScanOptions(2, max_thumbnails=2), workers=workers, show_progress=False)
    assert len(files) == 12 and cols.count == 55
    assert cols.issues.counts[Issue.UNREADABLE_FILE] == 1
    assert "simulated network failure" in cols.issues.examples[Issue.UNREADABLE_FILE][0]
    assert list(cols.time) == sorted(cols.time)
    assert [round(t.confidence, 2) for t in cols.thumbnails] == [0.5, 0.51]  # top probability bottoms out at 0.5


def test_one_sided_capture_of_batches_is_read_not_called_bad_input(tmp_path: Path) -> None:
    """--capture-mode Output keeps only the answers, Input only the requests: neither is bad input."""
    pngs = make_pngs(3, 6)
    body = json.dumps([base64.b64encode(p).decode() for p in pngs]).encode()
    answer = b"[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]"
    output_only = CaptureRecord("o", START, None, CaptureSide.from_payload(answer, "application/json", Mode.OUTPUT))
    input_only = CaptureRecord("i", START, CaptureSide.from_payload(body, "application/json", Mode.INPUT), None)
    (tmp_path / "out.jsonl").write_text(output_only.to_json_line())
    (tmp_path / "in.jsonl").write_text(input_only.to_json_line())
    out = _scan(tmp_path / "out.jsonl")
    assert out.count == 3 and out.probs.tolist()[1] == [pytest.approx(0.2), pytest.approx(0.8)]
    assert out.issues.counts == {Issue.NO_INPUT: 3} and out.issues.total == 0
    inp = _scan(tmp_path / "in.jsonl")
    assert inp.count == 3 and not np.isnan(inp.images).any()
    assert inp.issues.counts == {Issue.NO_OUTPUT: 3} and inp.issues.total == 0
