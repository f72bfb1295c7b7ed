"""One self-contained HTML page: charts and thumbnails inlined as base64, no scripts, no links out.

Everything that comes from a capture (content types, error examples, file names)
is untrusted and goes through ``html.escape``.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, Final

import numpy as np

from scones.monitor.capture import Issue
from scones.monitor.features import ImageDecodeError, decode_image

THUMB_MAX: Final = 96

_CSS: Final = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:1.6em;margin-bottom:0}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-top:4px}
table{border-collapse:collapse;margin:8px 0;font-size:0.92em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3b;font-weight:600}.muted{color:#888}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:1.5em;font-weight:600}.card .l{color:#666;font-size:0.85em}
img.chart{max-width:100%;border:1px solid #eee;margin:6px 0}
.thumbs{display:flex;flex-wrap:wrap;gap:10px}.thumb{text-align:center;font-size:0.8em;width:120px}
.thumb img{width:96px;height:96px;object-fit:contain;image-rendering:pixelated;border:1px solid #ccc}
code{font-size:0.85em;word-break:break-all}
"""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _pct(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{100.0 * value:.1f}%"


def _img(png: bytes, alt: str, css: str = "chart") -> str:
    return f'<img class="{css}" alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def thumbnail_png(data: bytes) -> bytes | None:
    """The captured image re-encoded as a small PNG (so any decodable format displays), or None."""
    from PIL import Image

    try:
        pixels = decode_image(data)
    except ImageDecodeError:
        return None
    img = Image.fromarray(pixels)
    if max(img.size) > THUMB_MAX:
        img.thumbnail((THUMB_MAX, THUMB_MAX))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def render(report: Mapping[str, Any], charts: Mapping[str, bytes], thumbnails: Sequence[Mapping[str, Any]]) -> str:
    """The page for ``report`` (the same dict written as report.json)."""
    s = report["summary"]
    parts: list[str] = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>scones monitoring report</title><style>{_CSS}</style></head><body>",
        "<h1>scones monitoring report</h1>",
        f"<p class='sub'>Capture <code>{escape(report['capture'])}</code> · window "
        f"{escape(report['window']['start'] or '…')} → {escape(report['window']['end'] or '…')} · generated "
        f"{escape(report['generated'])}</p>",
    ]
    n_viol = len(report["violations"])
    verdict = (f"<span class='bad'>{n_viol} constraint violation(s)</span>" if n_viol
               else ("<span class='ok'>no constraint violations</span>" if report["baseline"]
                     else "<span class='muted'>no baseline: drift and constraints not checked</span>"))
    cards = [
        ("images classified", _fmt(s["records"])), ("with usable output", _fmt(s["answered"])),
        (f"below threshold {report['threshold']:g}", _pct(s["share_below_threshold"])),
        ("mean confidence", _fmt(s["confidence_mean"], 3)),
        ("estimated accuracy", _fmt(s["estimated_accuracy"], 3)),
        ("validation accuracy", _fmt(s["baseline_accuracy"], 3)),
        ("bad input", _fmt(report["input_problems"]["total"])),
    ]
    parts.append(f"<p>{verdict}</p><div class='cards'>")
    parts += [f"<div class='card'><div class='v'>{v}</div><div class='l'>{escape(label)}</div></div>"
              for label, v in cards]
    parts.append("</div>")
    parts.append(f"<p class='muted'>Accuracy is estimated without labels from the captured confidences, "
                 f"calibrated with {escape(s['calibration'])}. Latency: {escape(s['latency_note'])}</p>")

    parts.append("<h2>Confidence over time</h2>")
    parts.append(_img(charts["confidence_over_time.png"], "confidence over time"))
    parts.append("<h2>Confidence against the baseline</h2>")
    parts.append(_img(charts["confidence_histogram.png"], "confidence histogram"))
    parts.append("<h2>Predicted-class mix over time</h2>")
    parts.append(_img(charts["class_mix.png"], "class mix over time"))
    parts.append("<h2>Estimated accuracy over time</h2>")
    parts.append(_img(charts["estimated_accuracy.png"], "estimated accuracy"))
    parts.append("<h2>Input images against the baseline</h2>")
    parts.append(_img(charts["image_statistics.png"], "image statistics"))

    parts.append("<h2>Drift</h2>")
    parts.append(_img(charts["drift_over_time.png"], "drift over time"))
    if not report["drift"]:
        parts.append("<p class='muted'>No baseline given, so nothing to compare with.</p>")
    else:
        parts.append("<table><tr><th>feature</th><th>test</th><th>score</th><th>threshold</th><th>drift</th>"
                     "<th>note</th></tr>")
        for item in report["drift"]:
            for t in item["tests"]:
                flag = ("<span class='bad'>yes</span>" if t["drifted"] else
                        ("<span class='muted'>not run</span>" if t["score"] is None else "no"))
                rule = "≥" if t["score_name"] == "psi" else ("&gt;" if t["score_name"] == "distance" else "p &lt;")
                parts.append(f"<tr><td>{escape(item['feature'])}</td><td>{escape(t['test'])}</td>"
                             f"<td class='num'>{_fmt(t['score'])}</td><td>{rule} {t['threshold']:g}</td>"
                             f"<td>{flag}</td><td>{escape(t['note'])}</td></tr>")
        parts.append("</table>")

    parts.append("<h2>Constraint violations</h2>")
    if not report["violations"]:
        parts.append("<p class='muted'>None.</p>")
    else:
        parts.append("<table><tr><th>feature</th><th>check</th><th>description</th></tr>")
        parts += [f"<tr><td>{escape(v['feature_name'])}</td><td>{escape(v['constraint_check_type'])}</td>"
                  f"<td>{escape(v['description'])}</td></tr>" for v in report["violations"]]
        parts.append("</table>")

    parts.append("<h2>Bad input</h2>")
    problems = report["input_problems"]
    parts.append(f"<p>{_fmt(problems['files'])} capture file(s) read; {_fmt(problems['out_of_window'])} "
                 f"record(s) in them were outside the time window; {_fmt(problems['files_after_window'])} "
                 f"file(s) starting after the window were not read.</p>")
    parts.append("<table><tr><th>problem</th><th>count</th><th>first examples (file:line: why)</th></tr>")
    for issue in Issue:
        entry = problems["counts"][issue.value]
        examples = "<br>".join(f"<code>{escape(e)}</code>" for e in entry["examples"]) or ""
        css = "num bad" if entry["count"] else "num"
        parts.append(f"<tr><td>{escape(entry['description'])}</td><td class='{css}'>{entry['count']:,}</td>"
                     f"<td>{examples}</td></tr>")
    parts.append("</table>")
    if report["content_types"]:
        parts.append("<p>Input content types: " + ", ".join(
            f"<code>{escape(k)}</code> {v:,}" for k, v in report["content_types"].items()) + "</p>")

    parts.append("<h2>Lowest-confidence captured images</h2>")
    if not thumbnails:
        parts.append("<p class='muted'>No captured image with a usable output.</p>")
    else:
        parts.append("<div class='thumbs'>")
        for t in thumbnails:
            body = _img(t["png"], "captured image", "") if t["png"] else "<div class='muted'>(no preview)</div>"
            parts.append(f"<div class='thumb' title='{escape(t['where'])}'>{body}<br><b>{escape(t['predicted'])}</b> "
                         f"{t['confidence']:.3f}<br><span class='muted'>{escape(t['time'])}</span></div>")
        parts.append("</div>")

    parts.append("<h2>Per time bucket</h2><table><tr><th>start</th><th>requests</th><th>mean conf.</th>"
                 "<th>below threshold</th><th>est. accuracy</th><th>class mix</th></tr>")
    for b in report["timeline"]["buckets"]:
        mix = ", ".join(f"{escape(c)} {_pct(v)}" for c, v in b["class_share"].items() if v is not None)
        parts.append(f"<tr><td>{escape(b['start'])}</td><td class='num'>{b['count']:,}</td>"
                     f"<td class='num'>{_fmt(b['confidence']['mean'], 3)}</td>"
                     f"<td class='num'>{_pct(b['share_below_threshold'])}</td>"
                     f"<td class='num'>{_fmt(b['estimated_accuracy'], 3)}</td><td>{mix}</td></tr>")
    parts.append("</table>")
    if report["baseline"]:
        bl = report["baseline"]
        parts.append(f"<p class='muted'>Baseline <code>{escape(bl['uri'] or '(passed in)')}</code>: "
                     f"{_fmt(bl['item_count'])} "
                     f"images from {escape(bl['source'])}, created {escape(bl['created'])}.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values]
