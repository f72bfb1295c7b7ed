"""AWS failures a user can fix, and the one helper that turns SDK errors into them.

Each message names the resource and says what to do next; the original
botocore exception is always chained (``raise ... from exc``).
"""

from __future__ import annotations

from typing import Any

from scones.errors import AwsError, ModelError


class CredentialsError(AwsError):
    """No usable AWS credentials."""


class BucketNotFoundError(AwsError):
    """The bucket named with ``--bucket`` does not exist (scones never creates buckets)."""


class RegionMismatchError(AwsError):
    """The bucket lives in another region than the one being deployed to."""


class MissingModelError(ModelError):
    """There is no ``model.tar.gz`` to deploy."""


class ForeignResourceError(AwsError):
    """A resource with the name scones would use exists but is not tagged as this deployment."""


class NotDeployedError(AwsError):
    """A resource scones expects (a state machine, an endpoint) has not been deployed."""


class ExecutionFailedError(AwsError):
    """A Step Functions execution ended in FAILED, TIMED_OUT or ABORTED."""

    def __init__(self, message: str, *, error: str | None = None, cause: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.error = error
        self.cause = cause


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for anything else)."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc)
    return code in {"ResourceNotFoundException", "NoSuchEntity", "NotFound", "NoSuchBucket", "404",
                    "StateMachineDoesNotExist", "ExecutionDoesNotExist"} or (
        code == "ValidationException" and "not find" in str(exc).lower())


def is_credentials_error(exc: BaseException) -> bool:
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    return isinstance(exc, (NoCredentialsError, PartialCredentialsError)) or error_code(exc) in {
        "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException",
        "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure"}


def is_network_error(exc: BaseException) -> bool:
    """No answer at all (refused, unresolvable, timed out): the region or the network, not the credentials."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, (BotoConnectionError, HTTPClientError))


def wrap(exc: Exception, *, action: str, resource: str, hint: str | None = None) -> AwsError:
    """Turn a botocore error into an ``AwsError`` saying what failed on which resource.

    Use as ``raise wrap(exc, action="create", resource="Lambda function x") from exc``.
    """
    if is_network_error(exc):
        return AwsError(f"Could not reach AWS to {action} {resource}: {exc}",
                        hint="check --region (or AWS_REGION), AWS_ENDPOINT_URL if set, and the network")
    if is_credentials_error(exc):
        return CredentialsError(
            f"AWS rejected or could not find credentials while trying to {action} {resource}: {exc}",
            hint="run 'aws configure' (or set AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and retry")
    code = error_code(exc)
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return AwsError(f"Access denied while trying to {action} {resource}: {exc}",
                        hint=hint or "give your AWS identity permission for this action, or pass --role-arn "
                                     "with a role an administrator created")
    return AwsError(f"Could not {action} {resource}: {exc}", hint=hint)
