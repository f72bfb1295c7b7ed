"""Find what one deployment owns, by its tags — the only record of what scones created.

Names narrow the search (``<prefix>-...``) so we read tags of few resources;
the tags decide. A resource that merely looks like ours keeps its life.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scones.aws.errors import is_not_found, wrap
from scones.aws.session import AwsClients
from scones.aws.tags import from_key_value, is_ours


@dataclass(frozen=True)
class Owned:
    kind: str
    name: str
    arn: str


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _safe_tags(read: Any, what: str) -> dict[str, str]:
    try:
        return dict(read())
    except Exception as exc:
        if is_not_found(exc):
            return {}
        raise wrap(exc, action="read the tags of", resource=what) from exc


def state_machines(clients: AwsClients, prefix: str) -> list[Owned]:
    out = []
    for sm in _pages(clients.sfn, "list_state_machines", "stateMachines"):
        if sm["name"].startswith(f"{prefix}-") and is_ours(_safe_tags(
                lambda: from_key_value(clients.sfn.list_tags_for_resource(resourceArn=sm["stateMachineArn"])
                                       .get("tags", [])), sm["name"]), prefix):
            out.append(Owned("state machine", sm["name"], sm["stateMachineArn"]))
    return out


def functions(clients: AwsClients, prefix: str) -> list[Owned]:
    out = []
    for fn in _pages(clients.lambda_, "list_functions", "Functions"):
        if fn["FunctionName"].startswith(f"{prefix}-") and is_ours(_safe_tags(
                lambda: clients.lambda_.list_tags(Resource=fn["FunctionArn"]).get("Tags", {}),
                fn["FunctionName"]), prefix):
            out.append(Owned("lambda function", fn["FunctionName"], fn["FunctionArn"]))
    return out


def _sagemaker(clients: AwsClients, prefix: str, operation: str, key: str, name_key: str, arn_key: str,
               kind: str) -> list[Owned]:
    out = []
    for item in _pages(clients.sagemaker, operation, key, NameContains=prefix):
        if item[name_key].startswith(f"{prefix}-") and is_ours(_safe_tags(
                lambda: from_key_value(clients.sagemaker.list_tags(ResourceArn=item[arn_key]).get("Tags", [])),
                item[name_key]), prefix):
            out.append(Owned(kind, item[name_key], item[arn_key]))
    return out


def endpoints(clients: AwsClients, prefix: str) -> list[Owned]:
    return _sagemaker(clients, prefix, "list_endpoints", "Endpoints", "EndpointName", "EndpointArn",
                      "sagemaker endpoint")


def endpoint_configs(clients: AwsClients, prefix: str) -> list[Owned]:
    return _sagemaker(clients, prefix, "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName",
                      "EndpointConfigArn", "sagemaker endpoint config")


def models(clients: AwsClients, prefix: str) -> list[Owned]:
    return _sagemaker(clients, prefix, "list_models", "Models", "ModelName", "ModelArn", "sagemaker model")


def topics(clients: AwsClients, prefix: str) -> list[Owned]:
    out = []
    for topic in _pages(clients.sns, "list_topics", "Topics"):
        arn = topic["TopicArn"]
        name = arn.rsplit(":", 1)[-1]
        if name.startswith(f"{prefix}-") and is_ours(_safe_tags(
                lambda: from_key_value(clients.sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])),
                name), prefix):
            out.append(Owned("sns topic", name, arn))
    return out


def roles(clients: AwsClients, prefix: str) -> list[Owned]:
    out = []
    for role in _pages(clients.iam, "list_roles", "Roles"):
        if role["RoleName"].startswith(f"{prefix}-") and is_ours(_safe_tags(
                lambda: from_key_value(clients.iam.list_role_tags(RoleName=role["RoleName"]).get("Tags", [])),
                role["RoleName"]), prefix):
            out.append(Owned("iam role", role["RoleName"], role["Arn"]))
    return out
