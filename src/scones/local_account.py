"""The one AWS account and region everything local pretends to live in.

Local development has one principal: Step Functions, Lambda and SageMaker ARNs
and messages all name this account, whatever keys a client signs with, and a
resource named by an ARN of another account or region is matched by its name.
"""

from __future__ import annotations

from typing import Final

#: The account AWS's own documentation uses in its examples.
LOCAL_ACCOUNT: Final = "123456789012"
LOCAL_REGION: Final = "us-east-1"
