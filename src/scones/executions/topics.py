"""Where ``sns:publish`` messages of local executions go: files a person (or a script) can read.

There is no local SNS. A message a Task publishes is written to the store as one JSON
object, ``notifications/sns/<topic>/<time>-<ns>-<MessageId>.json`` (the topic's name is the
last part of ``TopicArn``/``TargetArn``; a phone number's messages go under ``sms``).
That is how a human reviewer finds the task token a ``sns:publish.waitForTaskToken``
state sent: ``read_messages`` lists them, newest last.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Final

from scones.store import Store

LOG = logging.getLogger(__name__)

SNS_PREFIX: Final = "notifications/sns"


def topic_folder(message: dict[str, Any]) -> str:
    """The folder of a message's topic: ``arn:aws:sns:us-east-1:123456789012:reviews`` -> ``reviews``."""
    target = message.get("TopicArn") or message.get("TargetArn")
    if isinstance(target, str) and target:
        name = target.rsplit(":", 1)[-1]
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "topic"
    return "sms"


class StoreTopicPublisher:
    """A ``MessagePublisher`` writing each message to the store (``SNS_PREFIX``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def publish(self, message: dict[str, Any]) -> None:
        stamp = str(message.get("Timestamp", "")).replace("-", "").replace(":", "")
        # Real nanoseconds after the (execution clock's) time: names sort in publishing order.
        key = f"{SNS_PREFIX}/{topic_folder(message)}/{stamp}-{time.time_ns()}-{message['MessageId']}.json"
        self.store.put_text(key, json.dumps(message, ensure_ascii=False, indent=1) + "\n")
        LOG.info("sns:publish from %s written to %s", message.get("ExecutionArn"), self.store.uri_for(key))


def read_messages(store: Store, topic: str | None = None) -> list[dict[str, Any]]:
    """The messages published so far (of one topic folder, or of all), oldest first."""
    prefix = f"{SNS_PREFIX}/{topic}/" if topic else f"{SNS_PREFIX}/"
    keys = sorted(store.list(prefix), key=lambda k: k.rsplit("/", 1)[-1])
    return [json.loads(store.get_text(key)) for key in keys if key.endswith(".json")]
