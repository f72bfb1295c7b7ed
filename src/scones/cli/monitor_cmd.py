"""``scones monitor``: baseline, report and download. Parses options, calls ``scones.monitor``, prints.

The library (numpy, scipy, matplotlib, onnxruntime) is imported inside each command.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import click

from scones.cli.context import AppContext, FiniteFloatRange, not_empty, pass_app
from scones.errors import UsageError


def _parse_time(value: str | None, option: str, now: datetime | None = None) -> datetime | None:
    """An ISO-8601 time (UTC unless it says otherwise), or a duration ago such as ``2h`` or ``30m``."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+\s*(s|m|min|h|d)", text.lower()):
        from scones.monitor.timeline import parse_bucket

        if not int(re.match(r"\d+", text).group()):  # type: ignore[union-attr]
            raise UsageError(f"{option} {value!r} is no time ago", hint="e.g. 2h or 30m, or an ISO-8601 time")
        seconds = parse_bucket(text)
        try:
            return (now or datetime.now(UTC)) - timedelta(seconds=seconds or 0)
        except OverflowError as exc:
            raise UsageError(f"{option} {value!r} reaches back before the year 1", hint="e.g. 2h or 30d") from exc
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not an ISO-8601 time or a duration",
                         hint="write it like 2025-10-04T08:00:00Z, 2025-10-04, or 2h (two hours ago)") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _parse_drift_thresholds(values: tuple[str, ...]) -> dict[str, float]:
    from scones.monitor.stats.drift import get_test

    out: dict[str, float] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        test = get_test(name.strip()).name
        try:
            value = float(raw)
        except ValueError as exc:
            raise UsageError(f"--drift-threshold {item!r} is not NAME=NUMBER", hint="e.g. --drift-threshold psi=0.25") \
                from exc
        if not sep:
            raise UsageError(f"--drift-threshold {item!r} is not NAME=NUMBER", hint="e.g. --drift-threshold psi=0.25")
        # PSI is unbounded above; the p-values (ks, chi_square) and the L-infinity distance lie in (0, 1].
        upper = math.inf if test == "psi" else 1.0
        if not (math.isfinite(value) and 0.0 < value <= upper):
            raise UsageError(f"--drift-threshold {item!r}: the threshold must be a number in "
                             f"(0, {'∞' if upper == math.inf else '1'}]", hint="e.g. --drift-threshold psi=0.25")
        out[test] = value
    return out


@click.group("monitor")
def monitor() -> None:
    """Baseline, drift and an HTML report from Data Capture."""


@monitor.command("baseline")
@click.option("--model", "model_uri", metavar="URI", callback=not_empty,
              help="model.tar.gz or its folder [default: <store>/model]")
@click.option("--data", "data_uri", metavar="URI", callback=not_empty,
              help="Staged dataset (train/, test/, *.lst) [default: <store>/dataset]")
@click.option("--out", "out_uri", metavar="URI", callback=not_empty,
              help="Baseline folder [default: <store>/monitor/baseline]")
@pass_app
def baseline(app: AppContext, model_uri: str | None, data_uri: str | None, out_uri: str | None) -> None:
    """Run the model over its validation split; write statistics.json and constraints.json."""
    from scones.monitor.baseline import build_baseline

    result = build_baseline(model_uri or app.default_uri("model"),
                            data_uri or app.default_uri("dataset"),
                            out_uri or app.default_uri("monitor/baseline"), show_progress=app.settings.progress)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    info = result.baseline.info
    accuracy = "n/a" if info.accuracy is None else f"{info.accuracy:.4f}"
    click.echo(f"Baseline of {info.item_count} images ({info.source}); validation accuracy {accuracy}")
    click.echo(f"Wrote {result.location}")


@monitor.command("report")
@click.option("--capture", "capture_uri", metavar="URI", callback=not_empty,
              help="Capture root, endpoint, variant or hour folder, or one .jsonl [default: <store>/data_capture]")
