"""``--template``: the same stack as a CloudFormation template, checked by cfn-lint."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_harness import BUCKET, REGION, Inputs, deploy_kwargs

from scones.aws.deploy import deploy_aws
from scones.aws.plan import Action
from scones.aws.sagemaker import EndpointSpec, data_capture_config
from scones.aws.session import AwsClients
from scones.aws.template import write_template

pytestmark = pytest.mark.xdist_group("test_aws_template")  # keeps the module's moto fixtures on one worker


def template_kwargs() -> dict[str, Any]:
    kwargs = deploy_kwargs()
    kwargs.pop("sleep")
    return kwargs


@pytest.fixture(scope="module")
def clients() -> Iterator[AwsClients]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        c = AwsClients.from_session(boto3.session.Session(region_name=REGION))
        c.s3.create_bucket(Bucket=BUCKET)
        yield c


@pytest.fixture(scope="module")
def written(clients: AwsClients, inputs: Inputs, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("template") / "scones.template.json"
    plan = write_template(clients, inputs.options(), path, **template_kwargs())
    return path, plan


def lint(path: Path) -> list[str]:
    from cfnlint.api import lint as cfn_lint

    return [str(m) for m in cfn_lint(path.read_text(), regions=[REGION])]


def test_template_passes_cfn_lint(written: tuple[Path, Any]) -> None:
    assert lint(written[0]) == []


def test_cfn_lint_does_catch_mistakes(written: tuple[Path, Any], tmp_path: Path) -> None:
    # The check above means something only if cfn-lint flags a broken variant of the same template.
    template = json.loads(written[0].read_text())
    template["Resources"]["ClassifyImageFunction"]["Properties"]["Timeout"] = 7200
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(template))
    assert any("7200" in m for m in lint(broken))


def test_template_holds_the_whole_stack(written: tuple[Path, Any]) -> None:
    template = json.loads(written[0].read_text())
    types = sorted(r["Type"] for r in template["Resources"].values())
    assert types == sorted(["AWS::IAM::Role"] * 3 + ["AWS::Lambda::Function"] * 3 +
                           ["AWS::StepFunctions::StateMachine"] * 2 +
                           ["AWS::SNS::Topic", "AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig",
                            "AWS::SageMaker::Endpoint"])
    for resource in template["Resources"].values():
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        assert tags == {"scones:managed": "true", "scones:deployment": "scones"}
    config = template["Resources"]["EndpointConfig"]["Properties"]
    assert config["DataCaptureConfig"] == data_capture_config(EndpointSpec(
        image_uri="", model_data_url="", model_sha256="", role_arn="",
        capture_uri=f"s3://{BUCKET}/scones/data_capture"))
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 100
    env = template["Resources"]["FilterInferencesFunction"]["Properties"]["Environment"]["Variables"]
    assert env == {"THRESHOLD": "0.9"}


def test_state_machines_substitute_every_placeholder(written: tuple[Path, Any]) -> None:
    template = json.loads(written[0].read_text())
    machines = [r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert len(machines) == 2
    for props in machines:
        placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", props["DefinitionString"]))
        assert placeholders == set(props["DefinitionSubstitutions"])
        assert props["DefinitionSubstitutions"]["classifyImageArn"] == {"Fn::GetAtt": ["ClassifyImageFunction", "Arn"]}
        assert props["DefinitionSubstitutions"]["FailureTopicArn"] == {"Ref": "FailureTopic"}
        json.loads(props["DefinitionString"])


def test_artifacts_the_template_refers_to_are_uploaded(clients: AwsClients, written: tuple[Path, Any]) -> None:
    template = json.loads(written[0].read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            code = resource["Properties"]["Code"]
            assert clients.s3.head_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["ContentLength"] > 0
    clients.s3.head_object(Bucket=BUCKET, Key="scones/model/model.tar.gz")


def test_template_names_match_a_direct_deployment(clients: AwsClients, inputs: Inputs,
                                                  written: tuple[Path, Any]) -> None:
    template = json.loads(written[0].read_text())
    plan = deploy_aws(clients, inputs.options(), apply=False, **deploy_kwargs()).plan
    model = next(c.name for c in plan.changes if c.kind == "sagemaker model")
    config = next(c.name for c in plan.changes if c.kind == "sagemaker endpoint config")
    assert template["Resources"]["EndpointModel"]["Properties"]["ModelName"] == model
    assert template["Resources"]["EndpointConfig"]["Properties"]["EndpointConfigName"] == config


def test_dry_run_writes_the_template_and_uploads_nothing(clients: AwsClients, inputs: Inputs, tmp_path: Path) -> None:
    path = tmp_path / "dry.json"
    plan = write_template(clients, inputs.options(prefix="scones-dry"), path, apply=False, **template_kwargs())
    assert {c.action for c in plan.changes} == {Action.CREATE}
    assert clients.s3.list_objects_v2(Bucket=BUCKET, Prefix="scones-dry/").get("KeyCount", 0) == 0
    assert json.loads(path.read_text())["Resources"]


def test_unwritable_template_path_fails_before_any_upload(clients: AwsClients, inputs: Inputs,
                                                         tmp_path: Path) -> None:
    from scones.errors import StoreError

    (tmp_path / "file").write_text("x")
    for path in (tmp_path / "file" / "stack.json", tmp_path):
        with pytest.raises(StoreError, match="Cannot write"):
            write_template(clients, inputs.options(prefix="scones-unwritable"), path, apply=True, **template_kwargs())
    assert clients.s3.list_objects_v2(Bucket=BUCKET, Prefix="scones-unwritable/").get("KeyCount", 0) == 0


def test_given_role_means_no_iam_resources(clients: AwsClients, inputs: Inputs, tmp_path: Path) -> None:
    path = tmp_path / "byo.json"
    role = "arn:aws:iam::123456789012:role/admin-made"
    write_template(clients, inputs.options(role_arn=role), path, apply=False, **template_kwargs())
    template = json.loads(path.read_text())
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert template["Resources"]["ClassifyImageFunction"]["Properties"]["Role"] == role
    assert lint(path) == []
