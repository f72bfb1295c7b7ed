"""Mistakes a user can make before anything is created: each a SconesError naming the resource and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_harness import BUCKET, REGION, Inputs, deploy_kwargs

from scones.aws.deploy import deploy_aws
from scones.aws.errors import BucketNotFoundError, CredentialsError, MissingModelError, RegionMismatchError
from scones.aws.session import AwsClients, make_session
from scones.errors import DataError, ModelError, UsageError

pytestmark = pytest.mark.xdist_group("test_aws_errors")  # keeps the module's moto fixtures on one worker


@pytest.fixture
def clients() -> Iterator[AwsClients]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        c = AwsClients.from_session(session)
        c.s3.create_bucket(Bucket=BUCKET)
        yield c


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask the network for credentials


def test_missing_credentials(no_credentials: None) -> None:
    with pytest.raises(CredentialsError, match="No AWS credentials found") as exc:
        AwsClients.from_session(make_session(region=REGION))
    assert "aws configure" in exc.value.format_message()


def test_missing_region(no_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(UsageError, match="region") as exc:
        AwsClients.from_session(make_session())
    assert "--region" in exc.value.format_message()


def test_aws_region_is_honoured_like_aws_default_region(no_credentials: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert make_session().region_name == "eu-west-3"
    assert make_session(region="us-east-2").region_name == "us-east-2"  # --region still wins


def test_aws_calls_are_bounded_and_an_unreachable_endpoint_is_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not "check your credentials" after three minutes: every call has a timeout, and the identity
    probe (the first call of every command) tries once, briefly."""
    import socket

    from scones.errors import AwsError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as sock:  # a port with nothing listening: refused at once
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clients = AwsClients.from_session(make_session(region=REGION), endpoint_url=url)
    probe = clients.sts.meta.config
    assert (probe.connect_timeout, probe.read_timeout, probe.retries["total_max_attempts"]) == (5, 10, 1)
    for client in (clients.s3, clients.iam, clients.sagemaker, clients.lambda_, clients.sfn, clients.sns):
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (5, 30, 3)
    with pytest.raises(AwsError, match="Could not reach AWS to identify the caller") as exc:
        clients.account_id()
    assert not isinstance(exc.value, CredentialsError) and "network" in (exc.value.hint or "")


def test_unknown_profile(no_credentials: None) -> None:
    with pytest.raises(CredentialsError, match="'nobody'"):
        make_session(region=REGION, profile="nobody")


def test_missing_bucket(clients: AwsClients, inputs: Inputs) -> None:
    with pytest.raises(BucketNotFoundError, match="'not-there'") as exc:
        deploy_aws(clients, inputs.options(bucket="not-there"), **deploy_kwargs())
    assert "aws s3 mb s3://not-there" in exc.value.format_message()
    assert clients.iam.list_roles()["Roles"] == []  # failed before creating anything


