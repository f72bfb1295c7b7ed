"""The user's workflow as the flags and the template declare it, in one ``Declarations``.

``declare`` reads ``--function``, ``--env``, ``--endpoint``, ``--state-machine`` and
``--template`` together: every problem is reported before anything starts, a name
declared twice (by two flags, or by a flag and the template) is an error, and
``--env`` may set variables of functions the template declares. Built-ins are not
added here: whoever runs the declarations adds them for the names left free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from scones.declarations import (
    Declarations,
    EndpointSpec,
    Origin,
    StateMachineSpec,
)
from scones.errors import UsageError

if TYPE_CHECKING:
    from scones.config import Settings


@dataclass(frozen=True)
class DeclarationOptions:
    """The declaration flags as given on the command line."""

    functions: Sequence[str] = ()
    env: Sequence[str] = ()
    endpoints: Sequence[str] = ()
    state_machines: Sequence[str] = ()
    template: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.functions or self.env or self.endpoints or self.state_machines or self.template)


def declare(settings: Settings, options: DeclarationOptions, *, cwd: Path | None = None) -> Declarations:
    """Everything the flags and the template declare; raises a ``SconesError`` naming each problem."""
    if options.empty:  # the common run: no flags, nothing more to load
        return Declarations()
    from scones.declaration_flags import declare_functions

    base = Path.cwd() if cwd is None else cwd
    template = _template(settings, options.template, base)
    functions = declare_functions(options.functions, options.env, cwd=base, template=template.functions)
    return Declarations(
        functions=functions.functions,
        state_machines=_merged("state machine", template.state_machines,
                               _state_machines(options.state_machines, base)),
        endpoints=_merged("endpoint", template.endpoints, _endpoints(options.endpoints, base)),
        buckets=template.buckets,
        notes=template.notes,
    )


def _template(settings: Settings, template: str | None, base: Path) -> Declarations:
    if template is None:
        return Declarations()
    from scones.templates import load_template

    return load_template(base / template, cache_dir=settings.cache_dir)


def _pairs(values: Sequence[str], option: str, what: str) -> list[tuple[str, str, str]]:
    """``NAME=VALUE`` flags as ``(name, value, the flag as given)``."""
    pairs = []
    for raw in values:
        name, sep, value = raw.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{option} {raw!r} is not NAME={what}", hint=f"e.g. {option} my-name={what.lower()}")
        pairs.append((name.strip(), value.strip(), f"{option} {raw}"))
    return pairs


def _endpoints(values: Sequence[str], base: Path) -> dict[str, EndpointSpec]:
    from scones.serve.config import valid_name

    found: dict[str, EndpointSpec] = {}
    for name, model, raw in _pairs(values, "--endpoint", "MODEL_URI"):
        if not valid_name(name):
            raise UsageError(f"{raw}: {name!r} is not a SageMaker endpoint name",
                             hint="letters, digits and hyphens, at most 63, starting with a letter or digit")
        if "://" not in model:
            path = base / model
            if not path.exists():
                raise UsageError(f"{raw}: no model at {path}", hint="give a model.tar.gz (scones train writes one)")
            model = str(path.resolve())
        _claim(found, name, raw, "endpoint")
        found[name] = EndpointSpec(name=name, model_uri=model, origin=Origin.FLAG, declared_at=raw)
    return found


def _state_machines(values: Sequence[str], base: Path) -> dict[str, StateMachineSpec]:
    from scones.workflow.definitions import read_definition

    found: dict[str, StateMachineSpec] = {}
    for name, file, raw in _pairs(values, "--state-machine", "DEFINITION_FILE"):
        _claim(found, name, raw, "state machine")
        found[name] = StateMachineSpec(name=name, definition=read_definition(base / file), origin=Origin.FLAG,
                                       declared_at=raw)
    return found


def _claim(found: Mapping[str, object], name: str, raw: str, what: str) -> None:
    if name in found:
        raise UsageError(f"{raw}: the {what} {name!r} is declared twice", hint=f"keep one declaration per {what}")


Spec = TypeVar("Spec", StateMachineSpec, EndpointSpec)


def _merged(what: str, template: Mapping[str, Spec], flags: Mapping[str, Spec]) -> dict[str, Spec]:
    """The template's and the flags' declarations together; a name in both is an error naming both places."""
    clash = sorted(set(template) & set(flags))
    if clash:
        name = clash[0]
        raise UsageError(f"The {what} {name!r} is declared twice: {template[name].declared_at or 'the template'} "
                         f"and {flags[name].declared_at}", hint="declare it once: in the template or by a flag")
    return {**template, **flags}
