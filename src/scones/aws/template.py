"""``scones deploy aws --template FILE``: the same stack as a CloudFormation template.

The template is built from the very same pieces as the direct deployment
(policies, DataCaptureConfig, function specs, prepared definitions), so the two
cannot drift apart. Function zips, the model and the dataset are uploaded to S3
because CloudFormation reads code and artifacts from there; everything else is
left to ``aws cloudformation deploy``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from scones.aws import policies, s3, sagemaker
from scones.aws.artifacts import BuildZip, LoadDefinition, collect_artifacts
from scones.aws.deploy import (
    DESCRIPTIONS,
    DeployOptions,
    endpoint_spec,
    function_specs,
    prepared_definitions,
    resolve_names,
)
from scones.aws.naming import FUNCTIONS, STATE_MACHINES, Names
from scones.aws.plan import Change, Plan
from scones.aws.session import AwsClients
from scones.aws.tags import as_key_value, deployment_tags
from scones.store import atomic_write_bytes, check_file_writable

ROLE_IDS: Final = {"lambda": "FunctionsRole", "states": "StateMachinesRole", "sagemaker": "EndpointRole"}
TOPIC_ID: Final = "FailureTopic"


def _logical(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", " ").split())


def function_key(names: Names, base: str, zip_bytes: bytes) -> str:
    return f"{names.functions_prefix}/{base}-{hashlib.sha256(zip_bytes).hexdigest()[:12]}.zip"


Resources = dict[str, Any]


def _roles(names: Names, options: DeployOptions, tags: list[dict[str, str]]) -> tuple[Resources, dict[str, Any]]:
    """The three roles (or none with ``--role-arn``), and how each service refers to its role."""
    if options.role_arn:
        return {}, {s: options.role_arn for s in policies.SERVICES}
    documents = policies.role_policies(names, options.image_uri or "")
    resources: Resources = {}
    refs: dict[str, Any] = {}
    for service, logical in ROLE_IDS.items():
        resources[logical] = {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": names.role(service), "Description": DESCRIPTIONS[service],
            "AssumeRolePolicyDocument": policies.trust_policy(service, names),
            "Policies": [{"PolicyName": policies.POLICY_NAME, "PolicyDocument": documents[service]}],
            "Tags": tags}}
        refs[service] = {"Fn::GetAtt": [logical, "Arn"]}
    return resources, refs


def _endpoint(names: Names, options: DeployOptions, model_sha256: str, role_ref: Any,
              tags: list[dict[str, str]]) -> Resources:
    # The same role ARN as a direct deployment, so models and configs get the same content-derived names.
    spec = endpoint_spec(names, options, model_sha256, options.role_arn or names.role_arn("sagemaker"))
    model = sagemaker.model_request(spec, names)
    config = sagemaker.endpoint_config_request(spec, names, model["ModelName"])
    variants = [{**v, "ModelName": {"Fn::GetAtt": ["EndpointModel", "ModelName"]}}
                for v in config["ProductionVariants"]]
    return {
        "EndpointModel": {"Type": "AWS::SageMaker::Model", "Properties": {
            "ModelName": model["ModelName"], "PrimaryContainer": dict(model["PrimaryContainer"]),
            "ExecutionRoleArn": role_ref, "Tags": tags}},
        "EndpointConfig": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {
            "EndpointConfigName": config["EndpointConfigName"], "ProductionVariants": variants,
            "DataCaptureConfig": config["DataCaptureConfig"], "Tags": tags}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": {
            "EndpointName": names.endpoint,
            "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]}, "Tags": tags}},
    }


def function_id(base: str) -> str:
    return _logical(base) + "Function"


def _functions(names: Names, options: DeployOptions, zips: dict[str, bytes], role_ref: Any,
               tags: list[dict[str, str]]) -> Resources:
    resources: Resources = {}
    specs = function_specs(names, zips, options.role_arn or names.role_arn("lambda"), options.threshold)
    for fn, base in zip(specs, FUNCTIONS, strict=True):
        props: dict[str, Any] = {
            "FunctionName": fn.name, "Runtime": fn.runtime, "Handler": fn.handler, "Role": role_ref,
            "Code": {"S3Bucket": names.bucket, "S3Key": function_key(names, base, zips[base])},
            "Timeout": fn.timeout, "MemorySize": fn.memory, "Description": fn.description, "Tags": tags}
        if fn.environment:
            props["Environment"] = {"Variables": fn.environment}
        resources[function_id(base)] = {"Type": "AWS::Lambda::Function", "Properties": props}
    return resources


def _state_machines(names: Names, definitions: dict[str, Any], role_ref: Any,
                    tags: list[dict[str, str]]) -> Resources:
    substitutions = {**{f"{base}Arn": {"Fn::GetAtt": [function_id(base), "Arn"]} for base in FUNCTIONS},
                     "FailureTopicArn": {"Ref": TOPIC_ID}}
    return {_logical(STATE_MACHINES[stem]) + "StateMachine": {
        "Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": names.state_machine(stem), "StateMachineType": "STANDARD", "RoleArn": role_ref,
            "DefinitionString": json.dumps(definition, indent=2), "DefinitionSubstitutions": substitutions,
            "Tags": tags}} for stem, definition in definitions.items()}


def build_template(names: Names, options: DeployOptions, *, model_sha256: str, zips: dict[str, bytes],
                   definitions: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template (a dict) for one deployment."""
    tags = as_key_value(deployment_tags(names.prefix))
    resources, role_refs = _roles(names, options, tags)
    resources[TOPIC_ID] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": names.topic, "Tags": tags}}
    resources.update(_endpoint(names, options, model_sha256, role_refs["sagemaker"], tags))
    resources.update(_functions(names, options, zips, role_refs["lambda"], tags))
    machines = _state_machines(names, definitions, role_refs["states"], tags)
    resources.update(machines)
    outputs: dict[str, Any] = {"EndpointName": {"Value": {"Fn::GetAtt": ["Endpoint", "EndpointName"]}},
                               "FailureTopicArn": {"Value": {"Ref": TOPIC_ID}},
                               **{logical + "Arn": {"Value": {"Ref": logical}} for logical in machines}}
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"scones deployment '{names.prefix}': endpoint with Data Capture, three Lambda "
                           "functions, two state machines, failure topic",
            "Resources": resources, "Outputs": outputs}


