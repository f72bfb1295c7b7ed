from __future__ import annotations

import math

import numpy as np
import pytest

from scones.errors import UsageError
from scones.monitor.scan import CaptureColumns
from scones.monitor.timeline import MAX_BUCKETS, buckets, choose_width, parse_bucket


def _columns(times: list[float], conf: list[float]) -> CaptureColumns:
    probs = np.array([[c, 1 - c] for c in conf], dtype=np.float32)
    return CaptureColumns(2, np.array(times, dtype=np.float64), probs, np.full((len(times), 5), np.nan))


@pytest.mark.parametrize("text, seconds", [("auto", None), ("90s", 90), ("15m", 900), ("15min", 900),
                                           ("1h", 3600), (" 2D ", 172800)])
def test_parse_bucket(text: str, seconds: int | None) -> None:
    assert parse_bucket(text) == seconds


@pytest.mark.parametrize("text", ["0h", "-1h", "1w", "hour", ""])
def test_bad_bucket_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="use auto"):
        parse_bucket(text)


def test_auto_width_keeps_buckets_few() -> None:
    assert choose_width(0, 30 * 60) == 60
    assert choose_width(0, 6 * 3600) == 900
    assert choose_width(0, 3 * 86400) == 6 * 3600
    assert choose_width(0, 10 * 365 * 86400) / 86400 == math.ceil(10 * 365 / 48)


def test_buckets_count_confidence_and_gaps() -> None:
    cols = _columns([0, 10, 70, 200], [0.9, 0.4, 0.95, 0.6])  # the second predicts class 1 at 0.6
    width, out = buckets(cols, threshold=0.8, reliability=None, width=60)
    assert width == 60 and [b.count for b in out] == [2, 1, 0, 1]  # the empty minute is kept
    assert out[0].below_threshold == 0.5 and out[0].confidence_mean == pytest.approx(0.75)
    assert out[0].class_share == (0.5, 0.5) and math.isnan(out[2].confidence_mean)
    assert out[0].estimated_accuracy == pytest.approx(0.75)  # raw confidence without a reliability table


def test_a_stray_timestamp_does_not_explode_the_timeline() -> None:
    cols = _columns([0.0, 1.0, 1e9], [0.9, 0.9, 0.9])
    _, out = buckets(cols, threshold=0.5, reliability=None, width=60)
    assert 1e9 / 60 > MAX_BUCKETS and [b.count for b in out] == [2, 1]


def test_cli_times_accept_iso_and_durations() -> None:
    from datetime import UTC, datetime, timedelta

    from scones.cli.monitor_cmd import _parse_time

    now = datetime(2025, 10, 4, 12, 0, tzinfo=UTC)
    assert _parse_time("2h", "--since", now) == now - timedelta(hours=2)
    assert _parse_time("90min", "--since", now) == now - timedelta(minutes=90)
    assert _parse_time("2025-10-04T08:00:00Z", "--since") == datetime(2025, 10, 4, 8, tzinfo=UTC)
    assert _parse_time("2025-10-04", "--since") == datetime(2025, 10, 4, tzinfo=UTC)
    assert _parse_time("2025-10-04T10:00:00+02:00", "--since") == datetime(2025, 10, 4, 8, tzinfo=UTC)
    assert _parse_time(None, "--since") is None
    with pytest.raises(UsageError, match="ISO-8601"):
        _parse_time("soon", "--until")


def test_time_axes_span_the_buckets_not_years() -> None:
    """One bucket of one second used to be drawn on a 2025-2029 axis, its bars zero seconds wide."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import numpy as np

    from scones.monitor.charts import _time_axis

    fig, ax = plt.subplots()
    mids = np.array(["2025-10-04T08:44:11"], dtype="datetime64[s]")
    _time_axis(ax, mids, 1)
    low, high = ax.get_xlim()
    assert (high - low) * 86400 == pytest.approx(2.0)  # one bucket either side, in matplotlib's day units
    assert mdates.num2date(low).year == 2025
    plt.close(fig)
