"""The boto3 clients a deployment needs, built once from one session and passed down.

Every other module in ``scones.aws`` takes these clients as arguments (the
powertools habit), so tests hand in clients bound to moto and nothing deep
inside reads the environment or builds a client of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scones.aws.errors import CredentialsError, wrap
from scones.errors import UsageError

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class AwsClients:
    """One client per service, all in the same region and account."""

    region: str
    s3: Any
    iam: Any
    sts: Any
    sagemaker: Any
    lambda_: Any
    sfn: Any
    sns: Any

    @classmethod
    def from_session(cls, session: Any, *, endpoint_url: str | None = None) -> AwsClients:
        """Build the clients of ``session`` (a ``boto3.session.Session``).

        ``endpoint_url`` sends every service to one server (moto in tests);
        without it boto3's usual resolution applies, ``AWS_ENDPOINT_URL_<SERVICE>`` included.
        """
        region = session.region_name
        if not region:
            raise UsageError("No AWS region is configured",
                             hint="pass --region (or set AWS_REGION / AWS_DEFAULT_REGION)")
        if session.get_credentials() is None:
            raise CredentialsError(
                "No AWS credentials found",
                hint="run 'aws configure', or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        from botocore.config import Config

        kwargs: dict[str, Any] = {"region_name": region}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        # botocore's defaults (60 s reads, retried) let a silent endpoint hold a command for minutes.
        calls = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 3})
        # The identity check comes first in every command: one quick try says "cannot reach AWS" fast.
        probe = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 1})

        def make(service: str, config: Config = calls) -> Any:
            return session.client(service, config=config, **kwargs)

        return cls(region=region, s3=make("s3"), iam=make("iam"), sts=make("sts", probe),
                   sagemaker=make("sagemaker"), lambda_=make("lambda"), sfn=make("stepfunctions"),
                   sns=make("sns"))

    def account_id(self) -> str:
        """The caller's account, which also proves that the credentials work."""
        try:
            return str(self.sts.get_caller_identity()["Account"])
        except Exception as exc:  # botocore errors become ours at this boundary
            raise wrap(exc, action="identify the caller of", resource="AWS STS",
                       hint="check your credentials with 'aws sts get-caller-identity'") from exc

    def partition(self) -> str:
        meta = getattr(self.sts, "meta", None)
        if meta is not None:
            return str(meta.partition)
        return "aws"


def make_session(*, region: str | None = None, profile: str | None = None) -> Any:
    """A boto3 session for the CLI; ``region``/``profile`` fall back to boto3's own resolution."""
    import os

    import boto3
    from botocore.exceptions import ProfileNotFound

    # botocore reads AWS_DEFAULT_REGION only; AWS_REGION is what the AWS SDKs and Lambda set
    # (docs/aws-facts.md, Lambda).
    region = region or os.environ.get("AWS_REGION") or None
    try:
        return boto3.session.Session(region_name=region, profile_name=profile)
    except ProfileNotFound as exc:
        raise CredentialsError(f"AWS profile {profile!r} does not exist",
                               hint="list your profiles with 'aws configure list-profiles'") from exc
