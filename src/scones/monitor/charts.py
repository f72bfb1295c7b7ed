"""The report's charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

Figures are built without ``pyplot`` so no global figure state is touched and
no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np

from scones.monitor.timeline import TimeBucket

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CURRENT: Final = "#1f77b4"
BASELINE: Final = "#7f7f7f"
ALERT: Final = "#d62728"
DPI: Final = 100


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, *, right: float = 0.97,
            sharex: bool = False, height_ratios: Sequence[float] | None = None) -> tuple[Figure, np.ndarray]:
    """A figure with fixed margins (in inches, so any size reads the same).

    Fixed margins rather than a layout engine: constrained layout draws every figure
    twice (docs/performance.md, Monitoring).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=0.75 / width, right=right, bottom=0.55 / height, top=1 - 0.4 / height,
                        wspace=0.3, hspace=0.25)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=sharex, height_ratios=height_ratios)
    return fig, axes


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _time_axis(ax: Axes, mids: np.ndarray, width_s: int) -> None:
    """Dates on x, limited to the buckets shown plus one bucket either side. Left to itself, matplotlib
    spreads one or two points over years (a 1-second capture drew on a 2025-2029 axis, bars invisible)."""
    import matplotlib.dates as mdates

    pad = np.timedelta64(width_s, "s")
    ax.set_xlim(mids.min() - pad, mids.max() + pad)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(True, alpha=0.3)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=BASELINE)
    ax.set_xticks([])
    ax.set_yticks([])


def confidence_over_time(buckets: Sequence[TimeBucket], threshold: float, width_s: int) -> bytes:
    """Requests per bucket on top; median confidence with its 10–90 % band and the threshold below."""
    fig, axes = _figure(9, 5.2, 2, 1, right=0.9, sharex=True, height_ratios=[1, 2])
    vol, conf = axes[0, 0], axes[1, 0]
    if not buckets:
        _empty(conf, "no captured requests in the window")
        vol.set_axis_off()
        return _png(fig)
    mids = _mids(buckets, width_s)
    vol.bar(mids, [b.count for b in buckets], width=np.timedelta64(int(width_s * 900), "ms"), color=CURRENT)
    vol.set_ylabel("requests")
    vol.set_title(f"Request volume and top-class confidence per {_width_label(width_s)}")
    p10 = np.array([b.confidence_p10 for b in buckets])
    p50 = np.array([b.confidence_p50 for b in buckets])
    p90 = np.array([b.confidence_p90 for b in buckets])
    below = np.array([b.below_threshold for b in buckets])
    conf.fill_between(mids, p10, p90, color=CURRENT, alpha=0.2, label="10–90 % of requests", step=None)
    conf.plot(mids, p50, color=CURRENT, marker="o", markersize=3, label="median confidence")
    conf.axhline(threshold, color=ALERT, linestyle="--", linewidth=1.5, label=f"threshold {threshold:g}")
    conf.set_ylim(0.0, 1.02)
    conf.set_ylabel("top-class confidence")
    twin = conf.twinx()
    twin.plot(mids, below * 100.0, color=ALERT, alpha=0.6, linewidth=1, marker=".", label="% below threshold")
    twin.set_ylabel("% below threshold", color=ALERT)
    twin.set_ylim(0, 100)
    lines, labels = conf.get_legend_handles_labels()
    lines2, labels2 = twin.get_legend_handles_labels()
    conf.legend(lines + lines2, labels + labels2, loc="lower left", fontsize=8)
    _time_axis(conf, mids, width_s)
    _time_axis(vol, mids, width_s)
    return _png(fig)


def confidence_histogram(current: np.ndarray, baseline: np.ndarray | None, threshold: float) -> bytes:
    fig, axes = _figure(7, 4)
    ax = axes[0, 0]
    cur = current[~np.isnan(current)]
    if cur.size == 0:
        _empty(ax, "no usable outputs")
        return _png(fig)
    low = min(float(cur.min()), float(baseline.min()) if baseline is not None and baseline.size else 1.0)
    bins = np.linspace(min(low, threshold) - 1e-9, 1.0, 26)
    ax.hist(cur, bins=bins, density=True, alpha=0.6, color=CURRENT, label=f"captured (n={cur.size:,})")
    if baseline is not None and baseline.size:
        ax.hist(baseline, bins=bins, density=True, histtype="step", linewidth=2, color="black",
                label=f"baseline (n={baseline.size:,})")
    ax.axvline(threshold, color=ALERT, linestyle="--", label=f"threshold {threshold:g}")
    ax.set_xlabel("top-class confidence")
    ax.set_ylabel("density")
    ax.set_title("Confidence: captured traffic against the baseline")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, alpha=0.3)
    return _png(fig)


