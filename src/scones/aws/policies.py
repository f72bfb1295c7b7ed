"""Least-privilege IAM documents for the three roles a deployment creates.

Pure functions of the deployment's names, so tests can read every statement and
the CloudFormation template reuses the very same documents.

- functions: read only the dataset prefix, invoke only this endpoint, write their own logs;
- state machines: invoke only these three functions, publish only to this topic;
- SageMaker: read only this model artifact, write only the capture prefix, pull only
  the serving image's repository, write only this endpoint's logs.
"""

from __future__ import annotations

import re
from typing import Any, Final

from scones.aws.naming import FUNCTIONS, Names

VERSION: Final = "2012-10-17"
SERVICES: Final = {"lambda": "lambda.amazonaws.com", "states": "states.amazonaws.com",
                   "sagemaker": "sagemaker.amazonaws.com"}
POLICY_NAME: Final = "scones-least-privilege"

_ECR_RE: Final = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
                            r"(?P<repo>[^:@]+)")

Document = dict[str, Any]


def trust_policy(service: str, names: Names) -> Document:
    """Only ``service`` may assume the role.

    Step Functions documents (and its console writes) the confused-deputy guard: only state
    machines of this account. Lambda and SageMaker get the plain trust their guides show; a
    condition those services do not send would make the role unusable, silently, on AWS only.
    """
    statement: Document = {"Effect": "Allow", "Principal": {"Service": SERVICES[service]}, "Action": "sts:AssumeRole"}
    if service == "states":
        statement["Condition"] = {
            "StringEquals": {"aws:SourceAccount": names.account},
            "ArnLike": {"aws:SourceArn": f"arn:{names.partition}:states:{names.region}:{names.account}:stateMachine:*"},
        }
    return {"Version": VERSION, "Statement": [statement]}


def lambda_policy(names: Names) -> Document:
    return {"Version": VERSION, "Statement": [
        {"Sid": "ReadDatasetPrefix", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": names.s3_arn(f"{names.dataset_prefix}/*")},
        {"Sid": "InvokeThisEndpoint", "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint",
         "Resource": names.endpoint_arn},
        {"Sid": "WriteOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [names.log_group_arn(f"/aws/lambda/{names.prefix}-*"),
                      names.log_group_arn(f"/aws/lambda/{names.prefix}-*:*")]},
    ]}


def states_policy(names: Names) -> Document:
    arns = [names.function_arn(f) for f in FUNCTIONS]
    # ":*" covers qualified invocations such as the console's "...:function:x:$LATEST".
    return {"Version": VERSION, "Statement": [
        {"Sid": "InvokeTheseFunctions", "Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": arns + [f"{arn}:*" for arn in arns]},
        {"Sid": "PublishFailures", "Effect": "Allow", "Action": "sns:Publish", "Resource": names.topic_arn},
    ]}


def ecr_repository_arn(image_uri: str, partition: str = "aws") -> str | None:
    """The ECR repository ARN of an image URI, or None for an image hosted elsewhere."""
    match = _ECR_RE.match(image_uri)
    if not match:
        return None
    return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"


def sagemaker_policy(names: Names, image_uri: str) -> Document:
    statements: list[Document] = [
        {"Sid": "ReadThisModel", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": names.s3_arn(names.model_key)},
        {"Sid": "WriteDataCapture", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": names.s3_arn(f"{names.prefix}/data_capture/*")},
        {"Sid": "WriteEndpointLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogStreams"],
         "Resource": [names.log_group_arn(f"/aws/sagemaker/Endpoints/{names.endpoint}"),
                      names.log_group_arn(f"/aws/sagemaker/Endpoints/{names.endpoint}:*")]},
        {"Sid": "PublishEndpointMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
         "Resource": "*",
         "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}},
    ]
    repo = ecr_repository_arn(image_uri, names.partition)
    if repo:
        statements += [
            {"Sid": "PullServingImage", "Effect": "Allow",
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
             "Resource": repo},
            # GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource
            # (docs/aws-facts.md, IAM and SNS).
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        ]
    return {"Version": VERSION, "Statement": statements}


def role_policies(names: Names, image_uri: str) -> dict[str, Document]:
    """Service -> inline policy of its role."""
    return {"lambda": lambda_policy(names), "states": states_policy(names),
            "sagemaker": sagemaker_policy(names, image_uri)}
