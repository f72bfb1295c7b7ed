"""Failure notifications: a failed execution is announced, never only logged.

Locally the announcement is a line in ``notifications/failures.jsonl`` in the
store and, optionally, an HTTP POST to a webhook; on AWS the same message goes
to an SNS topic. A notifier that cannot deliver logs a warning naming the
target and the cause: a broken webhook must not change an execution's outcome.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from scones.store import Store
from scones.workflow.asl.executor import Execution, ExecutionStatus

LOG = logging.getLogger(__name__)

FAILURE_LOG_KEY: Final = "notifications/failures.jsonl"
SNS_SUBJECT_LIMIT: Final = 100  # characters (docs/aws-facts.md, IAM and SNS)


@dataclass(frozen=True)
class FailureNotification:
    execution_name: str
    execution_arn: str
    status: str
    error: str | None
    cause: str | None
    s3_bucket: str | None
    s3_key: str | None
    time: str

    @classmethod
    def create(cls, *, execution_name: str, execution_arn: str, status: str, error: str | None,
               cause: str | None, execution_input: Any) -> FailureNotification:
        fields = execution_input if isinstance(execution_input, Mapping) else {}
        bucket, key = fields.get("s3_bucket"), fields.get("s3_key")
        return cls(execution_name=execution_name, execution_arn=execution_arn, status=status, error=error,
                   cause=cause, s3_bucket=bucket if isinstance(bucket, str) else None,
                   s3_key=key if isinstance(key, str) else None,
                   time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    @property
    def subject(self) -> str:
        text = f"scones: {self.execution_name} {self.status.lower()}: {self.error or 'no error name'}"
        return text[:SNS_SUBJECT_LIMIT]

    def to_json(self) -> dict[str, Any]:
        # Fields are flat strings: a plain dict, not dataclasses.asdict's recursive deep copy.
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FailureNotification:
        return cls(**{name: raw.get(name) for name in cls.__dataclass_fields__})  # type: ignore[arg-type]


class Notifier(Protocol):
    def notify(self, notification: FailureNotification) -> None: ...


class StoreLogNotifier:
    """Appends one JSON line per failure to ``notifications/failures.jsonl`` (one object per failure on S3)."""

    def __init__(self, store: Store, key: str = FAILURE_LOG_KEY) -> None:
        self.store = store
        self.key = key
        self._lock = threading.Lock()
        self._path: Path | None = None  # resolved (and its folder made) on the first local failure

    def notify(self, notification: FailureNotification) -> None:
        line = (json.dumps(notification.to_json(), separators=(",", ":")) + "\n").encode("utf-8")
        path = self._path or self.store.local_path(self.key)
        if path is None:
            stem = self.key.rsplit(".", 1)[0]
            self.store.put_bytes(f"{stem}/{notification.execution_name}.json", line)
            return
        if self._path is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._path = path
        # One write of a whole line on an O_APPEND descriptor: readers never see half a record.
        with self._lock:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


class WebhookNotifier:
    """POSTs the notification as JSON to ``url``."""

    def __init__(self, url: str, *, timeout_seconds: float = 5.0) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds

    def notify(self, notification: FailureNotification) -> None:
        import urllib.request

        body = json.dumps(notification.to_json()).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            response.read()


class SnsNotifier:
    """Publishes the notification to an SNS topic (the AWS backend)."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        self.topic_arn = topic_arn
        self.client = client

    def notify(self, notification: FailureNotification) -> None:
        self.client.publish(TopicArn=self.topic_arn, Subject=notification.subject,
                            Message=json.dumps(notification.to_json()))


class FanOutNotifier:
    """Every notifier gets every failure; one that fails is logged and the others still run."""

    def __init__(self, notifiers: Iterable[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def notify(self, notification: FailureNotification) -> None:
        for notifier in self.notifiers:
            try:
                notifier.notify(notification)
            except Exception as exc:  # URLError, OSError, botocore errors: a notifier never breaks the run
                LOG.warning("could not deliver the failure notification of %s through %s: %s",
                            notification.execution_name, type(notifier).__name__, exc)


def read_failures(store: Store, key: str = FAILURE_LOG_KEY) -> list[FailureNotification]:
    """The failures logged locally, oldest first."""
    if not store.exists(key):
        return []
    return [FailureNotification.from_json(json.loads(line))
            for line in store.get_text(key).splitlines() if line.strip()]


def failure_listener(make_notifier: Callable[[], Notifier]) -> Callable[[Execution], None]:
    """Announce every execution that did not succeed (a listener of the execution service). The notifier
    is made on the first failure, so a run that never fails never loads the notification code."""
    made: list[Notifier] = []

    def on_end(execution: Execution) -> None:
        if execution.status is ExecutionStatus.SUCCEEDED:
            return
        from scones.workflow.outcomes import last_task_error

        if not made:
            made.append(make_notifier())
        error = execution.error or last_task_error(execution.events())
        made[0].notify(FailureNotification.create(
            execution_name=execution.name, execution_arn=execution.execution_arn, status=execution.status.value,
            error=error, cause=execution.cause, execution_input=execution.input))

    return on_end