@click.option("--since", help="Only records at or after this time: ISO-8601 (UTC by default) or a duration ago (2h).")
@click.option("--until", help="Only records before this time: ISO-8601 (UTC by default) or a duration ago (30m).")
@click.option("--baseline", "baseline_uri", metavar="URI",
              help="Baseline folder [default: <store>/monitor/baseline, if it exists]")
@click.option("--threshold", type=FiniteFloatRange(0.0, 1.0), default=0.93, show_default=True,
              help="Confidence threshold of the filter step (drawn and counted).")
@click.option("--bucket", default="auto", show_default=True, help="Time bucket width: auto, 90s, 15m, 1h, 1d…")
@click.option("--drift-threshold", "drift_thresholds", multiple=True, metavar="TEST=VALUE",
              help="Override a drift test's threshold, e.g. psi=0.25 (repeatable).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes scanning capture files [default: CPUs].")
@click.option("--out", "out_uri", required=True, metavar="DIR", callback=not_empty, help="Report folder (local path or s3://).")
@click.option("--fail-on-violation", is_flag=True, help="Exit with status 3 when a constraint is violated.")
@pass_app
def report(app: AppContext, capture_uri: str | None, since: str | None, until: str | None,
           baseline_uri: str | None, threshold: float, bucket: str, drift_thresholds: tuple[str, ...],
           workers: int | None, out_uri: str, fail_on_violation: bool) -> None:
    """Drift, violations, charts and one self-contained HTML page from captured traffic."""
    from scones.monitor.baseline import baseline_exists, load_baseline
    from scones.monitor.report import ReportOptions, build_report
    from scones.monitor.timeline import parse_bucket

    options = ReportOptions(threshold=threshold, since=_parse_time(since, "--since"),
                            until=_parse_time(until, "--until"), bucket_seconds=parse_bucket(bucket),
                            workers=workers, show_progress=app.settings.progress,
                            drift_thresholds=_parse_drift_thresholds(drift_thresholds))
    if options.since and options.until and options.since >= options.until:
        raise UsageError("--since must be before --until")
    base = None
    if baseline_uri is not None:
        base = load_baseline(baseline_uri)
    elif baseline_exists(app.default_uri("monitor/baseline")):
        baseline_uri = app.default_uri("monitor/baseline")
        base = load_baseline(baseline_uri)
    else:
        click.echo("Warning: no baseline (build one with 'scones monitor baseline'); drift is not checked",
                   err=True)
    result = build_report(capture_uri or app.default_uri("data_capture"), out_uri, base, options,
                          baseline_uri=baseline_uri)
    summary = result.report["summary"]
    if result.records == 0:
        click.echo("Warning: no captured records were found (or none in the time window); "
                   "check --capture, --since and --until", err=True)
    below = summary["share_below_threshold"]
    click.echo(f"{result.records:,} captured images (a batch request counts each image); "
               f"{'n/a' if below is None else f'{100 * below:.1f}%'} below threshold {threshold:g}; "
               f"{result.input_problems:,} bad input(s); {len(result.violations)} violation(s)")
    for v in result.violations:
        click.echo(f"  {v.constraint_check_type.value} {v.feature_name}: {v.description}")
    click.echo(f"Wrote {result.location}/report.html")
    if fail_on_violation and result.violated:
        from scones.monitor.errors import ViolationsFound

        raise ViolationsFound(f"{len(result.violations)} constraint violation(s) in {result.location}",
                              hint="see constraint_violations.json and report.html there")


@monitor.command("download")
@click.option("--from", "source", required=True, metavar="URI", help="Capture location (s3:// or local).")
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False), help="Local folder.")
@pass_app
def download(app: AppContext, source: str, dest: str) -> None:
    """Copy capture files to a local folder (the classic notebook's S3Downloader step)."""
    from scones.monitor.download import download_capture

    result = download_capture(source, dest, show_progress=app.settings.progress)
    click.echo(f"Copied {result.copied} file(s) ({result.skipped} already up to date) to {result.dest}")
