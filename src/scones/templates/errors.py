"""The one error a template can raise: it names the file, the place in it and what to do."""

from __future__ import annotations

from scones.errors import WorkflowError


class TemplateError(WorkflowError):
    """A template scones cannot turn into declarations.

    The message starts with where the problem is, as a user would look for it:
    ``template.yaml: Resources.ClassifyFunction.Properties.Environment.Variables.ENDPOINT: ...``.
    """

    def __init__(self, source: str, where: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{source}: {where}: {message}" if where else f"{source}: {message}", hint=hint)
        self.source = source
        self.where = where
