"""The numbers a Map state reads through a ``...Path`` (``MaxConcurrencyPath``, ``ToleratedFailureCountPath``,
``ToleratedFailurePercentagePath``, ``ItemBatcher``'s), checked and worded as AWS checks them.

A path (or a variable: ``"MaxConcurrencyPath": "$max"``) may select a number or a
string holding an integer (``"1"``), as recorded on AWS; anything else fails the
state with ``States.Runtime``. The causes are AWS's (docs/aws-facts.md, Map).
"""

from __future__ import annotations

import re
from typing import Any, Final

from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.jsontext import to_compact_json

_INTEGER_TEXT: Final = re.compile(r"-?\d+")
MAX_PERCENTAGE: Final = 100.0


def _shown(value: Any) -> str:
    """A value as a cause quotes it: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else to_compact_json(value)


def _integer(value: Any) -> int | None:
    """An integer, an integral float or an integer's text, as an int; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    return None


def _runtime(frame: Frame, message: str) -> FailureError:
    return FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} {message}")


def path_number(frame: Frame, name: str, path: str, value: Any) -> int | float:
    """The number ``name`` (a ``...Path`` field whose source is ``path``) selected, or the failure AWS reports."""
    if name == "ToleratedFailurePercentagePath":
        number = _integer(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise _runtime(frame, f"The {name} field refers to value \"{_shown(value)}\" which is not a valid "
                                  f"float: {path}")
        if not 0 <= number <= MAX_PERCENTAGE:
            raise _runtime(frame, "ToleratedFailurePercentage must be between 0 and 100.")
        return float(number)
    integer = _integer(value)
    if integer is None:
        raise _runtime(frame, f"The {name} field refers to value \"{_shown(value)}\" which is not a valid integer: "
                              f"{path}")
    if integer < 0:
        if name == "MaxConcurrencyPath":
            raise _runtime(frame, f"Expected non-negative integer for MaxConcurrency, got '{integer}' instead.")
        if name == "ToleratedFailureCountPath":
            raise _runtime(frame, "ToleratedFailureCount cannot be negative.")
        raise _runtime(frame, f"The {name} field refers to value \"{_shown(value)}\" which is not a valid "
                              f"non-negative integer: {path}")
    return integer
