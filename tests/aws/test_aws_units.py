"""Smaller pieces against in-process moto: checksum skipping, IAM drift, handler lookup, run errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_harness import BUCKET, REGION

from scones.aws import iam, lambda_functions, s3
from scones.aws.errors import AwsError, NotDeployedError
from scones.aws.plan import Action, Change, Plan
from scones.aws.run import ExecutionResult, ExecutionStatus, run_on_aws
from scones.aws.session import AwsClients
from scones.errors import WorkflowError
from scones.store import LocalStore

pytestmark = pytest.mark.xdist_group("test_aws_units")  # keeps the module's moto fixtures on one worker


@pytest.fixture
def clients() -> Iterator[AwsClients]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        c = AwsClients.from_session(boto3.session.Session(region_name=REGION))
        c.s3.create_bucket(Bucket=BUCKET)
        yield c


def test_sync_uploads_only_what_changed(clients: AwsClients, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        store.put_text(name, name)
    first = s3.sync_store(clients.s3, store, BUCKET, "p/data", apply=True, show_progress=False)
    assert first.action is Action.CREATE
    store.put_text("b.txt", "changed")
    store.put_text("d.txt", "new")
    second = s3.sync_store(clients.s3, store, BUCKET, "p/data", apply=True, show_progress=False)
    assert (second.action, second.detail) == (Action.UPDATE, "2 of 4 objects to upload, 2 unchanged")
    assert clients.s3.get_object(Bucket=BUCKET, Key="p/data/b.txt")["Body"].read() == b"changed"
    assert s3.sync_store(clients.s3, store, BUCKET, "p/data", apply=True, show_progress=False).action \
        is Action.NO_CHANGE


def test_non_md5_etag_falls_back_to_the_sha256_metadata(clients: AwsClients) -> None:
    s3.upload_bytes(clients.s3, BUCKET, "k", b"data", apply=True)
    # A multipart or SSE-KMS ETag is not the MD5 of the bytes: only the metadata can tell.
    assert s3._same(clients.s3, BUCKET, "k", b"data", "0123abcd-2")
    assert not s3._same(clients.s3, BUCKET, "k", b"other", "0123abcd-2")


def test_role_drift_is_repaired_in_place(clients: AwsClients) -> None:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::b/p/*"}]}
    kwargs = {"trust": trust, "policy_name": "p", "tags": {"scones:managed": "true"}, "description": "d"}
    assert iam.ensure_role(clients.iam, "r", policy=policy, apply=True, **kwargs).action is Action.CREATE
    # Someone widens the policy by hand and adds another one.
    clients.iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(
        {**policy, "Statement": [{**policy["Statement"][0], "Resource": "*"}]}))
    clients.iam.put_role_policy(RoleName="r", PolicyName="extra", PolicyDocument=json.dumps(policy))
    change = iam.ensure_role(clients.iam, "r", policy=policy, apply=True, **kwargs)
    assert (change.action, change.detail) == (Action.UPDATE, "policy, stale policies")
    assert clients.iam.list_role_policies(RoleName="r")["PolicyNames"] == ["p"]
    assert iam.ensure_role(clients.iam, "r", policy=policy, apply=True, **kwargs).action is Action.NO_CHANGE


def test_handler_is_found_in_the_zip() -> None:
    from scones.aws.package import build_function_zip
    from scones.functions.catalog import function_info

    assert lambda_functions.handler_for("classifyImage", build_function_zip("classifyImage")) == \
        function_info("classifyImage").handler
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("filter_inferences.py", "")  # a flat layout works too
    assert lambda_functions.handler_for("filterInferences", buf.getvalue()) == "filter_inferences.lambda_handler"
    with pytest.raises(AwsError, match="no classify_image.py"):
        lambda_functions.handler_for("classifyImage", buf.getvalue())
    with pytest.raises(AwsError, match="not a zip"):
        lambda_functions.handler_for("classifyImage", b"nope")


def test_run_before_deploy_says_what_to_do(clients: AwsClients) -> None:
    with pytest.raises(NotDeployedError, match="does not exist") as exc:
        run_on_aws(clients, {"s3_bucket": BUCKET, "s3_key": "k"}, show_progress=False)
    assert "scones deploy aws" in exc.value.format_message()


def test_oversized_input_is_refused(clients: AwsClients) -> None:
    with pytest.raises(WorkflowError, match="at most 262144"):
        run_on_aws(clients, {"image": "x" * 300_000}, show_progress=False)


def test_execution_result_reads_describe_execution() -> None:
    ok = ExecutionResult.from_describe({"executionArn": "arn:x", "status": "SUCCEEDED", "output": '{"a": 1}'})
    assert (ok.status, ok.output) == (ExecutionStatus.SUCCEEDED, {"a": 1})
    assert ok.result() == {"status": "SUCCEEDED", "output": {"a": 1}, "error": None, "cause": None,
                           "executionArn": "arn:x"}
    failed = ExecutionResult.from_describe({"executionArn": "arn:x", "status": "FAILED", "error": "E", "cause": "C"})
    assert failed.result()["status"] == "FAILED" and failed.result()["output"] is None
    with pytest.raises(AwsError, match="ended FAILED: E \\(C\\)"):
        failed.check()


def test_plan_summary() -> None:
    plan = Plan([Change("a", "1", Action.CREATE), Change("b", "2", Action.NO_CHANGE)])
    assert plan.summary() == "1 to create, 1 unchanged"
    assert plan.render().splitlines()[0].startswith("+ create")
    assert Plan([Change("b", "2", Action.NO_CHANGE)]).summary() == "no change: everything is up to date"


def test_artifacts_can_come_from_s3_through_the_given_client(clients: AwsClients, tmp_path: Path) -> None:
    from aws_harness import make_inputs

    from scones.aws.artifacts import collect_artifacts
    from scones.errors import DataError

    local = make_inputs(tmp_path)
    model = (local.model / "model.tar.gz").read_bytes()
    clients.s3.put_object(Bucket=BUCKET, Key="staged/model/model.tar.gz", Body=model)
    files = sorted(p.relative_to(local.dataset).as_posix() for p in local.dataset.rglob("*") if p.is_file())
    for name in files:
        clients.s3.put_object(Bucket=BUCKET, Key=f"staged/dataset/{name}", Body=(local.dataset / name).read_bytes())
    artifacts = collect_artifacts(f"s3://{BUCKET}/staged/dataset", f"s3://{BUCKET}/staged/model/model.tar.gz",
                                  s3_client=clients.s3)
    assert artifacts.model_bytes == model
    assert artifacts.dataset.list() == files
    clients.s3.delete_object(Bucket=BUCKET, Key="staged/dataset/train/train_1.png")  # now half-staged
    with pytest.raises(DataError, match="half-staged"):
        collect_artifacts(f"s3://{BUCKET}/staged/dataset", f"s3://{BUCKET}/staged/model/model.tar.gz",
                          s3_client=clients.s3)


def _client_error(code: str, message: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateFunction")


def test_new_roles_are_retried_until_assumable() -> None:
    answers: list[Exception | str] = [
        _client_error("InvalidParameterValueException",
                      "The role defined for the function cannot be assumed by Lambda."),
        _client_error("ValidationException", "Could not assume role arn:aws:iam::1:role/r"), "created"]
    slept: list[float] = []

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert iam.retry_while_role_propagates(call, sleep=slept.append) == "created"
    assert slept == [3.0, 3.0]


def test_other_errors_are_not_retried() -> None:
    def call() -> None:
        raise _client_error("ValidationException", "Runtime python2.7 is not supported")

    with pytest.raises(Exception, match="python2.7"):
        iam.retry_while_role_propagates(call, sleep=lambda s: pytest.fail("must not retry"))


@pytest.mark.parametrize(("code", "expected", "hint"), [
    ("InvalidClientTokenId", "CredentialsError", "aws configure"),
    ("ExpiredToken", "CredentialsError", "aws configure"),
    ("AccessDenied", "AwsError", "aws sts get-caller-identity"),
], ids=["bad-key", "expired", "denied"])
def test_sdk_errors_become_errors_that_say_what_to_do(code: str, expected: str, hint: str) -> None:
    import boto3
    from botocore.stub import Stubber

    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    clients = AwsClients.from_session(session)
    with Stubber(clients.sts) as stub:
        stub.add_client_error("get_caller_identity", service_error_code=code, service_message="nope")
        with pytest.raises(AwsError) as exc:
            clients.account_id()
    assert type(exc.value).__name__ == expected
    assert hint in exc.value.format_message()
    assert exc.value.__cause__ is not None  # the SDK error stays chained


def test_ctrl_c_while_waiting_names_the_execution_that_keeps_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C used to print only 'Aborted!': the execution went on running on AWS with no ARN shown."""
    import scones.aws.run as run_module
    from scones.errors import WorkflowError

    arn = "arn:aws:states:us-east-1:123456789012:execution:scones-workflow:x"

    class Clients:
        region = "us-east-1"
        sfn = type("Sfn", (), {"start_execution": staticmethod(lambda **kw: {"executionArn": arn})})()

        @staticmethod
        def account_id() -> str:
            return "123456789012"

        @staticmethod
        def partition() -> str:
            return "aws"

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "wait_for_execution", interrupted)
    with pytest.raises(WorkflowError, match="keeps running on AWS: " + arn):
        run_module.run_on_aws(Clients(), {"s3_key": "k"}, show_progress=False)  # type: ignore[arg-type]
