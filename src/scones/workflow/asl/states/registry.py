"""The one table from a state's ``Type`` to its class: the validator and the builder both read it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from scones.workflow.asl.states.base import State
from scones.workflow.asl.states.choice_state import ChoiceState
from scones.workflow.asl.states.fail_state import FailState
from scones.workflow.asl.states.map_state import MapState
from scones.workflow.asl.states.parallel_state import ParallelState
from scones.workflow.asl.states.pass_state import PassState
from scones.workflow.asl.states.succeed_state import SucceedState
from scones.workflow.asl.states.task_state import TaskState
from scones.workflow.asl.states.wait_state import WaitState

#: In the order the validator lists them when a ``Type`` is unknown.
STATE_TYPES: Final[Mapping[str, type[State]]] = MappingProxyType({
    "Pass": PassState,
    "Task": TaskState,
    "Choice": ChoiceState,
    "Wait": WaitState,
    "Succeed": SucceedState,
    "Fail": FailState,
    "Parallel": ParallelState,
    "Map": MapState,
})
