"""Step Functions ARNs as requests carry them, checked the way AWS checks them.

``arn:<partition>:states:<region>:<account>:stateMachine:<name>[:<version or alias>]``,
``arn:...:execution:<machine>:<name>`` (Standard) and
``arn:...:express:<machine>:<name>:<id>`` (Express, which the history APIs refuse).
Region and account are not compared with the local ones: one account, one region
serve every client, whatever region its SDK is configured for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from scones.gateway.stepfunctions.errors import InvalidArn, InvalidName, StateMachineDoesNotExist

STATE_MACHINE: Final = "stateMachine"
EXECUTION: Final = "execution"
EXPRESS: Final = "express"

#: StartExecution's name rules (API reference): 1-80 characters; no whitespace, brackets, wildcards,
#: special or control characters.
_BAD_NAME: Final = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Arn:
    text: str
    region: str
    account: str
    resource_type: str
    parts: tuple[str, ...]


def parse(text: str) -> Arn:
    """Any ARN of the ``states`` service; ``InvalidArn`` (AWS's message) otherwise."""
    if not text.startswith("arn:"):
        raise InvalidArn.prefix(text)
    fields = text.split(":")
    if len(fields) < 7 or not fields[1]:
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN format: {text}'")
    if fields[2] != "states":
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN service: {fields[2]}'")
    return Arn(text, fields[3], fields[4], fields[5], tuple(fields[6:]))


def check_role(text: str) -> str:
    """Any well-formed ARN (``arn:partition:service:region:account:resource``) will do for a role."""
    if not text.startswith("arn:"):
        raise InvalidArn.prefix(text)
    fields = text.split(":", 5)
    if len(fields) < 6 or not fields[1] or not fields[2] or not fields[5]:
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN format: {text}'")
    return text


def state_machine_name(text: str) -> str:
    """The name in a state machine ARN. Versions and aliases (``:<qualifier>``) are not kept locally,
    so they do not exist here."""
    arn = parse(text)
    if arn.resource_type != STATE_MACHINE:
        raise InvalidArn.resource_type(arn.resource_type)
    if len(arn.parts) != 1 or not arn.parts[0]:
        raise StateMachineDoesNotExist.of(text)
    return arn.parts[0]


@dataclass(frozen=True)
class ExecutionRef:
    state_machine: str
    name: str


def execution(text: str) -> ExecutionRef:
    """A Standard execution's ARN. Express executions are refused, as AWS refuses them
    (``Resource type not valid in this context: express``)."""
    arn = parse(text)
    if arn.resource_type != EXECUTION:
        raise InvalidArn.resource_type(arn.resource_type)
    if len(arn.parts) != 2 or not all(arn.parts):
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN format: {text}'")
    return ExecutionRef(arn.parts[0], arn.parts[1])


def check_name(name: str) -> str:
    """A state machine or execution name AWS accepts (the 1-80 length is the model's, checked before)."""
    if not name or len(name) > 80 or _BAD_NAME.search(name):
        raise InvalidName.of(name)
    return name
