"""SageMaker Model, EndpointConfig (with Data Capture) and Endpoint, waited on until InService.

Models and endpoint configs are immutable in SageMaker, so their names carry a
digest of their content: a changed image, artifact or capture setting yields a
new config and an in-place ``UpdateEndpoint``; the same inputs yield the same
names and "no change".
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from scones.aws.errors import AwsError, is_not_found, wrap
from scones.aws.iam import retry_while_role_propagates
from scones.aws.naming import VARIANT_NAME, Names
from scones.aws.plan import Action, Change
from scones.aws.tags import as_key_value
from scones.progress import progress

LOG = logging.getLogger(__name__)

#: What the SageMaker Python SDK always sends (docs/aws-facts.md, Data Capture): JSON responses are
#: captured as text, images (any other type) as base64 — the shape of the recorded capture.
CSV_CONTENT_TYPES: Final = ["text/csv"]
JSON_CONTENT_TYPES: Final = ["application/json"]
#: Endpoint statuses (docs/aws-facts.md, SageMaker hosting container).
IN_SERVICE: Final = "InService"
FAILED_STATES: Final = frozenset({"Failed", "OutOfService", "RollingBack"})


@dataclass(frozen=True)
class EndpointSpec:
    image_uri: str
    model_data_url: str
    model_sha256: str
    role_arn: str
    capture_uri: str
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    sampling_percentage: int = 100
    environment: dict[str, str] = field(default_factory=dict)


def data_capture_config(spec: EndpointSpec) -> dict[str, Any]:
    """``DataCaptureConfig`` as SageMaker defines it (docs/aws-facts.md, Data Capture)."""
    if not 0 <= spec.sampling_percentage <= 100:
        raise AwsError(f"Sampling percentage {spec.sampling_percentage} is outside 0-100",
                       hint="pass --sampling-percentage between 0 and 100")
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": spec.sampling_percentage,
        "DestinationS3Uri": spec.capture_uri,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": list(CSV_CONTENT_TYPES),
                                     "JsonContentTypes": list(JSON_CONTENT_TYPES)},
    }


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def model_request(spec: EndpointSpec, names: Names) -> dict[str, Any]:
    """``CreateModel`` arguments; the name is derived from everything else (including the artifact's digest)."""
    container = {"Image": spec.image_uri, "ModelDataUrl": spec.model_data_url,
                 "Environment": {**spec.environment, "SCONES_MODEL_SHA256": spec.model_sha256}}
    body = {"PrimaryContainer": container, "ExecutionRoleArn": spec.role_arn}
    return {"ModelName": names.model(_digest(body)), **body}


def endpoint_config_request(spec: EndpointSpec, names: Names, model_name: str) -> dict[str, Any]:
    body = {
        "ProductionVariants": [{
            "VariantName": VARIANT_NAME, "ModelName": model_name,
            "InitialInstanceCount": spec.instance_count, "InstanceType": spec.instance_type,
            "InitialVariantWeight": 1.0,
        }],
        "DataCaptureConfig": data_capture_config(spec),
    }
    return {"EndpointConfigName": names.endpoint_config(_digest(body)), **body}


def _exists(call: Callable[[], Any], resource: str) -> bool:
    try:
        call()
        return True
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise wrap(exc, action="read", resource=resource) from exc


def ensure_model(sm: Any, request: dict[str, Any], *, tags: dict[str, str], apply: bool,
                 sleep: Callable[[float], None] = time.sleep) -> Change:
    name = request["ModelName"]
    if _exists(lambda: sm.describe_model(ModelName=name), f"SageMaker model {name!r}"):
        return Change("sagemaker model", name, Action.NO_CHANGE)
    if apply:
        try:
            retry_while_role_propagates(lambda: sm.create_model(**request, Tags=as_key_value(tags)), sleep=sleep)
        except Exception as exc:
            raise wrap(exc, action="create", resource=f"SageMaker model {name!r}",
                       hint="check that --image-uri exists in this region and the role may pull it") from exc
    return Change("sagemaker model", name, Action.CREATE)


def ensure_endpoint_config(sm: Any, request: dict[str, Any], *, tags: dict[str, str], apply: bool) -> Change:
    name = request["EndpointConfigName"]
    if _exists(lambda: sm.describe_endpoint_config(EndpointConfigName=name),
               f"SageMaker endpoint config {name!r}"):
        return Change("sagemaker endpoint config", name, Action.NO_CHANGE)
    if apply:
        try:
            sm.create_endpoint_config(**request, Tags=as_key_value(tags))
        except Exception as exc:
            raise wrap(exc, action="create", resource=f"SageMaker endpoint config {name!r}") from exc
    return Change("sagemaker endpoint config", name, Action.CREATE)


def describe_endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(sm.describe_endpoint(EndpointName=name))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise wrap(exc, action="read", resource=f"SageMaker endpoint {name!r}") from exc


def ensure_endpoint(sm: Any, name: str, config_name: str, *, tags: dict[str, str], apply: bool) -> Change:
    """Create the endpoint, or point it at ``config_name`` in place (no downtime on SageMaker's side)."""
    current = describe_endpoint(sm, name)
    kind = "sagemaker endpoint"
    if current is not None and current.get("EndpointConfigName") == config_name \
            and current.get("EndpointStatus") not in FAILED_STATES:
        return Change(kind, name, Action.NO_CHANGE)
    try:
        if current is None:
            if apply:
                sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=as_key_value(tags))
            return Change(kind, name, Action.CREATE, config_name)
        if apply:
            sm.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
    except Exception as exc:
        raise wrap(exc, action="create" if current is None else "update",
                   resource=f"SageMaker endpoint {name!r}") from exc
    return Change(kind, name, Action.UPDATE, f"{current.get('EndpointConfigName')} -> {config_name}")


