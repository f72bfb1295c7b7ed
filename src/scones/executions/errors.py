"""The execution service's own refusals, apart so every module of the package can raise and catch them."""

from __future__ import annotations

from scones.errors import NotFoundError
from scones.workflow.asl.errors import InputError


class ExecutionAlreadyExists(InputError):
    """StartExecution with the name of a kept or running execution."""


class ExecutionDoesNotExist(NotFoundError):
    """No execution with that name or ARN, running or kept."""