def template_definitions(names: Names, raw: dict[str, Any]) -> dict[str, Any]:
    """Definitions whose ARNs are ``${...}`` placeholders filled by ``DefinitionSubstitutions``."""
    arns = {base: "${" + base + "Arn}" for base in FUNCTIONS}
    return prepared_definitions(names, raw, function_arns=arns, topic_arn="${FailureTopicArn}")


def write_template(clients: AwsClients, options: DeployOptions, path: str | Path, *, apply: bool = True,
                   build_zip: BuildZip | None = None, load_definition: LoadDefinition | None = None,
                   show_progress: bool = True, on_change: Callable[[Change], None] | None = None) -> Plan:
    """Upload what the template refers to (unless ``apply`` is false) and write the template to ``path``."""
    check_file_writable(Path(path))
    names = resolve_names(clients, options)
    s3.check_bucket(clients.s3, options.bucket, clients.region)
    artifacts = collect_artifacts(options.dataset_uri, options.model_uri, build_zip=build_zip,
                                  load_definition=load_definition, s3_client=clients.s3)
    plan = Plan(listener=on_change)
    plan.add(s3.sync_store(clients.s3, artifacts.dataset, options.bucket, names.dataset_prefix, apply=apply,
                           show_progress=show_progress))
    plan.add(s3.upload_bytes(clients.s3, options.bucket, names.model_key, artifacts.model_bytes, apply=apply))
    for base in FUNCTIONS:
        plan.add(s3.upload_bytes(clients.s3, options.bucket, function_key(names, base, artifacts.zips[base]),
                                 artifacts.zips[base], apply=apply))
    template = build_template(names, options, model_sha256=artifacts.model_sha256, zips=artifacts.zips,
                              definitions=template_definitions(names, artifacts.workflows))
    atomic_write_bytes(Path(path), (json.dumps(template, indent=2) + "\n").encode("utf-8"))
    return plan

