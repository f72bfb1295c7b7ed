"""Workflow variables: ``Assign`` writes them, ``$name`` reads them.

Scoping (developer guide): a Parallel branch or Map iteration sees the
variables of its outer scope read-only and has its own scope for what it
assigns; nothing assigned inside flows back out. All ``Assign`` values of one
state are evaluated with the variables as they were when the state was
entered, then written together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scones.workflow.asl.jsontext import to_compact_json

#: "The maximum size of a single variable is 256 KiB ... total of all variables in a single
#: Assign field is 256 KiB ... total stored variables per execution is 10 MiB" (quotas).
MAX_VARIABLE_BYTES: Final = 262_144
MAX_ASSIGN_BYTES: Final = 262_144
MAX_TOTAL_BYTES: Final = 10 * 1024 * 1024


class UndefinedVariable(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class VariableScope:
    """One scope; lookups fall back to the (read-only) outer scope."""

    __slots__ = ("_values", "_outer")

    def __init__(self, outer: VariableScope | None = None, initial: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = dict(initial or {})
        self._outer = outer

    def get(self, name: str) -> Any:
        scope: VariableScope | None = self
        while scope is not None:
            values = scope._values
            if name in values:
                return values[name]
            scope = scope._outer
        raise UndefinedVariable(name)

    def has(self, name: str) -> bool:
        try:
            self.get(name)
        except UndefinedVariable:
            return False
        return True

    def assign(self, values: Mapping[str, Any]) -> None:
        self._values.update(values)

    def child(self) -> VariableScope:
        return VariableScope(self)

    def visible(self) -> dict[str, Any]:
        """All variables visible here (inner names shadow outer ones), for JSONata bindings."""
        chain: list[VariableScope] = []
        scope: VariableScope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope._outer
        out: dict[str, Any] = {}
        for s in reversed(chain):
            out.update(s._values)
        return out


def assignment_size_problem(values: Mapping[str, Any]) -> str | None:
    """A message when an Assign exceeds the size quotas, else None."""
    total = 0
    for name, value in values.items():
        size = len(to_compact_json(value).encode("utf-8"))
        if size > MAX_VARIABLE_BYTES:
            return (f"The variable '{name}' has a size of {size} bytes, exceeding the maximum of "
                    f"{MAX_VARIABLE_BYTES} bytes for a single variable")
        total += size
    if total > MAX_ASSIGN_BYTES:
        return (f"The variables assigned by the state have a size of {total} bytes, exceeding the maximum "
                f"of {MAX_ASSIGN_BYTES} bytes for one Assign field")
    return None
