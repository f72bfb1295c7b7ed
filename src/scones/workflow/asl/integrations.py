"""The task integrations every executor supports unless told otherwise: one resolver, built on purpose."""

from __future__ import annotations

from scones.workflow.asl.resources import ResourceResolver, lambda_integration


def default_resolver() -> ResourceResolver:
    """Lambda (function ARNs, ``lambda:invoke`` and ``lambda:invoke.waitForTaskToken``)."""
    return ResourceResolver([lambda_integration])
