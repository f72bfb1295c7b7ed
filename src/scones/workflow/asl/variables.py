"""Workflow variables: ``Assign`` writes them, ``$name`` reads them.

Scoping (developer guide): a Parallel branch or Map iteration sees the
variables of its outer scope read-only and has its own scope for what it
assigns; nothing assigned inside flows back out. All ``Assign`` values of one
state are evaluated with the variables as they were when the state was
entered, then written together.
"""

from __future__ import annotations

import threading
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


class VariableBudget:
    """Bytes held by all variable scopes of one execution, against the 10 MiB per-execution quota."""

    __slots__ = ("used", "_lock")

    def __init__(self) -> None:
        self.used = 0
        self._lock = threading.Lock()

    def add(self, delta: int) -> None:
        with self._lock:  # Map iterations and Parallel branches assign concurrently
            self.used += delta


class VariableScope:
    """One scope; lookups fall back to the (read-only) outer scope."""

    __slots__ = ("_values", "_outer", "_sizes", "_budget")

    def __init__(self, outer: VariableScope | None = None, initial: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = {}
        self._outer = outer
        self._sizes: dict[str, int] = {}
        self._budget: VariableBudget = outer._budget if outer is not None else VariableBudget()
        if initial:
            self.assign(initial)

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
        """Store ``values`` (already checked by ``assignment_size_problem``) and account for their size."""
        sizes = variable_sizes(values)
        self._budget.add(self.growth(sizes))
        self._sizes.update(sizes)
        self._values.update(values)

    def growth(self, sizes: Mapping[str, int]) -> int:
        """How many bytes the execution's variables would grow by if these sizes were assigned here."""
        old = self._sizes
        return sum(size - old.get(name, 0) for name, size in sizes.items())

    def stored_bytes(self) -> int:
        """Bytes held by every variable of the execution (all scopes still alive)."""
        return self._budget.used

    def child(self) -> VariableScope:
        return VariableScope(self)

    def release(self) -> None:
        """The scope ended (a Map iteration or Parallel branch finished): its variables no longer count."""
        self._budget.add(-sum(self._sizes.values()))
        self._sizes.clear()

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


def variable_sizes(values: Mapping[str, Any]) -> dict[str, int]:
    """Each value's size as the quotas count it: bytes of its JSON text in UTF-8."""
    return {name: len(to_compact_json(value).encode("utf-8")) for name, value in values.items()}


def assignment_size_problem(values: Mapping[str, Any], scope: VariableScope | None = None) -> str | None:
    """A message when an Assign exceeds the size quotas (checked in ``scope`` when given), else None.

    The quotas (per variable, per Assign field, per execution) are documented; the error AWS raises
    for them is not, so callers use States.DataLimitExceeded, the documented error for size quotas.
    """
    total = 0
    sizes = variable_sizes(values)
    for name, size in sizes.items():
        if size > MAX_VARIABLE_BYTES:
            return (f"The variable '{name}' has a size of {size} bytes, exceeding the maximum of "
                    f"{MAX_VARIABLE_BYTES} bytes for a single variable")
        total += size
    if total > MAX_ASSIGN_BYTES:
        return (f"The variables assigned by the state have a size of {total} bytes, exceeding the maximum "
                f"of {MAX_ASSIGN_BYTES} bytes for one Assign field")
    if scope is not None:
        stored = scope.stored_bytes() + scope.growth(sizes)
        if stored > MAX_TOTAL_BYTES:
            return (f"The variables of the execution would have a total size of {stored} bytes, exceeding the "
                    f"maximum of {MAX_TOTAL_BYTES} bytes for all variables of one execution")
    return None
