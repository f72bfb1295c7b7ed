from __future__ import annotations

from scones.workflow.asl import validate_definition
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.registry import STATE_TYPES


def test_every_state_type_has_one_class_with_its_fields_per_language() -> None:
    assert list(STATE_TYPES) == ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]
    for name, cls in STATE_TYPES.items():
        assert set(cls.FIELDS) == set(QueryLanguage), name
        for fields in cls.FIELDS.values():
            assert {"Type", "Comment", "QueryLanguage"} <= fields, name


def test_an_unknown_type_lists_the_registered_ones() -> None:
    [error] = validate_definition({"StartAt": "A", "States": {"A": {"Type": "Sleep", "End": True}}})
    assert error.location == "/States/A/Type"
    assert error.message == ("The value of Type must be one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, "
                             "Map, not \"Sleep\"")
