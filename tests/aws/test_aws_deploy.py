"""``deploy_aws`` end to end against moto, in-process (``mock_aws``) and over HTTP (moto server).

One deployment per backend is shared by the module (moto is slowish); tests that
need their own deployment use another prefix in the same backend, which also
proves that deployments never touch each other.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_harness import ACCOUNT, BUCKET, IMAGE, REGION, Backend, Inputs, deploy_kwargs, moto_backend

from scones.aws import inventory, policies
from scones.aws.definitions import load_definition
from scones.aws.deploy import DeployResult, deploy_aws, prepared_definitions
from scones.aws.destroy import destroy_aws
from scones.aws.naming import FUNCTIONS, Names
from scones.aws.package import build_function_zip
from scones.aws.plan import Action
from scones.aws.run import ExecutionStatus, run_batch_on_aws, run_on_aws
from scones.functions.catalog import function_info
from scones.workflow.notifications import FailureNotification

pytestmark = pytest.mark.xdist_group("test_aws_deploy")  # keeps the module's moto fixtures on one worker

NAMES = Names(prefix="scones", bucket=BUCKET, account=ACCOUNT, region=REGION)


@dataclass(frozen=True)
class Deployed:
    backend: Backend
    inputs: Inputs
    first: DeployResult
    second: DeployResult

    @property
    def clients(self) -> Any:
        return self.backend.clients


@pytest.fixture(scope="module", params=["mock_aws", "moto_server"])
def deployed(request: pytest.FixtureRequest, inputs: Inputs) -> Iterator[Deployed]:
    with moto_backend(request.param) as backend:
        first = deploy_aws(backend.clients, inputs.options(), **deploy_kwargs())
        second = deploy_aws(backend.clients, inputs.options(), **deploy_kwargs())
        yield Deployed(backend, inputs, first, second)


def test_first_run_creates_every_resource(deployed: Deployed) -> None:
    plan = deployed.first.plan
    assert {c.action for c in plan.changes} == {Action.CREATE}
    kinds = [c.kind for c in plan.changes]
    assert kinds.count("iam role") == 3
    assert kinds.count("lambda function") == 3
    assert kinds.count("state machine") == 2
    for kind in ("s3 objects", "s3 object", "sns topic", "sagemaker model", "sagemaker endpoint config",
                 "sagemaker endpoint"):
        assert kinds.count(kind) == 1, kind


def test_second_run_reports_no_change(deployed: Deployed) -> None:
    plan = deployed.second.plan
    assert not plan.has_changes
    assert [c.action for c in plan.changes] == [Action.NO_CHANGE] * len(deployed.first.plan.changes)
    assert plan.render().splitlines()[-1] == "no change: everything is up to date"


def test_dataset_and_model_are_in_s3_with_their_checksums(deployed: Deployed) -> None:
    s3 = deployed.clients.s3
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="scones/dataset/")["Contents"]
    local = sorted(p.relative_to(deployed.inputs.dataset).as_posix()
                   for p in deployed.inputs.dataset.rglob("*") if p.is_file())
    assert sorted(o["Key"].removeprefix("scones/dataset/") for o in listed) == local
    png = s3.get_object(Bucket=BUCKET, Key="scones/dataset/train/train_0.png")["Body"].read()
    assert png == (deployed.inputs.dataset / "train" / "train_0.png").read_bytes()
    model = s3.get_object(Bucket=BUCKET, Key="scones/model/model.tar.gz")
    data = model["Body"].read()
    assert data == (deployed.inputs.model / "model.tar.gz").read_bytes()
    assert model["Metadata"]["scones-sha256"] == hashlib.sha256(data).hexdigest()


def test_endpoint_config_captures_every_request_and_response(deployed: Deployed) -> None:
    sm = deployed.clients.sagemaker
    endpoint = sm.describe_endpoint(EndpointName="scones-endpoint")
    assert endpoint["EndpointStatus"] == "InService"
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{BUCKET}/scones/data_capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }
    [variant] = config["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["InstanceType"] == "ml.m5.xlarge"
    assert variant["InitialInstanceCount"] == 1
    model = sm.describe_model(ModelName=variant["ModelName"])
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{BUCKET}/scones/model/model.tar.gz"
    assert model["ExecutionRoleArn"] == NAMES.role_arn("sagemaker")


def test_functions_have_handlers_environment_and_timeouts(deployed: Deployed) -> None:
    lam = deployed.clients.lambda_
    expected = {
        "serializeImageData": ({}, 10, 128),
        "classifyImage": ({"ENDPOINT_NAME": "scones-endpoint"}, 30, 256),
        "filterInferences": ({"THRESHOLD": "0.9"}, 3, 128),
    }
    for base, (env, timeout, memory) in expected.items():
        config = lam.get_function(FunctionName=f"scones-{base}")["Configuration"]
        assert config["Handler"] == function_info(base).handler
        assert config["Runtime"] == "python3.12"
        assert (config["Timeout"], config["MemorySize"]) == (timeout, memory)
        assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(build_function_zip(base)).digest()).decode()
        assert config.get("Environment", {}).get("Variables", {}) == env
        assert config["Role"] == NAMES.role_arn("lambda")


def _policy(clients: Any, role: str) -> dict[str, Any]:
    doc = clients.iam.get_role_policy(RoleName=role, PolicyName=policies.POLICY_NAME)["PolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else dict(doc)


def _statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["Statement"] if s.get("Sid") == sid)


def test_roles_are_least_privilege(deployed: Deployed) -> None:
    clients = deployed.clients
    assert clients.iam.list_role_policies(RoleName="scones-lambda-role")["PolicyNames"] == [policies.POLICY_NAME]
    lam = _policy(clients, "scones-lambda-role")
    assert lam == policies.lambda_policy(NAMES)
    assert _statement(lam, "ReadDatasetPrefix")["Resource"] == f"arn:aws:s3:::{BUCKET}/scones/dataset/*"
    assert _statement(lam, "InvokeThisEndpoint") == {
        "Sid": "InvokeThisEndpoint", "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint",
        "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/scones-endpoint"}
    states = _policy(clients, "scones-states-role")
    invoke = _statement(states, "InvokeTheseFunctions")
    arns = [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:scones-{f}" for f in FUNCTIONS]
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert sorted(invoke["Resource"]) == sorted(arns + [a + ":*" for a in arns])
    assert _statement(states, "PublishFailures")["Resource"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:scones-failures"
    sagemaker_doc = _policy(clients, "scones-sagemaker-role")
    assert _statement(sagemaker_doc, "ReadThisModel")["Resource"] == \
        f"arn:aws:s3:::{BUCKET}/scones/model/model.tar.gz"
    assert _statement(sagemaker_doc, "PullServingImage")["Resource"] == \
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/scones-serve"
    for doc in (lam, states, sagemaker_doc):
        wildcard = [s["Sid"] for s in doc["Statement"] if s["Resource"] == "*"]
        assert set(wildcard) <= {"EcrLogin", "PublishEndpointMetrics"}
    trust = clients.iam.get_role(RoleName="scones-states-role")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def _tasks(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Task states at the top level."""
    return [s for s in definition["States"].values() if s["Type"] == "Task"]


