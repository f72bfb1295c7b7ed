"""``arn:aws:states:::sns:publish`` (and ``.waitForTaskToken``): publish a message to a topic.

There is no local SNS: the message goes to the execution's ``MessagePublisher``
(``scones up`` and ``scones workflow run`` write it where a person can read it, see
``scones.executions.topics``), and is recorded in the history either way (TaskScheduled's
parameters). The result is Publish's answer, ``MessageId`` and the SDK metadata, as
recorded on AWS (docs/aws-facts.md, Task tokens).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any, Final

from scones.workflow.asl.clock import iso_timestamp
from scones.workflow.asl.errors import FailureError
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.resources import IntegrationPattern, ServiceIntegration, TaskResource, sdk_metadata

if TYPE_CHECKING:
    from scones.workflow.asl.context import Frame

LOG = logging.getLogger(__name__)

PUBLISH_ARN: Final = "arn:aws:states:::sns:publish"
_TARGETS: Final = ("TopicArn", "TargetArn", "PhoneNumber")
_PARAMETERS: Final = (*_TARGETS, "Message", "Subject", "MessageAttributes", "MessageStructure",
                      "MessageDeduplicationId", "MessageGroupId")


class Publish(ServiceIntegration):
    resource_type = "sns"
    action = "publish"
    required = "Message"
    parameters = _PARAMETERS

    def call(self, frame: Frame, arguments: Any) -> Any:
        arguments = self.check_arguments(frame, arguments)
        if not any(k in arguments for k in _TARGETS):
            raise FailureError.of("SNS.InvalidParameterException",
                                  "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter "
                                  f"(Service: Sns, Status Code: 400, Request ID: {uuid.uuid4()})")
        execution = frame.execution
        message_id = str(uuid.uuid4())
        text = arguments["Message"]
        # A JSON Message (an object, say) is published as its JSON text.
        message: dict[str, Any] = {"MessageId": message_id,
                                   **{k: arguments[k] for k in _TARGETS if k in arguments},
                                   "Subject": arguments.get("Subject"),
                                   "Message": text if isinstance(text, str) else to_compact_json(text),
                                   "MessageAttributes": arguments.get("MessageAttributes") or {},
                                   "Timestamp": iso_timestamp(execution.clock.now()),
                                   "ExecutionArn": execution.execution_arn}
        publisher = execution.connections.publisher
        if publisher is None:
            LOG.info("sns:publish from %s (no local publisher; kept in the history): %s", execution.execution_arn,
                     message["Message"])
        else:
            publisher.publish(message)
        body = f"<PublishResponse><PublishResult><MessageId>{message_id}</MessageId></PublishResult></PublishResponse>"
        return {"MessageId": message_id,
                **sdk_metadata(str(uuid.uuid4()), body, execution.clock.now(), content_type="text/xml")}


def sns_integration(arn: str) -> TaskResource | None:
    base, pattern = IntegrationPattern.of_resource(arn)
    if base == PUBLISH_ARN and pattern in (IntegrationPattern.REQUEST_RESPONSE,
                                          IntegrationPattern.WAIT_FOR_TASK_TOKEN):
        return Publish(arn, pattern)
    return None
