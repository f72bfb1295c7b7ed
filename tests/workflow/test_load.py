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