def _nested_tasks(states: dict[str, Any]) -> list[dict[str, Any]]:
    """Task states at any depth (Map iterators, Parallel branches)."""
    found = []
    for state in states.values():
        if state["Type"] == "Task":
            found.append(state)
        for inner in [state.get("ItemProcessor") or state.get("Iterator") or {}] + state.get("Branches", []):
            found += _nested_tasks(inner.get("States", {}))
    return found


def test_state_machines_call_these_functions_and_publish_failures(deployed: Deployed) -> None:
    sfn = deployed.clients.sfn
    arns = {f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:scones-{f}" for f in FUNCTIONS}
    for stem, arn in deployed.first.state_machine_arns.items():
        described = sfn.describe_state_machine(stateMachineArn=arn)
        assert described["roleArn"] == NAMES.role_arn("states")
        definition = json.loads(described["definition"])
        assert definition == prepared_definitions(NAMES, {stem: load_definition(stem)})[stem]
        invoked = [t["Parameters"]["FunctionName"] for t in _nested_tasks(definition["States"])
                   if t["Resource"] == "arn:aws:states:::lambda:invoke"]
        assert invoked and {name.split(":$LATEST")[0] for name in invoked} <= arns
        publishes = [t for t in _tasks(definition) if t["Resource"] == "arn:aws:states:::sns:publish"]
        assert publishes
        assert {t["Parameters"]["TopicArn"] for t in publishes} == {f"arn:aws:sns:{REGION}:{ACCOUNT}:scones-failures"}
        for state in definition["States"].values():
            if state["Type"] in ("Task", "Map", "Parallel") and state.get("Resource") != "arn:aws:states:::sns:publish":
                assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"])


def test_every_resource_is_tagged(deployed: Deployed) -> None:
    clients = deployed.clients
    found = {
        "state machine": inventory.state_machines(clients, "scones"),
        "function": inventory.functions(clients, "scones"),
        "endpoint": inventory.endpoints(clients, "scones"),
        "endpoint config": inventory.endpoint_configs(clients, "scones"),
        "model": inventory.models(clients, "scones"),
        "topic": inventory.topics(clients, "scones"),
        "role": inventory.roles(clients, "scones"),
    }
    assert {k: len(v) for k, v in found.items()} == {"state machine": 2, "function": 3, "endpoint": 1,
                                                     "endpoint config": 1, "model": 1, "topic": 1, "role": 3}
    tags = clients.lambda_.list_tags(Resource=deployed.first.function_arns["classifyImage"])["Tags"]
    assert tags == {"scones:managed": "true", "scones:deployment": "scones"}


def test_run_on_aws_returns_the_workflow_output(deployed: Deployed) -> None:
    inferred = {"statusCode": 200, "body": {"image_data": "aGk=", "s3_bucket": BUCKET,
                                            "s3_key": "scones/dataset/test/test_0.png", "inferences": [0.95, 0.05]}}
    deployed.backend.queue([{"statusCode": 200, "body": {"image_data": "aGk="}}, inferred, inferred])
    result = run_on_aws(deployed.clients, {"s3_bucket": BUCKET, "s3_key": "scones/dataset/test/test_0.png"},
                        show_progress=False, poll_seconds=0.05, timeout_seconds=60)
    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.output == inferred
    assert result.check() is result
    assert result.execution_arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:scones-workflow:")


def test_run_batch_on_aws_runs_the_batch_state_machine(deployed: Deployed) -> None:
    key = "scones/dataset/test/test_0.png"
    body = {"image_data": "aGk=", "s3_bucket": BUCKET, "s3_key": key, "inferences": [0.95, 0.05]}
    deployed.backend.queue([{"statusCode": 200, "body": body}] * 3)
    # One key, so the batch definition's Map and a single-image stand-in both make three calls.
    result = run_batch_on_aws(deployed.clients, {"s3_bucket": BUCKET, "s3_key": key, "keys": [key]},
                              show_progress=False, poll_seconds=0.05, timeout_seconds=60)
    assert result.status is ExecutionStatus.SUCCEEDED, (result.error, result.cause)
    assert result.execution_arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:scones-workflow-batch:")
    assert key in json.dumps(result.output)


def test_failed_run_is_published_to_the_topic(deployed: Deployed) -> None:
    sqs = deployed.backend.client("sqs")
    queue_url = sqs.create_queue(QueueName="failures-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deployed.clients.sns.subscribe(TopicArn=NAMES.topic_arn, Protocol="sqs",
                                   Endpoint=queue_arn)
    # serializeImageData answers without a body: classifyImage's "$.body" path fails; the catcher the
    # deployer added describes and publishes the failure, then fails naming the original error.
    deployed.backend.queue([{"statusCode": 200}])
    execution_input = {"s3_bucket": BUCKET, "s3_key": "scones/dataset/test/test_0.png"}
    result = run_on_aws(deployed.clients, execution_input, show_progress=False, poll_seconds=0.05,
                        timeout_seconds=60)
    assert result.status is ExecutionStatus.FAILED
    assert result.error == "scones.WorkflowFailed"
    assert (result.cause or "").startswith("States.Runtime: ")
    with pytest.raises(Exception, match="ended FAILED"):
        result.check()
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == "scones: scones-workflow failed"
    assert envelope["MessageAttributes"]["execution"]["Value"] == result.execution_arn
    published = json.loads(envelope["Message"])
    # The same shape the local backend publishes, read by the same reader.
    notification = FailureNotification.from_json(published)
    assert notification.execution_arn == result.execution_arn
    assert notification.execution_name == result.execution_arn.rsplit(":", 1)[1]
    assert (notification.status, notification.error) == ("FAILED", "States.Runtime")
    assert result.cause == f"{notification.error}: {notification.cause}"
    assert json.loads(published["input"]) == execution_input


def test_monitor_reads_the_capture_where_the_endpoint_writes_it(deployed: Deployed, shared_data: Path) -> None:
    from scones.monitor.report import ReportOptions, analyse

    # Put the real capture file where SageMaker writes it for this endpoint config:
    # <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl (docs/aws-facts.md, Data Capture).
    recorded = next((shared_data / "aws-recorded" / "data_capture").rglob("*.jsonl"))
    destination = deployed.clients.sagemaker.describe_endpoint_config(
        EndpointConfigName=deployed.clients.sagemaker.describe_endpoint(EndpointName="scones-endpoint")
        ["EndpointConfigName"])["DataCaptureConfig"]["DestinationS3Uri"]
    key = f"{destination.removeprefix(f's3://{BUCKET}/')}/scones-endpoint/AllTraffic/2025/10/04/08/{recorded.name}"
    deployed.clients.s3.put_object(Bucket=BUCKET, Key=key, Body=recorded.read_bytes())
    analysis = analyse(f"{destination}/scones-endpoint", None, ReportOptions(show_progress=False, workers=1),
                       s3_client=deployed.clients.s3)
    assert analysis.columns.count == len(recorded.read_bytes().splitlines())
    assert analysis.columns.issues.total == 0


def test_changed_threshold_updates_only_that_function(deployed: Deployed) -> None:
    clients = deployed.clients
    dry = deploy_aws(clients, deployed.inputs.options(threshold=0.75), apply=False, **deploy_kwargs())
    updates = [c for c in dry.plan.changes if c.action is not Action.NO_CHANGE]
    assert [(c.kind, c.name, c.detail) for c in updates] == [("lambda function", "scones-filterInferences",
                                                             "environment")]
    env = clients.lambda_.get_function(FunctionName="scones-filterInferences")["Configuration"]["Environment"]
    assert env["Variables"]["THRESHOLD"] == "0.9"  # the dry run changed nothing
    applied = deploy_aws(clients, deployed.inputs.options(threshold=0.75), **deploy_kwargs())
    assert applied.plan.count(Action.UPDATE) == 1
    env = clients.lambda_.get_function(FunctionName="scones-filterInferences")["Configuration"]["Environment"]
    assert env["Variables"]["THRESHOLD"] == "0.75"
    back = deploy_aws(clients, deployed.inputs.options(), **deploy_kwargs())
    assert back.plan.count(Action.UPDATE) == 1
    assert not deploy_aws(clients, deployed.inputs.options(), **deploy_kwargs()).plan.has_changes


def test_dry_run_of_a_new_deployment_changes_nothing(deployed: Deployed) -> None:
    clients = deployed.clients
    heard: list[Any] = []
    plan = deploy_aws(clients, deployed.inputs.options(prefix="scones-dry"), apply=False, on_change=heard.append,
                      **deploy_kwargs()).plan
    assert heard == plan.changes  # reported one by one, as they are planned
    assert {c.action for c in plan.changes} == {Action.CREATE}
    assert len(plan.changes) == len(deployed.first.plan.changes)
    assert clients.s3.list_objects_v2(Bucket=BUCKET, Prefix="scones-dry/").get("KeyCount", 0) == 0
    assert destroy_aws(clients, "scones-dry", apply=False).changes == []
    assert not any(r["RoleName"].startswith("scones-dry-") for r in clients.iam.list_roles()["Roles"])


def test_destroy_removes_exactly_one_deployment(deployed: Deployed) -> None:
    clients = deployed.clients
    deploy_aws(clients, deployed.inputs.options(prefix="scones-two"), **deploy_kwargs())
    # Look-alikes that scones did not create: untagged, or tagged for nobody.
    clients.iam.create_role(RoleName="scones-two-foreign-role", AssumeRolePolicyDocument=json.dumps(
        policies.trust_policy("lambda", NAMES)))
    foreign_topic = clients.sns.create_topic(Name="scones-two-other",
                                             Tags=[{"Key": "scones:deployment", "Value": "scones-two"}])["TopicArn"]
    clients.s3.put_object(Bucket=BUCKET, Key="scones-two/notes.txt", Body=b"mine")
    before_main = {c.name for c in destroy_aws(clients, "scones", apply=False).changes}

    dry = destroy_aws(clients, "scones-two", bucket=BUCKET, apply=False, delete_data=True)
    assert len(dry.changes) == 12 + 2  # 12 resources, dataset and model objects
    assert inventory.functions(clients, "scones-two")  # the dry run deleted nothing

    done = destroy_aws(clients, "scones-two", bucket=BUCKET, delete_data=True)
    assert {c.action for c in done.changes} == {Action.DELETE}
    assert destroy_aws(clients, "scones-two", apply=False).changes == []
    assert not [f for f in clients.lambda_.list_functions()["Functions"]
                if f["FunctionName"].startswith("scones-two-")]
    roles = {r["RoleName"] for r in clients.iam.list_roles()["Roles"]}
    assert "scones-two-foreign-role" in roles and "scones-two-lambda-role" not in roles
    assert foreign_topic in {t["TopicArn"] for t in clients.sns.list_topics()["Topics"]}
    keys = [o["Key"] for o in clients.s3.list_objects_v2(Bucket=BUCKET, Prefix="scones-two/").get("Contents", [])]
    assert keys == ["scones-two/notes.txt"]
    # The other deployment is untouched.
    assert {c.name for c in destroy_aws(clients, "scones", apply=False).changes} == before_main
    assert not deploy_aws(clients, deployed.inputs.options(), **deploy_kwargs()).plan.has_changes


def test_given_role_replaces_the_three_roles(deployed: Deployed) -> None:
    clients = deployed.clients
    role_arn = clients.iam.create_role(RoleName="admin-made-role", AssumeRolePolicyDocument=json.dumps(
        policies.trust_policy("lambda", NAMES)))["Role"]["Arn"]
    result = deploy_aws(clients, deployed.inputs.options(prefix="scones-byo", role_arn=role_arn), **deploy_kwargs())
    assert not [c for c in result.plan.changes if c.kind == "iam role"]
    config = clients.lambda_.get_function(FunctionName="scones-byo-classifyImage")["Configuration"]
    assert config["Role"] == role_arn
    arn = result.state_machine_arns["scones"]
    assert clients.sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == role_arn
    destroy_aws(clients, "scones-byo")
    assert "admin-made-role" in {r["RoleName"] for r in clients.iam.list_roles()["Roles"]}
