"""Step Functions state machines, created or updated in place when definition, role or tags differ."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from scones.aws.errors import is_not_found, wrap
from scones.aws.iam import retry_while_role_propagates
from scones.aws.plan import Action, Change
from scones.aws.tags import as_lower_key_value, check_not_foreign, from_key_value

KIND = "state machine"


def describe(sfn: Any, arn: str) -> dict[str, Any] | None:
    try:
        return dict(sfn.describe_state_machine(stateMachineArn=arn))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise wrap(exc, action="read", resource=f"state machine {arn}") from exc


def ensure_state_machine(sfn: Any, name: str, arn: str, *, definition: dict[str, Any], role_arn: str,
                         tags: dict[str, str], apply: bool,
                         sleep: Callable[[float], None] = time.sleep) -> Change:
    current = describe(sfn, arn)
    text = json.dumps(definition, indent=2)
    resource = f"state machine {name!r}"
    try:
        if current is None:
            if apply:
                retry_while_role_propagates(lambda: sfn.create_state_machine(
                    name=name, definition=text, roleArn=role_arn, type="STANDARD", tags=as_lower_key_value(tags)),
                    sleep=sleep)
            return Change(KIND, name, Action.CREATE)
        current_tags = from_key_value(sfn.list_tags_for_resource(resourceArn=arn).get("tags", []))
        check_not_foreign(KIND, name, current_tags, tags)
        todo: list[str] = []
        if json.loads(current.get("definition", "{}")) != definition:
            todo.append("definition")
        if current.get("roleArn") != role_arn:
            todo.append("role")
        if any(current_tags.get(k) != v for k, v in tags.items()):
            todo.append("tags")
        if not todo:
            return Change(KIND, name, Action.NO_CHANGE)
        if apply:
            if "definition" in todo or "role" in todo:
                sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role_arn)
            if "tags" in todo:
                sfn.tag_resource(resourceArn=arn, tags=as_lower_key_value(tags))
    except Exception as exc:
        raise wrap(exc, action="create or update", resource=resource,
                   hint="the definition must be valid ASL; check it with 'scones workflow validate'") from exc
    return Change(KIND, name, Action.UPDATE, ", ".join(todo))


def delete_state_machine(sfn: Any, arn: str) -> None:
    try:
        sfn.delete_state_machine(stateMachineArn=arn)
    except Exception as exc:
        if not is_not_found(exc):
            raise wrap(exc, action="delete", resource=f"state machine {arn}") from exc
