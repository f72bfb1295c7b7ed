"""``scones deploy aws``: the same artifacts as the local workflow, deployed to AWS.

Order matters only where AWS needs it: data and model in S3 and the roles
first, then the topic, the endpoint (whose long start-up we wait for last),
the functions and the state machines. Every step compares before it changes,
so the returned plan is the dry-run preview, the report of a real run, and
"no change" when run twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from scones.aws import definitions, iam, lambda_functions, policies, s3, sagemaker, sns, stepfunctions
from scones.aws.artifacts import BuildZip, LoadDefinition, collect_artifacts
from scones.aws.destroy import prune_superseded
from scones.aws.errors import RegionMismatchError
from scones.aws.naming import (
    FUNCTIONS,
    STATE_MACHINES,
    Names,
    check_bucket_name,
    check_instance_type,
    check_prefix,
    check_role_arn,
)
from scones.aws.plan import Action, Change, Plan
from scones.aws.session import AwsClients
from scones.aws.tags import deployment_tags
from scones.errors import UsageError

LOG = logging.getLogger(__name__)

DESCRIPTIONS: Final = {"lambda": "scones workflow functions", "states": "scones state machines",
                       "sagemaker": "scones endpoint"}

@dataclass(frozen=True)
class DeployOptions:
    bucket: str
    dataset_uri: str
    model_uri: str
    prefix: str = "scones"
    image_uri: str | None = None
    role_arn: str | None = None
    threshold: float | None = None  # None: filterInferences' own default
    instance_type: str = "ml.m5.xlarge"
    sampling_percentage: int = 100

    def __post_init__(self) -> None:
        """Everything checkable without AWS, checked before anything is created or uploaded."""
        check_bucket_name(self.bucket)
        check_instance_type(self.instance_type)
        if self.role_arn is not None:
            check_role_arn(self.role_arn)
        if self.image_uri is not None and policies.ecr_repository_arn(self.image_uri) is None:
            raise UsageError(f"--image-uri {self.image_uri!r} is not an Amazon ECR image URI",
                             hint="SageMaker pulls from ECR: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG")


@dataclass
class DeployResult:
    plan: Plan
    names: Names
    applied: bool

    @property
    def endpoint_name(self) -> str:
        return self.names.endpoint

    @property
    def state_machine_arns(self) -> dict[str, str]:
        return {stem: self.names.state_machine_arn(stem) for stem in STATE_MACHINES}

    @property
    def function_arns(self) -> dict[str, str]:
        return {f: self.names.function_arn(f) for f in FUNCTIONS}


def resolve_names(clients: AwsClients, options: DeployOptions) -> Names:
    check_prefix(options.prefix)
    return Names(prefix=options.prefix, bucket=options.bucket, account=clients.account_id(),
                 region=clients.region, partition=clients.partition())


def endpoint_spec(names: Names, options: DeployOptions, model_sha256: str, role_arn: str) -> sagemaker.EndpointSpec:
    if not options.image_uri:
        raise UsageError("No serving image given",
                         hint="build the endpoint image (docker/Dockerfile), push it to ECR and pass --image-uri")
    repository = policies.ecr_repository_arn(options.image_uri, names.partition)
    if repository and repository.split(":")[3] != names.region:
        raise RegionMismatchError(f"The image {options.image_uri} is in {repository.split(':')[3]}, but you are "
                                  f"deploying to {names.region}; SageMaker pulls images only from its own region",
                                  hint=f"push the image to ECR in {names.region} (or deploy to its region)")
    return sagemaker.EndpointSpec(image_uri=options.image_uri, model_data_url=names.model_data_url,
                                  model_sha256=model_sha256, role_arn=role_arn,
                                  capture_uri=names.capture_uri, instance_type=options.instance_type,
                                  sampling_percentage=options.sampling_percentage)


def function_environment(base: str, names: Names, threshold: float) -> dict[str, str]:
    return {"classifyImage": {"ENDPOINT_NAME": names.endpoint},
            "filterInferences": {"THRESHOLD": repr(float(threshold))}}.get(base, {})


def function_specs(names: Names, zips: dict[str, bytes], role_arn: str,
                   threshold: float | None) -> list[lambda_functions.FunctionSpec]:
    """Timeouts, memory and descriptions come from the functions' own catalog, as the local runtime uses them."""
    from scones.functions.catalog import function_info
    from scones.functions.helper import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"Threshold {threshold} is outside 0-1", hint="pass --threshold between 0 and 1")
    specs = []
    for base in FUNCTIONS:
        info = function_info(base)
        specs.append(lambda_functions.FunctionSpec(
            name=names.function(base), handler=lambda_functions.handler_for(base, zips[base]),
            role_arn=role_arn, zip_bytes=zips[base], environment=function_environment(base, names, threshold),
            timeout=info.timeout_seconds, memory=info.memory_mb, description=info.description))
    return specs


