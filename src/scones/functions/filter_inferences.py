"""filterInferences: pass the body on when the top inference meets ``THRESHOLD`` (default 0.93), else fail.

The failure is raised, never returned, so Step Functions sees the error
``ThresholdConfidenceNotMet`` (cause message ``THRESHOLD_CONFIDENCE_NOT_MET``)
and a ``Catch`` can route it.
"""

from __future__ import annotations

import logging
from typing import Any

from scones.functions.helper import ImageBody, ThresholdConfidenceNotMet, ok, threshold_from_env

LOG = logging.getLogger(__name__)


def meets_threshold(body: ImageBody, threshold: float) -> bool:
    return max(body.inferences) >= threshold


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    body = ImageBody.from_event(event, need_inferences=True)
    threshold = threshold_from_env()
    if not meets_threshold(body, threshold):
        LOG.info("%s: top inference %.4f below threshold %.4f", body.s3_key, max(body.inferences), threshold)
        raise ThresholdConfidenceNotMet()
    return ok(body)
