"""Errors a user can cause while monitoring (bad URIs, missing baseline, bad options)."""

from __future__ import annotations

from scones.errors import SconesError, UsageError


class MonitorError(SconesError):
    """Monitoring input (capture, baseline, dataset) that cannot be used as given."""


class BaselineError(MonitorError):
    """A baseline folder that is missing or does not hold Model Monitor files scones can read."""


class UnknownDriftTestError(UsageError):
    """A drift test name that is not in the registry."""


class ViolationsFound(MonitorError):
    """``--fail-on-violation``: the report was written, and constraints were violated (for CI and alerting)."""

    exit_code = 3
