"""The task integrations every executor supports unless told otherwise: one resolver, built on purpose."""

from __future__ import annotations

from scones.workflow.asl.resources import ResourceResolver, lambda_integration
from scones.workflow.asl.sns_integration import sns_integration
from scones.workflow.asl.stepfunctions_integration import stepfunctions_integration


def default_resolver() -> ResourceResolver:
    """Lambda (function ARNs, ``lambda:invoke``), Step Functions (``states:startExecution``), SNS (``sns:publish``),
    each with the integration patterns it supports locally."""
    return ResourceResolver([lambda_integration, stepfunctions_integration, sns_integration])
