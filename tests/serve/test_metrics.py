from __future__ import annotations

from scones.serve.metrics import Metrics


def test_prometheus_text() -> None:
    metrics = Metrics()
    metrics.observe_request("runtime", 200, 0.003)
    metrics.observe_request("runtime", 200, 0.2)
    metrics.count_error('odd"kind')
    metrics.observe_batch(5)
    metrics.count_capture("dropped", 2)
    metrics.gauge("scones_capture_backlog_records", "Waiting.", lambda: 7)
    text = metrics.render()
    lines = text.splitlines()
    assert 'scones_requests_total{route="runtime",status="200"} 2' in lines
    assert 'scones_request_duration_seconds_bucket{route="runtime",le="0.0025"} 0' in lines
    assert 'scones_request_duration_seconds_bucket{route="runtime",le="0.005"} 1' in lines
    assert 'scones_request_duration_seconds_bucket{route="runtime",le="+Inf"} 2' in lines
    assert 'scones_request_duration_seconds_count{route="runtime"} 2' in lines
    assert 'scones_errors_total{kind="odd\\"kind"} 1' in lines
    assert 'scones_capture_records_total{outcome="dropped"} 2' in lines
    assert "scones_capture_backlog_records 7" in lines
    assert 'scones_batch_size_bucket{le="8.0"} 1' in lines and "scones_images_total 5" in lines
    assert text.endswith("\n")
