"""IAM roles with one inline policy each, created or brought up to date in place."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import unquote

from scones.aws.errors import error_code, is_not_found, wrap
from scones.aws.plan import Action, Change
from scones.aws.tags import as_key_value, check_not_foreign, from_key_value

LOG = logging.getLogger(__name__)

KIND = "iam role"
T = TypeVar("T")
#: Error codes with which Lambda, SageMaker and Step Functions refuse a role they cannot assume *yet*
#: (docs/aws-facts.md, IAM and SNS).
PROPAGATION_CODES: Final = frozenset({"InvalidParameterValueException", "ValidationException",
                                      "AccessDeniedException"})


def retry_while_role_propagates(call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep,
                                attempts: int = 10, interval: float = 3.0) -> T:
    """Run ``call``, retrying while a role created seconds ago cannot be assumed yet.

    IAM is eventually consistent: services refuse a brand-new role for a few
    seconds ("cannot be assumed", "Could not assume role"). Other errors pass through.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or error_code(exc) not in PROPAGATION_CODES or "assume" not in str(exc).lower():
                raise
            LOG.info("role not assumable yet (%s); retrying in %s s", error_code(exc), interval)
            sleep(interval)
    raise AssertionError("unreachable")  # pragma: no cover


def _canonical(document: Any) -> str:
    # boto3 decodes policy documents into dicts; other tools may hand back URL-encoded JSON text.
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _get_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(iam.get_role(RoleName=name)["Role"])
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise wrap(exc, action="read", resource=f"IAM role {name!r}") from exc


def _inline_policies(iam: Any, name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
            for policy_name in page["PolicyNames"]:
                doc = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
                out[policy_name] = _canonical(doc)
    except Exception as exc:
        raise wrap(exc, action="read the policies of", resource=f"IAM role {name!r}") from exc
    return out


def ensure_role(iam: Any, name: str, *, trust: dict[str, Any], policy_name: str, policy: dict[str, Any],
                tags: dict[str, str], description: str, apply: bool) -> Change:
    """Create role ``name`` with exactly one inline policy, or fix trust, policy and tags in place."""
    role = _get_role(iam, name)
    resource = f"IAM role {name!r}"
    if role is None:
        if apply:
            try:
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                                Description=description, Tags=as_key_value(tags))
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
            except Exception as exc:
                raise wrap(exc, action="create", resource=resource) from exc
        return Change(KIND, name, Action.CREATE)
    current_tags = from_key_value(iam.list_role_tags(RoleName=name).get("Tags", []))
    check_not_foreign(KIND, name, current_tags, tags)
    todo: list[str] = []
    if _canonical(role.get("AssumeRolePolicyDocument", {})) != _canonical(trust):
        todo.append("trust")
    current = _inline_policies(iam, name)
    stale = [p for p in current if p != policy_name]
    if current.get(policy_name) != _canonical(policy):
        todo.append("policy")
    if stale:
        todo.append("stale policies")
    if any(current_tags.get(k) != v for k, v in tags.items()):
        todo.append("tags")
    if not todo:
        return Change(KIND, name, Action.NO_CHANGE)
    if apply:
        try:
            if "trust" in todo:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
            if "policy" in todo:
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
            for stale_name in stale:
                iam.delete_role_policy(RoleName=name, PolicyName=stale_name)
            if "tags" in todo:
                iam.tag_role(RoleName=name, Tags=as_key_value(tags))
        except Exception as exc:
            raise wrap(exc, action="update", resource=resource) from exc
    return Change(KIND, name, Action.UPDATE, ", ".join(todo))


def delete_role(iam: Any, name: str) -> None:
    """Delete a role and its inline policies (a role with policies cannot be deleted)."""
    try:
        for policy_name in _inline_policies(iam, name):
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)
    except Exception as exc:
        if is_not_found(exc):
            return
        raise wrap(exc, action="delete", resource=f"IAM role {name!r}") from exc