def wait_for_endpoint(sm: Any, name: str, *, timeout_seconds: float = 1800.0, poll_seconds: float = 15.0,
                      show_progress: bool = True, sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll until the endpoint is InService (creating one takes several minutes on AWS)."""
    deadline = clock() + timeout_seconds
    with progress(total=None, enabled=show_progress, desc=f"endpoint {name}", unit="poll") as bar:
        while True:
            current = describe_endpoint(sm, name)
            if current is None:
                raise AwsError(f"SageMaker endpoint {name!r} disappeared while waiting for it",
                               hint="run 'scones deploy aws' again")
            status = str(current.get("EndpointStatus"))
            bar.set_postfix_str(status)
            bar.update(1)
            if status == IN_SERVICE:
                return current
            if status in FAILED_STATES:
                reason = current.get("FailureReason", "no reason given")
                raise AwsError(f"SageMaker endpoint {name!r} is {status}: {reason}",
                               hint=f"read the CloudWatch log group /aws/sagemaker/Endpoints/{name}, fix the "
                                    "image or model, and deploy again")
            if clock() >= deadline:
                raise AwsError(f"SageMaker endpoint {name!r} is still {status} after {timeout_seconds:.0f} s",
                               hint="wait and run 'scones deploy aws' again; it resumes where it stopped")
            LOG.debug("endpoint %s is %s; polling again in %s s", name, status, poll_seconds)
            sleep(poll_seconds)


def check_serving(described: dict[str, Any], config_name: str) -> None:
    """Refuse to go on when the endpoint does not serve ``config_name``.

    A failed ``UpdateEndpoint`` rolls back: the endpoint is InService again, on
    the old config, so "InService" alone does not mean the update landed.
    """
    name = described.get("EndpointName", "?")
    if described.get("EndpointConfigName") != config_name:
        raise AwsError(f"SageMaker endpoint {name!r} serves {described.get('EndpointConfigName')}, not "
                       f"{config_name}: the update failed and was rolled back "
                       f"({described.get('FailureReason', 'no reason given')})",
                       hint=f"read the CloudWatch log group /aws/sagemaker/Endpoints/{name}, fix the image or "
                            "model, and deploy again")
