"""TEMPORARY stand-in for ``scones.workflow.asl.lambda_integration`` (issue 5) until it lands on main.

Same names and fields as the agreed contract; delete this file once the
interpreter is merged (``lambda_runtime`` imports the real module first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LambdaInvokeResult:
    payload: Any
    function_error: str | None = None
    status_code: int = 200
    executed_version: str = "$LATEST"
    request_id: str = ""


class LambdaServiceError(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
