"""The Step Functions API of ``scones up``: awsJson 1.0 in, the execution service behind, AWS's shapes out."""

from scones.executions.local import local_executions
from scones.gateway.stepfunctions.service import StepFunctionsService

__all__ = ["StepFunctionsService", "local_executions"]
