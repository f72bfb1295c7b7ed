"""The SageMaker training job against moto: upload, job definition, follow, download."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scones.errors import UsageError
from scones.model_artifact import load_model
from scones.testing import tiny_model_tarball
from scones.train.config import TrainConfig
from scones.train.sagemaker import SageMakerJobRequest, run_training_job, source_tarball
from scones.train.sagemaker_entry import assemble_dataset, parse_args

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bkt")
        yield boto3.client("sagemaker", region_name="us-east-1"), s3


def test_training_job_config_channels_and_download(aws: tuple[Any, Any], tiny_dataset: Path,
                                                   tmp_path: Path) -> None:
    sagemaker, s3 = aws
    request = SageMakerJobRequest.create(data_uri=str(tiny_dataset), out_uri=str(tmp_path / "model"),
                                         config=TrainConfig(arch="small_resnet", epochs=3, seed=7), role=ROLE,
                                         bucket="bkt", instance_type="ml.m5.large", job_name="job-1")
    # moto completes jobs at once; put the artifact where SageMaker would have written it.
    s3.put_object(Bucket="bkt", Key="scones/training/output/job-1/output/model.tar.gz",
                  Body=tiny_model_tarball(["red", "green"]))
    outcome = run_training_job(request, sagemaker=sagemaker, s3=s3, poll_seconds=0)

    job = sagemaker.describe_training_job(TrainingJobName="job-1")
    assert job["RoleArn"] == ROLE
    assert job["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert job["AlgorithmSpecification"]["TrainingImage"].startswith(
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:")
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert job["OutputDataConfig"]["S3OutputPath"] == "s3://bkt/scones/training/output"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    assert channels == {"train": "s3://bkt/scones/training/input/train/",
                        "validation": "s3://bkt/scones/training/input/validation/"}
    hp = job["HyperParameters"]
    assert {k: json.loads(v) for k, v in hp.items() if not k.startswith("sagemaker_")} == \
        {"arch": "small_resnet", "epochs": 3, "seed": 7}
    assert json.loads(hp["sagemaker_program"]) == "train_entry.py"
    source_uri = json.loads(hp["sagemaker_submit_directory"])
    assert source_uri == "s3://bkt/scones/training/job-1/source/sourcedir.tar.gz"

    # The channels hold one staged split each; the source holds the package and the entry script.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="bkt", Prefix="scones/training/input/")["Contents"]}
    assert "scones/training/input/train/train.lst" in keys and "scones/training/input/validation/test.lst" in keys
    assert sum(k.startswith("scones/training/input/train/train/") for k in keys) == 24
    assert sum(k.startswith("scones/training/input/validation/test/") for k in keys) == 8
    source = s3.get_object(Bucket="bkt", Key="scones/training/job-1/source/sourcedir.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(source)) as tar:
        names = set(tar.getnames())
    assert {"train_entry.py", "requirements.txt", "scones/train/sagemaker_entry.py", "scones/train/run.py"} <= names

    assert outcome.status == "Completed"
    assert outcome.model_s3_uri == "s3://bkt/scones/training/output/job-1/output/model.tar.gz"
    assert load_model(tmp_path / "model").classes == ["red", "green"]


def test_second_job_reuses_uploaded_channels(aws: tuple[Any, Any], tiny_dataset: Path, tmp_path: Path) -> None:
    sagemaker, s3 = aws
    for name in ("job-a", "job-b"):
        s3.put_object(Bucket="bkt", Key=f"scones/training/output/{name}/output/model.tar.gz", Body=tiny_model_tarball())
        request = SageMakerJobRequest.create(data_uri=str(tiny_dataset), out_uri=str(tmp_path / name),
                                             config=TrainConfig(), role=ROLE, bucket="bkt", job_name=name)
        run_training_job(request, sagemaker=sagemaker, s3=s3, poll_seconds=0)
        if name == "job-a":
            first = s3.head_object(Bucket="bkt", Key="scones/training/input/train/train.lst")["LastModified"]
    assert s3.head_object(Bucket="bkt", Key="scones/training/input/train/train.lst")["LastModified"] == first
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 2


@pytest.mark.parametrize("role, bucket, match", [(None, "b", "--role"), ("not-an-arn", "b", "--role"),
                                                  (ROLE, None, "--bucket")], ids=["no-role", "bad-role", "no-bucket"])
def test_bad_sagemaker_arguments(role: str | None, bucket: str | None, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        SageMakerJobRequest.create(data_uri="d", out_uri="o", config=TrainConfig(), role=role, bucket=bucket)


def channel_folders(dataset: Path, root: Path) -> dict[str, Path]:
    """The folders SageMaker mounts: per channel, dataset.json and its one split."""
    import shutil

    channels = {"train": root / "train", "validation": root / "validation"}
    for channel, split in (("train", "train"), ("validation", "test")):
        shutil.copytree(dataset / split, channels[channel] / split)
        shutil.copy(dataset / f"{split}.lst", channels[channel])
        shutil.copy(dataset / "dataset.json", channels[channel])
    return channels


def test_entry_point_joins_channels_and_reads_sdk_hyperparameters(tiny_dataset: Path, tmp_path: Path) -> None:
    joined = assemble_dataset(channel_folders(tiny_dataset, tmp_path), tmp_path / "joined")
    assert sorted(p.name for p in joined.iterdir()) == ["dataset.json", "test", "test.lst", "train", "train.lst"]
    args = parse_args(["--arch", '"small_resnet"', "--epochs", "2", "--seed", "5", "--sagemaker_program", "x"])
    assert (args.arch, args.epochs, args.seed) == ("small_resnet", 2, 5)


def test_entry_point_names_a_broken_channel(tiny_dataset: Path, tmp_path: Path) -> None:
    from scones.errors import DataError

    channels = channel_folders(tiny_dataset, tmp_path)
    (channels["validation"] / "test" / "red_test_000.png").unlink()
    with pytest.raises(DataError, match="validation is half-staged: 1 images of test.lst are missing"):
        assemble_dataset(channels, tmp_path / "joined")


def test_source_tarball_has_no_bytecode() -> None:
    with tarfile.open(fileobj=io.BytesIO(source_tarball())) as tar:
        assert not [n for n in tar.getnames() if n.endswith(".pyc") or "__pycache__" in n]


def test_entry_point_writes_only_the_two_members_to_model_dir(tiny_dataset: Path, tmp_path: Path) -> None:
    from scones.train.sagemaker_entry import main

    channels = channel_folders(tiny_dataset, tmp_path)
    env = {"SM_CHANNEL_TRAIN": str(channels["train"]), "SM_CHANNEL_VALIDATION": str(channels["validation"]),
           "SM_MODEL_DIR": str(tmp_path / "opt-model"), "SM_OUTPUT_DATA_DIR": str(tmp_path / "opt-output")}
    main(["--arch", '"small_resnet"', "--epochs", "1"], env)
    assert sorted(p.name for p in (tmp_path / "opt-model").iterdir()) == ["model.json", "model.onnx"]
    assert load_model(tmp_path / "opt-model").classes == ["red", "green"]
    assert (tmp_path / "opt-output" / "metrics.json").is_file()


def test_default_job_names_do_not_collide_within_a_second() -> None:
    from scones.train.config import TrainConfig
    from scones.train.sagemaker import SageMakerJobRequest

    names = {SageMakerJobRequest.create(data_uri="d", out_uri="o", config=TrainConfig(), role=ROLE,
                                        bucket="bkt").job_name for _ in range(20)}
    assert len(names) == 20 and all(len(n) <= 63 for n in names)
