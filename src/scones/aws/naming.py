"""Names and ARNs of everything one deployment owns, derived from its prefix.

All ARNs are computed up front from account, region and name, so a dry run can
write the policies and state machine definitions of resources that do not exist yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from scones.errors import UsageError

#: The three Lambda functions, by the name the workflow definitions use for them.
FUNCTIONS: Final = ("serializeImageData", "classifyImage", "filterInferences")
#: Workflow definition file stem -> state machine name suffix.
STATE_MACHINES: Final = {"scones": "workflow", "scones-batch": "workflow-batch"}
VARIANT_NAME: Final = "AllTraffic"

_PREFIX_RE: Final = re.compile(r"^[a-z0-9](-?[a-z0-9])*$")


ROLE_ARN: Final = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
#: S3's rules for new buckets: 3-63 lower-case letters, digits, dots and dashes, letter or digit at both ends
#: (docs/aws-facts.md, S3).
BUCKET_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_role_arn(role_arn: str, option: str = "--role-arn") -> str:
    if not ROLE_ARN.match(role_arn):
        raise UsageError(f"{option} {role_arn!r} is not an IAM role ARN",
                         hint="e.g. arn:aws:iam::123456789012:role/SconesRole")
    return role_arn


def check_bucket_name(bucket: str, option: str = "--bucket") -> str:
    if not BUCKET_NAME.match(bucket) or ".." in bucket:
        raise UsageError(f"{option} {bucket!r} is not an S3 bucket name",
                         hint="3-63 lower-case letters, digits, dots and dashes, e.g. my-scones-bucket")
    return bucket


def check_instance_type(instance_type: str) -> str:
    if not re.fullmatch(r"ml\.[a-z0-9]+\.[a-z0-9]+", instance_type):
        raise UsageError(f"Not a SageMaker instance type: {instance_type!r}", hint="e.g. ml.m5.xlarge")
    return instance_type


def check_prefix(prefix: str) -> str:
    """A prefix names S3 folders, IAM roles, functions and an endpoint: keep it to what all accept."""
    if not _PREFIX_RE.match(prefix) or len(prefix) > 24:
        raise UsageError(f"Prefix {prefix!r} cannot name AWS resources",
                         hint="use 1-24 lower-case letters, digits and single dashes, e.g. 'scones'")
    return prefix


@dataclass(frozen=True)
class Names:
    """Names and ARNs for deployment ``prefix`` in one account and region."""

    prefix: str
    bucket: str
    account: str
    region: str
    partition: str = "aws"

    # -- S3 layout -----------------------------------------------------
    @property
    def dataset_prefix(self) -> str:
        return f"{self.prefix}/dataset"

    @property
    def model_key(self) -> str:
        return f"{self.prefix}/model/model.tar.gz"

    @property
    def functions_prefix(self) -> str:
        return f"{self.prefix}/functions"

    @property
    def capture_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/data_capture"

    @property
    def model_data_url(self) -> str:
        return f"s3://{self.bucket}/{self.model_key}"

    def s3_arn(self, key_pattern: str) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}/{key_pattern}"

    # -- resources -----------------------------------------------------
    def role(self, service: str) -> str:
        return f"{self.prefix}-{service}-role"

    def role_arn(self, service: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{self.role(service)}"

    def function(self, base: str) -> str:
        return f"{self.prefix}-{base}"

    def function_arn(self, base: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.function(base)}"

    @property
    def endpoint(self) -> str:
        return f"{self.prefix}-endpoint"

    @property
    def endpoint_arn(self) -> str:
        # SageMaker ARNs carry the resource name in lower case (docs/aws-facts.md, SageMaker hosting container).
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:endpoint/{self.endpoint.lower()}"

    def model(self, digest: str) -> str:
        return f"{self.prefix}-model-{digest[:12]}"

    def endpoint_config(self, digest: str) -> str:
        return f"{self.prefix}-config-{digest[:12]}"

    @property
    def topic(self) -> str:
        return f"{self.prefix}-failures"

    @property
    def topic_arn(self) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account}:{self.topic}"

    def state_machine(self, stem: str) -> str:
        return f"{self.prefix}-{STATE_MACHINES[stem]}"

    def state_machine_arn(self, stem: str) -> str:
        return (f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:"
                f"{self.state_machine(stem)}")

    def log_group_arn(self, pattern: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{pattern}"