def class_mix(buckets: Sequence[TimeBucket], classes: Sequence[str], width_s: int,
              baseline_share: Sequence[float] | None) -> bytes:
    fig, axes = _figure(9, 3.8, right=0.8)
    ax = axes[0, 0]
    shares = np.array([b.class_share for b in buckets], dtype=np.float64) if buckets else np.empty((0, 0))
    if not buckets or np.all(np.isnan(shares)):
        _empty(ax, "no usable outputs")
        return _png(fig)
    mids = _mids(buckets, width_s)
    shares = np.nan_to_num(shares)
    bottom = np.zeros(len(buckets))
    colours = [f"C{i % 10}" for i in range(len(classes))]
    for i, name in enumerate(classes):
        ax.bar(mids, shares[:, i], bottom=bottom, width=np.timedelta64(int(width_s * 900), "ms"),
               color=colours[i], label=name)
        bottom += shares[:, i]
    if baseline_share is not None:
        for value in np.cumsum(baseline_share)[:-1]:
            ax.axhline(value, color="black", linestyle=":", linewidth=1.5)
        ax.plot([], [], color="black", linestyle=":", label="baseline mix")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of predictions")
    ax.set_title(f"Predicted-class mix per {_width_label(width_s)}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _time_axis(ax, mids, width_s)
    return _png(fig)


def estimated_accuracy(buckets: Sequence[TimeBucket], width_s: int, baseline_accuracy: float | None) -> bytes:
    fig, axes = _figure(9, 3.2)
    ax = axes[0, 0]
    if not buckets:
        _empty(ax, "no captured requests in the window")
        return _png(fig)
    mids = _mids(buckets, width_s)
    ax.plot(mids, [b.estimated_accuracy for b in buckets], marker="o", markersize=3, color=CURRENT,
            label="estimated accuracy (from confidence)")
    if baseline_accuracy is not None:
        ax.axhline(baseline_accuracy, color="black", linestyle=":",
                   label=f"validation accuracy {baseline_accuracy:.3f}")
    ax.set_ylim(0.0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Estimated accuracy without labels per {_width_label(width_s)}")
    ax.legend(loc="lower left", fontsize=8)
    _time_axis(ax, mids, width_s)
    return _png(fig)


def drift_over_time(buckets: Sequence[TimeBucket], width_s: int, threshold: float) -> bytes:
    """Each bucket's PSI against the baseline, per feature: when did the traffic start to differ?"""
    fig, axes = _figure(9, 3.4, right=0.8)
    ax = axes[0, 0]
    names = [name for name, _ in buckets[0].psi] if buckets else []
    if not names:
        _empty(ax, "no baseline to compare with" if buckets else "no captured requests in the window")
        return _png(fig)
    mids = _mids(buckets, width_s)
    top = threshold
    for i, name in enumerate(names):
        values = np.array([dict(b.psi).get(name, np.nan) for b in buckets], dtype=np.float64)
        if not np.all(np.isnan(values)):
            top = max(top, float(np.nanmax(values)))
        ax.plot(mids, values, marker="o", markersize=3, color=f"C{i}", label=name)
    ax.axhline(threshold, color=ALERT, linestyle="--", label=f"PSI threshold {threshold:g}")
    ax.set_ylim(0, top * 1.1)
    ax.set_ylabel("PSI against baseline")
    ax.set_title(f"Drift per {_width_label(width_s)} (Population Stability Index)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _time_axis(ax, mids, width_s)
    return _png(fig)


def feature_histograms(names: Sequence[str], current: Sequence[np.ndarray],
                       baseline: Sequence[np.ndarray | None]) -> bytes:
    fig, axes = _figure(3.2 * len(names), 3, 1, len(names), right=0.98)
    for ax, name, cur, ref in zip(axes[0], names, current, baseline, strict=True):
        cur = cur[~np.isnan(cur)]
        if cur.size == 0:
            _empty(ax, f"{name}: no decodable images")
            continue
        pool = cur if ref is None or ref.size == 0 else np.concatenate([cur, ref])
        lo, hi = float(pool.min()), float(pool.max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1e-6, 21)
        ax.hist(cur, bins=bins, density=True, alpha=0.6, color=CURRENT, label="captured")
        if ref is not None and ref.size:
            ax.hist(ref, bins=bins, density=True, histtype="step", linewidth=2, color="black", label="baseline")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return _png(fig)


def _mids(buckets: Sequence[TimeBucket], width_s: int) -> np.ndarray:
    """Bucket centres as naive UTC datetime64 (numpy has no time zones; every time here is UTC)."""
    starts = np.array([b.start.replace(tzinfo=None) for b in buckets], dtype="datetime64[s]")
    return starts + np.timedelta64(width_s // 2, "s")


def _width_label(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} s"
