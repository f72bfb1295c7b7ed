"""``scones destroy aws``: remove exactly what ``scones deploy aws`` created, found by its tags.

Deletion runs against the dependency order (state machines before the functions
and roles they use, the endpoint before its config and model). The bucket is
never deleted (scones never created it); uploaded data goes only when asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from scones.aws import iam, inventory, lambda_functions, sns, stepfunctions
from scones.aws.errors import is_not_found, wrap
from scones.aws.naming import Names, check_prefix
from scones.aws.plan import Action, Change, Plan
from scones.aws.session import AwsClients

LOG = logging.getLogger(__name__)


def _delete_sagemaker(call: Callable[[], Any], what: str) -> None:
    try:
        call()
    except Exception as exc:
        if not is_not_found(exc):
            raise wrap(exc, action="delete", resource=what) from exc


def _delete_prefix(s3: Any, bucket: str, prefix: str, *, apply: bool) -> Change | None:
    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
        if apply:
            for start in range(0, len(keys), 1000):
                batch = [{"Key": k} for k in keys[start:start + 1000]]
                s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    except Exception as exc:
        raise wrap(exc, action="delete objects under", resource=f"s3://{bucket}/{prefix}") from exc
    return Change("s3 objects", f"s3://{bucket}/{prefix}", Action.DELETE, f"{len(keys)} objects") if keys else None


def destroy_aws(clients: AwsClients, prefix: str = "scones", *, bucket: str | None = None, apply: bool = True,
                delete_data: bool = False) -> Plan:
    """Delete every resource tagged as deployment ``prefix`` (``apply=False`` only lists them)."""
    check_prefix(prefix)
    plan = Plan()

    def step(owned: list[inventory.Owned], delete: Callable[[inventory.Owned], None]) -> None:
        for item in owned:
            if apply:
                delete(item)
            plan.add(Change(item.kind, item.name, Action.DELETE))

    sm = clients.sagemaker
    step(inventory.state_machines(clients, prefix), lambda o: stepfunctions.delete_state_machine(clients.sfn, o.arn))
    step(inventory.functions(clients, prefix), lambda o: lambda_functions.delete_function(clients.lambda_, o.name))
    step(inventory.endpoints(clients, prefix),
         lambda o: _delete_sagemaker(lambda: sm.delete_endpoint(EndpointName=o.name), f"endpoint {o.name!r}"))
    step(inventory.endpoint_configs(clients, prefix),
         lambda o: _delete_sagemaker(lambda: sm.delete_endpoint_config(EndpointConfigName=o.name),
                                     f"endpoint config {o.name!r}"))
    step(inventory.models(clients, prefix),
         lambda o: _delete_sagemaker(lambda: sm.delete_model(ModelName=o.name), f"model {o.name!r}"))
    step(inventory.topics(clients, prefix), lambda o: sns.delete_topic(clients.sns, o.arn))
    step(inventory.roles(clients, prefix), lambda o: iam.delete_role(clients.iam, o.name))

    if delete_data and bucket:
        names = Names(prefix=prefix, bucket=bucket, account="", region=clients.region)
        for key_prefix in (names.dataset_prefix + "/", names.model_key, names.functions_prefix + "/"):
            change = _delete_prefix(clients.s3, bucket, key_prefix, apply=apply)
            if change:
                plan.add(change)
    LOG.info("destroy %s: %d resources", prefix, len(plan.changes))
    return plan


def prune_superseded(clients: AwsClients, prefix: str, *, keep_model: str, keep_config: str,
                     apply: bool) -> list[Change]:
    """Delete this deployment's endpoint configs and models that the endpoint no longer uses."""
    changes: list[Change] = []
    sm = clients.sagemaker
    for owned in inventory.endpoint_configs(clients, prefix):
        if owned.name != keep_config:
            if apply:
                _delete_sagemaker(lambda: sm.delete_endpoint_config(EndpointConfigName=owned.name),
                                  f"endpoint config {owned.name!r}")
            changes.append(Change(owned.kind, owned.name, Action.DELETE, "superseded"))
    for owned in inventory.models(clients, prefix):
        if owned.name != keep_model:
            if apply:
                _delete_sagemaker(lambda: sm.delete_model(ModelName=owned.name), f"model {owned.name!r}")
            changes.append(Change(owned.kind, owned.name, Action.DELETE, "superseded"))
    return changes
