"""What a deployment does (or would do, with ``--dry-run``): one ``Change`` per resource.

Each ``ensure_*`` function compares what exists with what is wanted and returns
a ``Change``; it applies it only when asked. The same list is the dry-run plan
and the report of a real run, so a second run reads "no change".
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    NO_CHANGE = "no change"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "no change": "=", "delete": "-"}[self.value]


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: Action
    detail: str = ""

    def render(self) -> str:
        text = f"{self.action.symbol} {self.action.value:<9} {self.kind:<26} {self.name}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    #: Told about each change as it is made, so a long deployment reports as it goes.
    listener: Callable[[Change], None] | None = field(default=None, repr=False, compare=False)

    def add(self, change: Change) -> Change:
        self.changes.append(change)
        if self.listener is not None:
            self.listener(change)
        return change

    def extend(self, changes: list[Change]) -> None:
        for change in changes:
            self.add(change)

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NO_CHANGE for c in self.changes)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def summary(self) -> str:
        if not self.has_changes:
            return "no change: everything is up to date"
        parts = [f"{self.count(a)} to {a.value}" for a in (Action.CREATE, Action.UPDATE, Action.DELETE)
                 if self.count(a)]
        return ", ".join(parts) + f", {self.count(Action.NO_CHANGE)} unchanged"

    def render(self) -> str:
        return "\n".join([c.render() for c in self.changes] + [self.summary()])
