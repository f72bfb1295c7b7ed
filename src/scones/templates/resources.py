"""The resources of a template by logical id: their types, their names, and what ``Ref``/``Fn::GetAtt`` give.

Loaded (turned into declarations): Lambda functions and layers (SAM and plain
CloudFormation), state machines, S3 buckets. Skipped with one line each, because
they have no local meaning: everything else. A skipped resource whose identifiers
are well defined (an IAM role's ARN, an SNS topic's ARN, a SageMaker endpoint's
name...) can still be referred to; a reference to any other skipped resource is an
error, because the workflow would depend on something scones cannot run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from scones.templates.errors import TemplateError
from scones.templates.intrinsics import PARTITION, URL_SUFFIX

if TYPE_CHECKING:
    from scones.templates.intrinsics import Resolver

SERVERLESS_FUNCTION: Final = "AWS::Serverless::Function"
LAMBDA_FUNCTION: Final = "AWS::Lambda::Function"
SERVERLESS_LAYER: Final = "AWS::Serverless::LayerVersion"
LAMBDA_LAYER: Final = "AWS::Lambda::LayerVersion"
SERVERLESS_STATE_MACHINE: Final = "AWS::Serverless::StateMachine"
STATE_MACHINE: Final = "AWS::StepFunctions::StateMachine"
BUCKET: Final = "AWS::S3::Bucket"

FUNCTION_TYPES: Final = frozenset({SERVERLESS_FUNCTION, LAMBDA_FUNCTION})
LAYER_TYPES: Final = frozenset({SERVERLESS_LAYER, LAMBDA_LAYER})
STATE_MACHINE_TYPES: Final = frozenset({SERVERLESS_STATE_MACHINE, STATE_MACHINE})
LOADED_TYPES: Final = FUNCTION_TYPES | LAYER_TYPES | STATE_MACHINE_TYPES | {BUCKET}

#: The property that names a resource; without it the logical id does (what SAM local does for functions).
NAME_PROPERTIES: Final = {
    SERVERLESS_FUNCTION: "FunctionName", LAMBDA_FUNCTION: "FunctionName",
    SERVERLESS_LAYER: "LayerName", LAMBDA_LAYER: "LayerName",
    SERVERLESS_STATE_MACHINE: "Name", STATE_MACHINE: "StateMachineName",
    BUCKET: "BucketName",
    "AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SNS::Topic": "TopicName", "AWS::SQS::Queue": "QueueName", "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SageMaker::Endpoint": "EndpointName", "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Model": "ModelName",
}

#: Skipped types with no local meaning (said once, quietly): permissions, logs, invocation settings.
_NO_LOCAL_MEANING: Final = ("AWS::IAM::", "AWS::Logs::", "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig",
                            "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::Lambda::Url",
                            "AWS::CloudWatch::", "AWS::SNS::", "AWS::SQS::", "AWS::KMS::")


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    condition: str | None

    @property
    def where(self) -> str:
        return f"Resources.{self.logical_id}.Properties"


@dataclass(frozen=True)
class Identifiers:
    """What ``Ref`` gives and which attributes ``Fn::GetAtt`` knows, for one type, from name, region and account."""

    ref: Callable[[str, str, str], Any]
    attributes: Mapping[str, Callable[[str, str, str], Any]]


def _arn(service: str, resource: str) -> Callable[[str, str, str], str]:
    return lambda name, region, account: f"arn:{PARTITION}:{service}:{region}:{account}:{resource}{name}"


def _name(name: str, region: str, account: str) -> str:
    return name


_FUNCTION = Identifiers(_name, {"Arn": _arn("lambda", "function:")})
_STATE_MACHINE = Identifiers(_arn("states", "stateMachine:"), {"Arn": _arn("states", "stateMachine:"),
                                                               "Name": _name})
_LAYER = Identifiers(lambda n, r, a: f"arn:{PARTITION}:lambda:{r}:{a}:layer:{n}:1", {})
IDENTIFIERS: Final[Mapping[str, Identifiers]] = {
    SERVERLESS_FUNCTION: _FUNCTION, LAMBDA_FUNCTION: _FUNCTION,
    SERVERLESS_STATE_MACHINE: _STATE_MACHINE, STATE_MACHINE: _STATE_MACHINE,
    SERVERLESS_LAYER: _LAYER, LAMBDA_LAYER: _LAYER,
    BUCKET: Identifiers(_name, {"Arn": lambda n, r, a: f"arn:{PARTITION}:s3:::{n}",
                                "DomainName": lambda n, r, a: f"{n}.s3.{URL_SUFFIX}",
                                "RegionalDomainName": lambda n, r, a: f"{n}.s3.{r}.{URL_SUFFIX}"}),
    # A role is never checked locally: its ARN is a placeholder in the one local account.
    "AWS::IAM::Role": Identifiers(_name, {"Arn": lambda n, r, a: f"arn:{PARTITION}:iam::{a}:role/{n}"}),
    "AWS::IAM::ManagedPolicy": Identifiers(lambda n, r, a: f"arn:{PARTITION}:iam::{a}:policy/{n}", {}),
    "AWS::SNS::Topic": Identifiers(_arn("sns", ""), {"TopicArn": _arn("sns", ""), "TopicName": _name}),
    "AWS::SQS::Queue": Identifiers(lambda n, r, a: f"https://sqs.{r}.{URL_SUFFIX}/{a}/{n}",
                                   {"Arn": _arn("sqs", ""), "QueueName": _name,
                                    "QueueUrl": lambda n, r, a: f"https://sqs.{r}.{URL_SUFFIX}/{a}/{n}"}),
    "AWS::Logs::LogGroup": Identifiers(_name, {"Arn": lambda n, r, a: f"arn:{PARTITION}:logs:{r}:{a}:log-group:{n}:*"}),
    "AWS::SageMaker::Endpoint": Identifiers(lambda n, r, a: _arn("sagemaker", "endpoint/")(n.lower(), r, a),
                                            {"EndpointName": _name}),
    "AWS::SageMaker::EndpointConfig": Identifiers(
        lambda n, r, a: _arn("sagemaker", "endpoint-config/")(n.lower(), r, a), {"EndpointConfigName": _name}),
    "AWS::SageMaker::Model": Identifiers(lambda n, r, a: _arn("sagemaker", "model/")(n.lower(), r, a),
                                         {"ModelName": _name}),
}


class ResourceTable:
    """The template's resources; answers ``Ref`` and ``Fn::GetAtt`` for the resolver."""

    def __init__(self, source: str, resources: Mapping[str, Any]) -> None:
        self.source = source
        self.resources: dict[str, Resource] = {}
        for logical_id, raw in resources.items():
            where = f"Resources.{logical_id}"
            if not isinstance(raw, Mapping) or not isinstance(raw.get("Type"), str):
                raise TemplateError(source, where, "must be a mapping with a Type", hint="e.g. Type: AWS::S3::Bucket")
            properties = raw.get("Properties") or {}
            if not isinstance(properties, Mapping):
                raise TemplateError(source, f"{where}.Properties", "must be a mapping")
            condition = raw.get("Condition")
            self.resources[str(logical_id)] = Resource(str(logical_id), raw["Type"], properties,
                                                       condition if isinstance(condition, str) else None)
        self.resolver: Resolver | None = None
        self._names: dict[str, str] = {}
        self._naming: list[str] = []

    def _resolver(self) -> Resolver:
        assert self.resolver is not None, "the loader sets the resolver before resolving anything"
        return self.resolver

    def exists(self, logical_id: str) -> bool:
        """Declared and not left out by a false ``Condition``."""
        resource = self.resources[logical_id]
        return resource.condition is None or self._resolver().condition(
            resource.condition, f"Resources.{logical_id}.Condition")

    def name_of(self, logical_id: str) -> str:
        """The resource's physical name: its name property (resolved), else its logical id (lower-cased for
        buckets, which S3 requires)."""
        if logical_id in self._names:
            return self._names[logical_id]
        resource = self.resources[logical_id]
        if logical_id in self._naming:
            raise TemplateError(self.source, resource.where, "the resource's name depends on itself: "
                                + " -> ".join([*self._naming, logical_id]))
        key = NAME_PROPERTIES.get(resource.type)
        self._naming.append(logical_id)
        try:
            if key and key in resource.properties:
                name = self._resolver().resolve_text(resource.properties[key], f"{resource.where}.{key}")
            else:
                name = logical_id.lower() if resource.type == BUCKET else logical_id
        finally:
            self._naming.pop()
        self._names[logical_id] = name
        return name

    # -- ResourceRefs ------------------------------------------------------------------

    def has(self, logical_id: str) -> bool:
        return logical_id in self.resources

    def _identifiers(self, logical_id: str, where: str) -> Identifiers:
        resource = self.resources[logical_id]
        if not self.exists(logical_id):
            raise TemplateError(self.source, where, f"refers to {logical_id!r}, which its condition "
                                f"{resource.condition!r} leaves out of the stack",
                                hint="guard the reference with Fn::If on the same condition")
        identifiers = IDENTIFIERS.get(resource.type)
        if identifiers is None:
            raise TemplateError(self.source, where, f"refers to {logical_id!r} ({resource.type}), which scones "
                                "does not run locally", hint="the workflow depends on it: write the value out, or "
                                "declare it as a Parameter with a Default to try the rest locally")
        return identifiers

    def ref(self, logical_id: str, where: str) -> Any:
        identifiers = self._identifiers(logical_id, where)
        resolver = self._resolver()
        return identifiers.ref(self.name_of(logical_id), resolver.region, resolver.account)

    def get_att(self, logical_id: str, attribute: str, where: str) -> Any:
        identifiers = self._identifiers(logical_id, where)
        if attribute not in identifiers.attributes:
            kind = self.resources[logical_id].type
            known = ", ".join(identifiers.attributes) or "none"
            raise TemplateError(self.source, where, f"Fn::GetAtt {logical_id}.{attribute}: scones knows no "
                                f"attribute {attribute!r} of {kind} (known: {known})")
        resolver = self._resolver()
        return identifiers.attributes[attribute](self.name_of(logical_id), resolver.region, resolver.account)


def skip_note(table: ResourceTable, resource: Resource) -> str:
    """The one line said for a resource scones does not load."""
    if resource.type == "AWS::SageMaker::Endpoint":
        try:
            name = table.name_of(resource.logical_id)
        except TemplateError:
            name = resource.logical_id
        return (f"{resource.logical_id} ({resource.type}): skipped; serve a model under the endpoint name "
                f"{name!r} locally")
    if resource.type.startswith("AWS::SageMaker::"):
        return f"{resource.logical_id} ({resource.type}): skipped; the model behind an endpoint is given to scones"
    if resource.type.startswith(_NO_LOCAL_MEANING):
        return f"{resource.logical_id} ({resource.type}): skipped, no local meaning"
    return f"{resource.logical_id} ({resource.type}): skipped, scones does not run it locally"
