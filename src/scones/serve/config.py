"""What one endpoint is: its model, its name, its limits, and whether it captures."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from scones.errors import UsageError
from scones.serve.capture import CaptureConfig
from scones.serve.images import ImageLimits

#: Endpoint and variant names (docs/aws-facts.md, SageMaker Runtime).
NAME_PATTERN: Final = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
MAX_NAME_LENGTH: Final = 63
#: InvokeEndpoint request body limit, 6 MiB (docs/aws-facts.md, SageMaker Runtime).
MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
DEFAULT_ENDPOINT_NAME: Final = "scones-endpoint"
DEFAULT_VARIANT: Final = "AllTraffic"
#: Where the model is unpacked and the port served (docs/aws-facts.md, SageMaker hosting container).
CONTAINER_MODEL_DIR: Final = "/opt/ml/model"
CONTAINER_PORT: Final = 8080
#: Most images per model run. Small batches keep a run's activations in the CPU's cache, which made
#: the model and the endpoint faster at 4 than at 16 (docs/performance.md, Endpoint).
DEFAULT_MAX_BATCH: Final = 4


def valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None


def check_name(name: str, what: str) -> str:
    if not valid_name(name):
        raise UsageError(f"{what} {name!r} is not a valid SageMaker name",
                         hint=f"use 1-{MAX_NAME_LENGTH} letters, digits and hyphens, starting and ending "
                              f"with a letter or digit (e.g. {DEFAULT_ENDPOINT_NAME})")
    return name


@dataclass(frozen=True)
class ServeConfig:
    model: str
    host: str = "127.0.0.1"
    port: int = CONTAINER_PORT
    endpoint_name: str = DEFAULT_ENDPOINT_NAME
    variant: str = DEFAULT_VARIANT
    capture: CaptureConfig | None = None
    workers: int = 1
    threads: int | None = None
    max_batch_size: int = DEFAULT_MAX_BATCH
    max_wait_ms: float = 2.0
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    limits: ImageLimits = field(default_factory=ImageLimits)
    invocation_timeout: float = 60.0
    region: str = "us-east-1"
    log_level: str = "info"

    def __post_init__(self) -> None:
        check_name(self.endpoint_name, "Endpoint name")
        check_name(self.variant, "Variant name")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"Port {self.port} is not between 0 and 65535")
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"--threads must be at least 1, got {self.threads}")
        if self.max_batch_size < 1:
            raise UsageError(f"--max-batch-size must be at least 1, got {self.max_batch_size}")
        if self.max_wait_ms < 0:
            raise UsageError(f"--max-wait-ms must not be negative, got {self.max_wait_ms}")

    def to_json(self) -> str:
        """For handing the configuration to worker processes (``--workers N``)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        raw: dict[str, Any] = json.loads(text)
        capture = raw.pop("capture", None)
        limits = raw.pop("limits", None) or {}
        if capture is not None:
            for key in ("csv_content_types", "json_content_types"):
                capture[key] = tuple(capture[key])
        return cls(**raw, capture=None if capture is None else CaptureConfig(**capture),
                   limits=ImageLimits(**limits))
