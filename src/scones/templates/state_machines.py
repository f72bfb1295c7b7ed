"""State machine resources (SAM and plain CloudFormation) to ``StateMachineSpec`` records.

The definition comes from ``Definition`` (an inline object, its intrinsics
resolved), ``DefinitionUri`` (a local JSON or YAML file, relative to the template's
folder) or ``DefinitionString`` (often a ``Fn::Sub`` or ``Fn::Join``). Then
``DefinitionSubstitutions`` fill its ``${Name}`` placeholders, as Step Functions
does, with function ARNs in the one local account and region. The result is
validated as Step Functions would validate it, so a broken definition is reported
against the resource that declares it, before anything runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from scones.declarations import Origin, StateMachineSpec, StateMachineType
from scones.templates.errors import TemplateError
from scones.templates.intrinsics import Resolver, text_of
from scones.templates.parse import parse_text, read_text
from scones.templates.resources import SERVERLESS_STATE_MACHINE, Resource, ResourceTable

_PLACEHOLDER: Final = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


@dataclass(frozen=True)
class LoadedMachine:
    """A state machine's record, the functions its definition invokes (by name), and anything worth saying."""

    spec: StateMachineSpec
    functions: frozenset[str]
    notes: tuple[str, ...] = ()


def load_state_machine(source: str, folder: Path, resolver: Resolver, table: ResourceTable, resource: Resource,
                       origin: Origin) -> LoadedMachine:
    where = resource.where
    props = resource.properties
    serverless = resource.type == SERVERLESS_STATE_MACHINE
    keys = ("Definition", "DefinitionUri") if serverless else ("Definition", "DefinitionString",
                                                                "DefinitionS3Location")
    given = [key for key in keys if key in props]
    if len(given) != 1:
        raise TemplateError(source, where, f"give exactly one of {', '.join(keys)}"
                            + (f" (found {', '.join(given)})" if given else ""))
    key = given[0]
    at = f"{where}.{key}"
    text = _definition_text(source, folder, resolver, key, props[key], at)
    text, leftover = _substitute(source, resolver, props.get("DefinitionSubstitutions"), text,
                                 f"{where}.DefinitionSubstitutions")
    functions = _validate(source, text, at)

    type_key = "Type" if serverless else "StateMachineType"
    type_text = resolver.resolve_text(props.get(type_key, "STANDARD"), f"{where}.{type_key}").upper()
    if type_text not in StateMachineType.__members__:
        raise TemplateError(source, f"{where}.{type_key}", f"{type_text!r} is neither STANDARD nor EXPRESS")
    role_key = "Role" if serverless else "RoleArn"
    role = resolver.resolve_text(props[role_key], f"{where}.{role_key}") if role_key in props else None
    name = table.name_of(resource.logical_id)
    notes = tuple(f"{resource.logical_id}: the definition keeps ${{{p}}}, which DefinitionSubstitutions does not "
                  "define" for p in leftover)
    spec = StateMachineSpec(name=name, definition=text, origin=origin, type=StateMachineType(type_text),
                            role_arn=role, declared_at=f"{source}: {resource.logical_id}")
    return LoadedMachine(spec, functions, notes)


def _definition_text(source: str, folder: Path, resolver: Resolver, key: str, value: Any, where: str) -> str:
    if key == "DefinitionS3Location":
        raise TemplateError(source, where, "the definition is in S3, which scones does not download",
                            hint="use DefinitionString, Definition, or SAM's DefinitionUri with a local file")
    if key == "DefinitionString":
        return resolver.resolve_text(value, where, "the definition's JSON text")
    if key == "Definition":
        definition = resolver.resolve(value, where)
        if not isinstance(definition, Mapping):
            raise TemplateError(source, where, "must be the definition as a mapping (StartAt, States)")
        return json.dumps(definition, indent=2)
    location = resolver.resolve(value, where)
    if isinstance(location, Mapping) or (isinstance(location, str) and location.startswith("s3://")):
        raise TemplateError(source, where, "the definition is in S3, which scones does not download",
                            hint="point DefinitionUri at the local .asl.json file, as before `sam package`")
    if not isinstance(location, str) or not location:
        raise TemplateError(source, where, "must be the path of the definition file")
    path = (folder / location).resolve()
    if not path.exists():
        raise TemplateError(source, where, f"{location} does not exist (read relative to the template's folder, "
                            f"{folder})", hint="point it at the state machine's .asl.json file")
    document = parse_text(read_text(path, location, what="definition"), location)
    if not isinstance(document, Mapping):
        raise TemplateError(source, where, f"{location} holds no definition (StartAt, States)")
    return json.dumps(document, indent=2)


def _substitute(source: str, resolver: Resolver, substitutions: Any, text: str,
                where: str) -> tuple[str, list[str]]:
    """Fill ``${Name}`` placeholders as Step Functions does; the ones left undefined are returned."""
    values: dict[str, str] = {}
    if substitutions is not None:
        resolved = resolver.resolve(substitutions, where)
        if not isinstance(resolved, Mapping):
            raise TemplateError(source, where, "must be a mapping of names to values")
        for name, value in resolved.items():
            value_text = text_of(value)
            if value_text is None:
                raise TemplateError(source, f"{where}.{name}", "must be a string, number or boolean")
            values[str(name)] = value_text
    leftover: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return json.dumps(values[name])[1:-1]  # inside a JSON string: escaped as one
        if name not in leftover:
            leftover.append(name)
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text), leftover


def _validate(source: str, text: str, where: str) -> frozenset[str]:
    """Validate as Step Functions would; the names of the functions the definition invokes.

    Whether each Task's resource runs locally is not decided here but when the machine runs, with the
    integrations wired then (a definition that also publishes to SNS still loads).
    """
    from scones.executions.plan import LAMBDA_INVOKE_RESOURCES, function_name, states_of
    from scones.workflow.asl.checks import BAD_RESOURCE
    from scones.workflow.asl.errors import DefinitionError
    from scones.workflow.asl.parse import load_definition
    from scones.workflow.asl.validate import validate_document

    try:
        document = load_definition(text)
        errors = [e for e in validate_document(document) if e.code != BAD_RESOURCE]
        if errors:
            raise DefinitionError(errors)
    except DefinitionError as exc:
        raise TemplateError(source, where, f"the definition is not valid: {exc.message}", hint=exc.hint) from exc
    functions = set()
    for _, state in states_of(document):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        arguments = state.get("Parameters", state.get("Arguments"))
        if resource.startswith("arn:") and ":lambda:" in resource and ":function:" in resource:
            functions.add(function_name(resource))
        elif resource in LAMBDA_INVOKE_RESOURCES and isinstance(arguments, Mapping) \
                and isinstance(arguments.get("FunctionName"), str) and "{%" not in arguments["FunctionName"]:
            functions.add(function_name(arguments["FunctionName"]))
    return frozenset(functions)
