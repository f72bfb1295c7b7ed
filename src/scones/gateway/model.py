"""botocore's service models: the operations and shapes of each API, read from the botocore we ship with.

The wire protocols are data that botocore already holds (operation names, HTTP
methods and paths, which member is a header, a query parameter or the body,
timestamp formats, error shapes). Reading them here keeps the answers in the
shapes botocore's own parser expects, operation by operation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.model import ServiceModel


@lru_cache(maxsize=8)
def service_model(name: str) -> ServiceModel:
    """``s3``, ``stepfunctions``, ``lambda`` or ``sagemaker-runtime``."""
    import botocore.session

    return botocore.session.get_session().get_service_model(name)
