"""The SNS topic that state machine failures are published to."""

from __future__ import annotations

from typing import Any

from scones.aws.errors import is_not_found, wrap
from scones.aws.plan import Action, Change
from scones.aws.tags import as_key_value, check_not_foreign, from_key_value

KIND = "sns topic"


def topic_tags(sns: Any, arn: str) -> dict[str, str] | None:
    """The topic's tags, or None when it does not exist."""
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return from_key_value(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise wrap(exc, action="read", resource=f"SNS topic {arn}") from exc


def ensure_topic(sns: Any, name: str, arn: str, *, tags: dict[str, str], apply: bool) -> Change:
    current = topic_tags(sns, arn)
    if current is not None:
        check_not_foreign(KIND, name, current, tags)
    if current is not None and all(current.get(k) == v for k, v in tags.items()):
        return Change(KIND, name, Action.NO_CHANGE)
    if apply:
        try:
            if current is None:
                sns.create_topic(Name=name, Tags=as_key_value(tags))
            else:
                sns.tag_resource(ResourceArn=arn, Tags=as_key_value(tags))
        except Exception as exc:
            raise wrap(exc, action="create" if current is None else "tag", resource=f"SNS topic {name!r}") from exc
    return Change(KIND, name, Action.CREATE if current is None else Action.UPDATE,
                  "" if current is None else "tags")


def delete_topic(sns: Any, arn: str) -> None:
    try:
        sns.delete_topic(TopicArn=arn)
    except Exception as exc:
        if not is_not_found(exc):
            raise wrap(exc, action="delete", resource=f"SNS topic {arn}") from exc