def prepared_definitions(names: Names, raw: dict[str, definitions.Definition], *,
                         function_arns: dict[str, str] | None = None,
                         topic_arn: str | None = None) -> dict[str, definitions.Definition]:
    """The definitions as sent to Step Functions (the template passes ``${...}`` placeholders as ARNs)."""
    arns = function_arns or {f: names.function_arn(f) for f in FUNCTIONS}
    return {stem: definitions.prepare(d, function_arns=arns, topic_arn=topic_arn or names.topic_arn,
                                      machine=names.state_machine(stem))
            for stem, d in raw.items()}


def deploy_aws(clients: AwsClients, options: DeployOptions, *, apply: bool = True, wait: bool = True,
               build_zip: BuildZip | None = None, load_definition: LoadDefinition | None = None,
               show_progress: bool = True, sleep: Callable[[float], None] = time.sleep,
               endpoint_timeout: float = 1800.0, on_change: Callable[[Change], None] | None = None) -> DeployResult:
    """Deploy (``apply=True``) or plan (``apply=False``, changes nothing) one scones deployment.

    ``on_change`` hears of each change as soon as it is made (the CLI prints it).
    """
    names = resolve_names(clients, options)
    s3.check_bucket(clients.s3, options.bucket, clients.region)
    artifacts = collect_artifacts(options.dataset_uri, options.model_uri, build_zip=build_zip,
                                  load_definition=load_definition, s3_client=clients.s3)
    tags = deployment_tags(options.prefix)
    roles = ({service: options.role_arn for service in policies.SERVICES} if options.role_arn
             else {service: names.role_arn(service) for service in policies.SERVICES})
    # Build every request before the first change, so a bad option fails with nothing half-deployed.
    spec = endpoint_spec(names, options, artifacts.model_sha256, roles["sagemaker"])
    model_request = sagemaker.model_request(spec, names)
    config_request = sagemaker.endpoint_config_request(spec, names, model_request["ModelName"])
    functions = function_specs(names, artifacts.zips, roles["lambda"], options.threshold)
    machines = prepared_definitions(names, artifacts.workflows)
    plan = Plan(listener=on_change)

    plan.add(s3.sync_store(clients.s3, artifacts.dataset, options.bucket, names.dataset_prefix, apply=apply,
                           show_progress=show_progress))
    plan.add(s3.upload_bytes(clients.s3, options.bucket, names.model_key, artifacts.model_bytes, apply=apply))

    if not options.role_arn:
        documents = policies.role_policies(names, spec.image_uri)
        for service in policies.SERVICES:
            plan.add(iam.ensure_role(clients.iam, names.role(service),
                                     trust=policies.trust_policy(service, names),
                                     policy_name=policies.POLICY_NAME, policy=documents[service], tags=tags,
                                     description=DESCRIPTIONS[service], apply=apply))

    plan.add(sns.ensure_topic(clients.sns, names.topic, names.topic_arn, tags=tags, apply=apply))

    plan.add(sagemaker.ensure_model(clients.sagemaker, model_request, tags=tags, apply=apply, sleep=sleep))
    plan.add(sagemaker.ensure_endpoint_config(clients.sagemaker, config_request, tags=tags, apply=apply))
    endpoint_change = plan.add(sagemaker.ensure_endpoint(clients.sagemaker, names.endpoint,
                                                         config_request["EndpointConfigName"], tags=tags,
                                                         apply=apply))

    for fn in functions:
        plan.add(lambda_functions.ensure_function(clients.lambda_, fn, tags=tags, apply=apply, sleep=sleep))

    for stem, definition in machines.items():
        plan.add(stepfunctions.ensure_state_machine(
            clients.sfn, names.state_machine(stem), names.state_machine_arn(stem), definition=definition,
            role_arn=roles["states"], tags=tags, apply=apply, sleep=sleep))

    if apply and wait:
        current = sagemaker.describe_endpoint(clients.sagemaker, names.endpoint) or {}
        if endpoint_change.action is not Action.NO_CHANGE or current.get("EndpointStatus") != sagemaker.IN_SERVICE:
            current = sagemaker.wait_for_endpoint(clients.sagemaker, names.endpoint, show_progress=show_progress,
                                                  sleep=sleep, timeout_seconds=endpoint_timeout)
        sagemaker.check_serving(current, config_request["EndpointConfigName"])
        # Only once the endpoint serves the new config may the old ones go (SageMaker rolls back to them).
        plan.extend(prune_superseded(clients, options.prefix, keep_model=model_request["ModelName"],
                                     keep_config=config_request["EndpointConfigName"], apply=True))
    LOG.info("deployment %s: %s", options.prefix, plan.summary())
    return DeployResult(plan=plan, names=names, applied=apply)
