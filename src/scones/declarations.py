"""What a user declares for local runs: functions, state machines, endpoints and buckets, as plain records.

Declarations come from flags (``--function NAME=PATH[:HANDLER]``, ``--env``,
``--endpoint``, ``--state-machine``), from an AWS SAM / CloudFormation template
(``--template``), and from the template scones ships for its own workflow. Each
source turns into these records once; everything else (the Lambda runtime, the
execution service, ``scones up``) reads the records, never the flags or the
template. A user's declaration of a name always wins over a built-in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Final

from scones.lambda_runtime.contract import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS

DEFAULT_RUNTIME: Final = "python3.12"


class Origin(str, Enum):
    """Where a declaration came from: said once to the user, and decides who wins a name."""

    BUILT_IN = "built-in"
    FLAG = "flag"
    TEMPLATE = "template"


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its code, its handler and its configuration.

    ``code`` is a ``.py`` file (``handler`` is then the function's name in it), a folder or a ``.zip``
    (``handler`` is Lambda's ``module.function`` setting); ``layers`` are folders put on its path after the
    code, as Lambda layers' ``python/`` folders are.
    """

    name: str
    code: Path
    handler: str
    origin: Origin
    environment: Mapping[str, str] = field(default_factory=dict)
    runtime: str = DEFAULT_RUNTIME
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB
    layers: tuple[Path, ...] = ()
    #: Where it was declared, for messages: ``--function classify=…``, ``template.yaml: ClassifyFunction``.
    declared_at: str = ""


class StateMachineType(str, Enum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


@dataclass(frozen=True)
class StateMachineSpec:
    """One state machine: its name and its definition as JSON text (substitutions already applied)."""

    name: str
    definition: str
    origin: Origin
    type: StateMachineType = StateMachineType.STANDARD
    role_arn: str | None = None
    declared_at: str = ""


@dataclass(frozen=True)
class EndpointSpec:
    """A SageMaker endpoint name the code calls, and the model that answers for it."""

    name: str
    model_uri: str
    origin: Origin
    declared_at: str = ""


@dataclass(frozen=True)
class Declarations:
    """Everything declared for one run, by name."""

    functions: Mapping[str, FunctionSpec] = field(default_factory=dict)
    state_machines: Mapping[str, StateMachineSpec] = field(default_factory=dict)
    endpoints: Mapping[str, EndpointSpec] = field(default_factory=dict)
    buckets: tuple[str, ...] = ()
    #: One line each for what the source declared and scones leaves out (an IAM role, a SageMaker endpoint, a
    #: resource whose condition is false), to be said to the user once.
    notes: tuple[str, ...] = ()
