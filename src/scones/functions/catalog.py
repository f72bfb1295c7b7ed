"""The Scones functions as AWS knows them: name, handler, timeout and memory.

Not packed into the deployment zips; the local runtime and the deployer read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scones.errors import WorkflowError

PACKAGE: Final = "scones.functions"
HELPER_MODULE: Final = "helper"


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    module: str
    timeout_seconds: int
    memory_mb: int
    description: str
    reads: tuple[str, ...]

    @property
    def handler(self) -> str:
        """Lambda's ``Handler`` setting for the zip built by ``scones.aws.package``."""
        return f"{PACKAGE}.{self.module}.lambda_handler"


SCONES_FUNCTIONS: Final[tuple[FunctionInfo, ...]] = (
    FunctionInfo("serializeImageData", "serialize_image_data", 10, 128,
                 "Read an image from S3 and return it base64-encoded.", ("s3_bucket", "s3_key")),
    FunctionInfo("classifyImage", "classify_image", 30, 256,
                 "Send the image to the SageMaker endpoint and return its inferences.", ("image_data",)),
    FunctionInfo("filterInferences", "filter_inferences", 3, 128,
                 "Fail with ThresholdConfidenceNotMet unless the top inference meets THRESHOLD.",
                 ("image_data", "inferences")),
)


def function_info(name: str) -> FunctionInfo:
    """Look a function up by its AWS name (``classifyImage``) or module name (``classify_image``)."""
    for info in SCONES_FUNCTIONS:
        if name in (info.name, info.module):
            return info
    known = ", ".join(info.name for info in SCONES_FUNCTIONS)
    raise WorkflowError(f"No Scones function named {name!r}", hint=f"use one of {known}")
