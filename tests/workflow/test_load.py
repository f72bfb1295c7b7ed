"""``scones load`` streams to this machine only."""

from __future__ import annotations

import pytest

from scones.errors import UsageError
from scones.workflow.load import check_loopback, is_loopback_host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.4.5.6", "localhost", "LOCALHOST", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("url", ["http://127.0.0.1.example.com:8080", "http://127.evil.test", "http://10.0.0.1:8080",
                                 "https://runtime.sagemaker.us-east-1.amazonaws.com", "http://[::2]:80"])
def test_other_endpoints_are_refused(url: str) -> None:
    with pytest.raises(UsageError, match="not a loopback address"):
        check_loopback(url)


def test_loopback_endpoint_and_on_demand_are_allowed() -> None:
    check_loopback("http://127.0.0.1:45678")
    check_loopback("http://[::1]:45678")
    check_loopback(None)


def test_achieved_rate_never_exceeds_what_the_stream_offered() -> None:
    """The stream ends once its last start has finished, before --duration: the rate is over the duration."""
    from scones.workflow.load import LoadReport

    early = LoadReport(rate=2, duration=3, due=6, completed=6, skipped=0, accepted=6, low_confidence=0, errored=0,
                       elapsed=2.5, latencies=())
    assert early.achieved_rate == 2.0
    backlog = LoadReport(rate=2, duration=3, due=6, completed=6, skipped=0, accepted=6, low_confidence=0,
                         errored=0, elapsed=6.0, latencies=())
    assert backlog.achieved_rate == 1.0


def test_errors_are_broken_down_by_name() -> None:
    from scones.workflow.load import LoadReport

    report = LoadReport(rate=1, duration=1, due=2, completed=2, skipped=0, accepted=0, low_confidence=0, errored=2,
                        elapsed=1.0, latencies=(), errors={"EndpointConnectionError": 2})
    assert report.to_json()["errors"] == {"EndpointConnectionError": 2}
    assert "{'EndpointConnectionError': 2}" in report.format_text()
