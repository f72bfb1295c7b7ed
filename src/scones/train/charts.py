"""PNG charts of the test metrics: a reliability diagram and a coverage-precision curve."""

from __future__ import annotations

import io
from typing import Any


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def reliability_png(reliability: dict[str, list[float]], *, title: str = "Reliability (test)") -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    edges = reliability["bin_edges"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    width = edges[1] - edges[0]
    used = [i for i, c in enumerate(reliability["count"]) if c]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.bar([centres[i] for i in used], [reliability["accuracy"][i] for i in used], width=width * 0.9,
           alpha=0.7, label="accuracy")
    ax.plot([reliability["confidence"][i] for i in used], [reliability["accuracy"][i] for i in used], "o-",
            color="C1", label="mean confidence")
    for i in used:
        ax.annotate(str(reliability["count"][i]), (centres[i], 0.02), ha="center", fontsize=7)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="confidence (top probability)", ylabel="accuracy", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def coverage_precision_png(curve: dict[str, list[float]], threshold: float,
                           at_threshold: dict[str, float | int], *,
                           title: str = "Coverage vs precision (test)") -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(curve["coverage"], curve["precision"], drawstyle="steps-post", label="all thresholds")
    ax.plot([at_threshold["coverage"]], [at_threshold["precision"]], "o", color="C3",
            label=f"threshold {threshold:g}")
    ax.set(xlim=(0, 1.02), xlabel="coverage (share kept by the filter)", ylabel="precision among kept", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return _png(fig)