def test_bucket_in_another_region(clients: AwsClients, inputs: Inputs) -> None:
    clients.s3.create_bucket(Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(RegionMismatchError, match="eu-west-1") as exc:
        deploy_aws(clients, inputs.options(bucket="far-away"), **deploy_kwargs())
    assert "--region eu-west-1" in exc.value.format_message()


def test_missing_model(clients: AwsClients, inputs: Inputs, tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match="No model.tar.gz") as exc:
        deploy_aws(clients, inputs.options(model_uri=str(tmp_path / "empty")), **deploy_kwargs())
    assert "scones train" in exc.value.format_message()
    assert clients.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_corrupt_model_is_not_shipped(clients: AwsClients, inputs: Inputs, tmp_path: Path) -> None:
    bad = tmp_path / "model.tar.gz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(ModelError, match="not a readable tar.gz"):
        deploy_aws(clients, inputs.options(model_uri=str(bad)), **deploy_kwargs())


def test_missing_dataset(clients: AwsClients, inputs: Inputs, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No dataset") as exc:
        deploy_aws(clients, inputs.options(dataset_uri=str(tmp_path / "nothing")), **deploy_kwargs())
    assert "scones data stage" in exc.value.format_message()


@pytest.mark.parametrize("damage", ["image-missing", "classes-swapped"])
def test_half_staged_or_mismatched_dataset_is_refused_before_upload(clients: AwsClients, tmp_path: Path,
                                                                    damage: str) -> None:
    import json

    from aws_harness import make_inputs

    from scones.data.dataset import build_dataset_json, load_dataset_info
    from scones.store import LocalStore

    local = make_inputs(tmp_path)
    if damage == "image-missing":
        (local.dataset / "train" / "train_1.png").unlink()
    else:  # a consistent dataset, but of other classes than the model's
        info = load_dataset_info(LocalStore(local.dataset))
        doc = build_dataset_json(["motorcycle", "bicycle"], {s: info.entries(s) for s in ("train", "test")},
                                 source_uri="synthetic", source_kind="folder", source_md5="0" * 32)
        (local.dataset / "dataset.json").write_text(json.dumps(doc))
    message = "half-staged" if damage == "image-missing" else r"model's classes \['bicycle', 'motorcycle'\] differ"
    with pytest.raises(DataError, match=message):
        deploy_aws(clients, local.options(), **deploy_kwargs())
    assert clients.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


@pytest.mark.parametrize("kind", ["iam role", "sns topic"])
def test_a_same_named_resource_scones_did_not_create_is_not_taken_over(clients: AwsClients, inputs: Inputs,
                                                                         kind: str) -> None:
    """Taking it over would rewrite it, and destroy (which trusts the tags) would then delete it."""
    import json

    from scones.aws.errors import ForeignResourceError

    dry = deploy_aws(clients, inputs.options(prefix="foreign"), apply=False, **deploy_kwargs())
    name = next(c.name for c in dry.plan.changes if c.kind == kind)
    if kind == "iam role":
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "ec2.amazonaws.com"}}]}
        clients.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    else:
        clients.sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "theirs"}])
    with pytest.raises(ForeignResourceError, match=f"{name!r} already exists and belongs to something other"):
        deploy_aws(clients, inputs.options(prefix="foreign"), **deploy_kwargs())
    if kind == "iam role":
        role = clients.iam.get_role(RoleName=name)["Role"]
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
        assert clients.iam.list_role_policies(RoleName=name)["PolicyNames"] == []


@pytest.mark.parametrize(("override", "message"), [
    ({"role_arn": "notanarn"}, "is not an IAM role ARN"),
    ({"instance_type": "bogus"}, "Not a SageMaker instance type"),
    ({"image_uri": "not a uri"}, "is not an Amazon ECR image URI"),
    ({"image_uri": "scones-serve:latest"}, "is not an Amazon ECR image URI"),
    ({"bucket": "Bad_Bucket!"}, "is not an S3 bucket name"),
])
def test_options_are_checked_before_anything_is_created(clients: AwsClients, inputs: Inputs,
                                                        override: dict[str, str], message: str) -> None:
    """A bad --role-arn or --instance-type used to fail half-way, after uploads, roles and a topic."""
    with pytest.raises(UsageError, match=message):
        deploy_aws(clients, inputs.options(**override), **deploy_kwargs())
    assert clients.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert clients.iam.list_roles()["Roles"] == [] and clients.sns.list_topics()["Topics"] == []


def test_missing_image_uri(clients: AwsClients, inputs: Inputs) -> None:
    with pytest.raises(UsageError, match="serving image") as exc:
        deploy_aws(clients, inputs.options(image_uri=None), **deploy_kwargs())
    assert "--image-uri" in exc.value.format_message()
    assert clients.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # nothing half-deployed


def test_bad_prefix(clients: AwsClients, inputs: Inputs) -> None:
    with pytest.raises(UsageError, match="Prefix 'Bad_Prefix'"):
        deploy_aws(clients, inputs.options(prefix="Bad_Prefix"), apply=False, **deploy_kwargs())


def test_image_in_another_region(clients: AwsClients, inputs: Inputs) -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/scones-serve:1"
    with pytest.raises(RegionMismatchError, match="image .* is in eu-west-1") as exc:
        deploy_aws(clients, inputs.options(image_uri=image), **deploy_kwargs())
    assert "push the image to ECR in us-east-1" in exc.value.format_message()
