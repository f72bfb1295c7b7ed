"""``load_template``: an AWS SAM or CloudFormation template to ``Declarations``, once.

What loads: Lambda functions (``AWS::Serverless::Function``, ``AWS::Lambda::Function``)
with their layers, state machines (``AWS::Serverless::StateMachine``,
``AWS::StepFunctions::StateMachine``) and S3 buckets. What is skipped, one note each:
every other resource type (IAM, logs, SNS, SageMaker, ...), resources whose
``Condition`` is false, functions scones cannot run that no state machine of the
template invokes, and ``Transform`` macros other than SAM's. What is refused, with
the file, the resource and the property: a function scones cannot run that a state
machine invokes, an intrinsic that cannot be resolved locally (``Fn::ImportValue``,
an unknown ``Ref``...) in a property scones reads, a path that does not exist, a
definition Step Functions would reject, text that is not a template.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from scones.declarations import Declarations, FunctionSpec, Origin, StateMachineSpec
from scones.local_account import LOCAL_ACCOUNT, LOCAL_REGION
from scones.templates.errors import TemplateError
from scones.templates.functions import FunctionContext, Unrunnable, load_function, sam_globals
from scones.templates.intrinsics import Resolver
from scones.templates.parse import read_template
from scones.templates.resources import (
    BUCKET,
    FUNCTION_TYPES,
    LOADED_TYPES,
    STATE_MACHINE_TYPES,
    ResourceTable,
    skip_note,
)
from scones.templates.state_machines import LoadedMachine, load_state_machine

#: ``AWS::StackName`` locally, as AWS SAM CLI's local commands name the stack.
DEFAULT_STACK_NAME: Final = "local"
SAM_TRANSFORM: Final = "AWS::Serverless-2016-10-31"


def load_template(path: str | os.PathLike[str], *, parameters: Mapping[str, str] | None = None,
                  origin: Origin = Origin.TEMPLATE, cache_dir: str | os.PathLike[str] | None = None,
                  stack_name: str = DEFAULT_STACK_NAME) -> Declarations:
    """Every function, state machine and bucket the template declares, as records.

    ``parameters`` override the template's parameter defaults (as ``sam local
    --parameter-overrides``); ``cache_dir`` is where inline ``ZipFile`` code is written
    (default ``.scones/cache``); ``origin`` marks the records (``BUILT_IN`` for the
    template scones ships for its own workflow). Paths in the template are read
    relative to its folder. Raises ``TemplateError`` (or ``NotFoundError`` for a
    missing file) with a message naming the resource and property.
    """
    from scones.config import Settings

    shown = os.fspath(path)
    document = read_template(Path(path), shown)
    folder = Path(path).resolve().parent
    table = ResourceTable(shown, document["Resources"])
    resolver = Resolver(shown, document, table, parameters=parameters or {}, region=LOCAL_REGION,
                        account=LOCAL_ACCOUNT, stack_name=stack_name)
    table.resolver = resolver
    context = FunctionContext(shown, folder, resolver, table, origin,
                              Path(cache_dir) if cache_dir is not None else Settings().cache_dir)
    notes = _transform_notes(document.get("Transform"))
    defaults = sam_globals(document, shown)

    functions: dict[str, FunctionSpec] = {}
    unrunnable: dict[str, Unrunnable] = {}
    machines: dict[str, LoadedMachine] = {}
    buckets: dict[str, str] = {}
    for logical_id, resource in table.resources.items():
        if resource.type not in LOADED_TYPES:
            notes.append(skip_note(table, resource))
            continue
        if not table.exists(logical_id):
            notes.append(f"{logical_id} ({resource.type}): left out, its condition {resource.condition!r} is false")
            continue
        if resource.type in FUNCTION_TYPES:
            loaded = load_function(context, resource, defaults)
            _claim(shown, resource.where, loaded.name, "function", functions.keys() | unrunnable.keys())
            if isinstance(loaded, Unrunnable):
                unrunnable[loaded.name] = loaded
            else:
                functions[loaded.name] = loaded
        elif resource.type in STATE_MACHINE_TYPES:
            machine = load_state_machine(shown, folder, resolver, table, resource, origin)
            _claim(shown, resource.where, machine.spec.name, "state machine", machines.keys())
            machines[machine.spec.name] = machine
            notes.extend(machine.notes)
        elif resource.type == BUCKET:
            name = table.name_of(logical_id)
            _claim(shown, resource.where, name, "bucket", buckets.keys())
            buckets[name] = logical_id

    invoked: set[str] = set()
    for machine in machines.values():
        for function in sorted(machine.functions):
            invoked.add(function)
            if function in unrunnable:
                reason = unrunnable[function]
                raise TemplateError(shown, reason.where, f"{function} {reason.reason}, and the state machine "
                                    f"{machine.spec.name!r} invokes it", hint=reason.hint)
            if function not in functions and "${" not in function:  # a kept placeholder is said already
                notes.append(f"state machine {machine.spec.name!r} invokes {function!r}, which this template does "
                             "not declare")
    notes.extend(f"{name}: skipped, it {reason.reason} ({reason.where})" for name, reason in unrunnable.items()
                 if name not in invoked)
    state_machines: dict[str, StateMachineSpec] = {name: m.spec for name, m in machines.items()}
    return Declarations(functions=functions, state_machines=state_machines, buckets=tuple(buckets),
                        notes=tuple(notes))


def _claim(source: str, where: str, name: str, what: str, taken: Any) -> None:
    if name in taken:
        raise TemplateError(source, where, f"a second {what} named {name!r}",
                            hint=f"give each {what} its own name")


def _transform_notes(transform: Any) -> list[str]:
    names = transform if isinstance(transform, list) else [transform] if transform else []
    return [f"Transform {name}: not applied locally" for name in names if name != SAM_TRANSFORM]
