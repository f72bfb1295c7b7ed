"""The tags that mark a resource as scones', in each service's own shape.

``destroy`` finds resources by these tags, so they are the only record of
what scones created: a resource without them is never touched.
"""

from __future__ import annotations

from typing import Final

MANAGED_KEY: Final = "scones:managed"
DEPLOYMENT_KEY: Final = "scones:deployment"


def deployment_tags(prefix: str) -> dict[str, str]:
    return {MANAGED_KEY: "true", DEPLOYMENT_KEY: prefix}


def is_ours(tags: dict[str, str], prefix: str) -> bool:
    return tags.get(MANAGED_KEY) == "true" and tags.get(DEPLOYMENT_KEY) == prefix


def as_key_value(tags: dict[str, str]) -> list[dict[str, str]]:
    """``[{"Key": k, "Value": v}]``: IAM, SageMaker, SNS, CloudFormation."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def as_lower_key_value(tags: dict[str, str]) -> list[dict[str, str]]:
    """``[{"key": k, "value": v}]``: Step Functions."""
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def from_key_value(items: list[dict[str, str]]) -> dict[str, str]:
    """Read either spelling back into a plain dict."""
    out: dict[str, str] = {}
    for item in items:
        key = item.get("Key", item.get("key"))
        value = item.get("Value", item.get("value", ""))
        if key is not None:
            out[str(key)] = str(value)
    return out


def check_not_foreign(kind: str, name: str, current: dict[str, str], wanted: dict[str, str]) -> None:
    """Refuse to update a resource that exists under our name but is not tagged as this deployment:
    taking it over would rewrite someone else's role, topic or function, and ``destroy`` (which
    trusts the tags) would then delete it."""
    if all(current.get(key) == wanted.get(key) for key in (MANAGED_KEY, DEPLOYMENT_KEY)):
        return
    from scones.aws.errors import ForeignResourceError

    owner = (f"scones deployment {current[DEPLOYMENT_KEY]!r}" if current.get(MANAGED_KEY) == "true"
             and DEPLOYMENT_KEY in current else "something other than scones")
    raise ForeignResourceError(
        f"The {kind} {name!r} already exists and belongs to {owner}; refusing to take it over",
        hint="deploy with another --prefix, or remove or rename that resource yourself")
