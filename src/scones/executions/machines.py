"""State machines as CreateStateMachine leaves them: their configuration, their revisions, kept on disk.

A ``MachineInfo`` is what DescribeStateMachine answers (name, ARN, type, definition
text as given, role, dates, logging and tracing configuration, status) plus every
earlier revision, so DescribeStateMachineForExecution can answer with the
definition an execution started with after any number of updates (and restarts).

``StateMachineRegistry`` keeps one JSON file per state machine, ``<folder>/<name>.json``,
written under a temporary name and renamed, so a crash never leaves half a file.
The execution service owns the registry: it loads it once and writes through it
on every create, update and delete.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, Final

from scones.store import atomic_write_bytes
from scones.workflow.asl.errors import ValidationError

LOG = logging.getLogger(__name__)

FORMAT_VERSION: Final = 1


class MachineType(str, Enum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


class MachineStatus(str, Enum):
    ACTIVE = "ACTIVE"
    #: DeleteStateMachine while executions still run: it goes once the last one has ended.
    DELETING = "DELETING"


#: What DescribeStateMachine shows when CreateStateMachine was given no configuration (recorded on AWS).
DEFAULT_LOGGING: Final[Mapping[str, Any]] = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING: Final[Mapping[str, Any]] = {"enabled": False}


@dataclass(frozen=True)
class Revision:
    """One configuration of a state machine, from ``date`` until the next update."""

    definition: str
    role_arn: str
    date: float
    #: None for the configuration CreateStateMachine made (AWS shows no revisionId until an update).
    revision_id: str | None = None
    logging: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_LOGGING))
    tracing: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRACING))

    def same_configuration(self, other: Revision) -> bool:
        return (self.definition, self.role_arn, dict(self.logging), dict(self.tracing)) == \
            (other.definition, other.role_arn, dict(other.logging), dict(other.tracing))

    def to_json(self) -> dict[str, Any]:
        return {"definition": self.definition, "roleArn": self.role_arn, "date": self.date,
                "revisionId": self.revision_id, "loggingConfiguration": dict(self.logging),
                "tracingConfiguration": dict(self.tracing)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Revision:
        return cls(definition=str(d["definition"]), role_arn=str(d["roleArn"]), date=float(d["date"]),
                   revision_id=d.get("revisionId"), logging=dict(d.get("loggingConfiguration") or DEFAULT_LOGGING),
                   tracing=dict(d.get("tracingConfiguration") or DEFAULT_TRACING))


@dataclass(frozen=True)
class MachineInfo:
    """A state machine's configuration and history of revisions (oldest first; the last is in effect)."""

    name: str
    arn: str
    type: MachineType
    creation_date: float
    revisions: tuple[Revision, ...]
    status: MachineStatus = MachineStatus.ACTIVE
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def definition(self) -> str:
        return self.current.definition

    @property
    def role_arn(self) -> str:
        return self.current.role_arn

    @property
    def update_date(self) -> float:
        """When the configuration in effect was made (the creation date until the first update)."""
        return self.current.date

    def revision_at(self, when: float) -> Revision:
        """The revision an execution started at ``when`` ran with (StartExecution uses the latest one)."""
        found = self.revisions[0]
        for revision in self.revisions:
            if revision.date <= when:
                found = revision
        return found

    def updated(self, revision: Revision) -> MachineInfo:
        return replace(self, revisions=(*self.revisions, revision))

    def deleting(self) -> MachineInfo:
        return replace(self, status=MachineStatus.DELETING)

    def tagged(self, tags: Mapping[str, str]) -> MachineInfo:
        return replace(self, tags=dict(tags))

    def to_json(self) -> dict[str, Any]:
        return {"formatVersion": FORMAT_VERSION, "name": self.name, "stateMachineArn": self.arn,
                "type": self.type.value, "creationDate": self.creation_date, "status": self.status.value,
                "revisions": [r.to_json() for r in self.revisions], "tags": dict(self.tags)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> MachineInfo:
        revisions = tuple(Revision.from_json(r) for r in d["revisions"])
        if not revisions:
            raise ValueError("a state machine without a revision")
        return cls(name=str(d["name"]), arn=str(d["stateMachineArn"]), type=MachineType(d["type"]),
                   creation_date=float(d["creationDate"]), revisions=revisions,
                   status=MachineStatus(d.get("status", MachineStatus.ACTIVE.value)),
                   tags={str(k): str(v) for k, v in (d.get("tags") or {}).items()})


def express_problems(document: Mapping[str, Any]) -> list[ValidationError]:
    """What an EXPRESS state machine may not use, worded as AWS rejects it at CreateStateMachine:
    callbacks (``.waitForTaskToken``), run-a-job integrations (``.sync``) and activities."""
    problems = []
    for pointer, resource in _task_resources(document, ""):
        if resource.endswith(".waitForTaskToken"):
            # The double space is AWS's (recorded answer).
            message = "Express state machine does not support '.waitForTaskToken' service integration "
        elif resource.endswith(".sync") or ".sync:" in resource:
            message = "Express state machine does not support '.sync' service integration"
        elif resource.startswith("arn:") and resource.split(":")[5:6] == ["activity"]:
            message = "Express state machine does not support Activity ARN"
        else:
            continue
        problems.append(ValidationError("SCHEMA_VALIDATION_FAILED", message, f"{pointer}/Resource"))
    return problems


def _task_resources(machine: Mapping[str, Any], at: str) -> list[tuple[str, str]]:
    """``(JSON pointer of the state, Resource)`` of every Task, nested Map and Parallel states included."""
    found: list[tuple[str, str]] = []
    states = machine.get("States")
    if not isinstance(states, Mapping):
        return found
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        pointer = f"{at}/States/{_escape(name)}"
        if state.get("Type") == "Task" and isinstance(state.get("Resource"), str):
            found.append((pointer, state["Resource"]))
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                found += _task_resources(state[key], f"{pointer}/{key}")
        branches = state.get("Branches")
        if isinstance(branches, list):
            for i, branch in enumerate(branches):
                if isinstance(branch, Mapping):
                    found += _task_resources(branch, f"{pointer}/Branches/{i}")
    return found


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class StateMachineRegistry:
    """State machines kept as ``<folder>/<name>.json``, one file each, written atomically.

    Names follow the execution-name rules (no ``/``, no whitespace, at most 80 characters),
    so a name is always a safe file name.
    """

    SUFFIX: Final = ".json"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def load(self) -> list[MachineInfo]:
        """Every kept state machine; a damaged file is reported once and skipped, not fatal."""
        found: list[MachineInfo] = []
        for path in sorted(self.folder.glob(f"*{self.SUFFIX}")):  # writes in progress end in .tmp
            try:
                info = MachineInfo.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                LOG.warning("skipping the state machine in %s: %s", path, exc)
                continue
            found.append(info)
        return found

    def put(self, info: MachineInfo) -> None:
        data = json.dumps(info.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
        path = self._path(info.name)
        with self._lock:
            atomic_write_bytes(path, data)

    def remove(self, name: str) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or "\0" in name:
            raise ValueError(f"{name!r} cannot name a state machine file")
        return self.folder / f"{name}{self.SUFFIX}"
