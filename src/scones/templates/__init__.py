"""Declarations from AWS SAM and CloudFormation templates: a user's, and the one scones ships for itself.

One provider, in the manner of AWS SAM CLI's function providers: the template is
read, its intrinsics resolved and its resources turned into ``scones.declarations``
records once; everything after (the Lambda runtime, the executions service,
``scones up``) reads the records, never the template.

    >>> from scones.templates import load_template
    >>> declarations = load_template("template.yaml")  # doctest: +SKIP
"""

from __future__ import annotations

from scones.templates.errors import TemplateError
from scones.templates.load import DEFAULT_STACK_NAME, load_template

__all__ = ["DEFAULT_STACK_NAME", "TemplateError", "load_template"]
