"""The one error family for everything a user can get wrong.

Modelled on click's ``ClickException``: each error knows its exit code and how
to show itself, and exactly one place (``scones.cli.main``) turns it into
``Error: ...`` on stderr. Anything that is *not* a ``SconesError`` is a bug in
scones and keeps its traceback.
"""

from __future__ import annotations

from typing import ClassVar


class SconesError(Exception):
    """An error the user can act on: the message says what went wrong and what to do."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format_message(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message

    def __str__(self) -> str:
        return self.format_message()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class UsageError(SconesError):
    """Arguments or settings that cannot be used as given."""

    exit_code = 2


class ConfigError(UsageError):
    """A setting (environment variable or option) has a value that cannot be used."""


class StoreError(SconesError):
    """A key or URI cannot be read from or written to the store."""


class UnsafeKeyError(StoreError):
    """A key that would escape the store's root (``..``, absolute, NUL, symlink out)."""


class NotFoundError(StoreError):
    """A key, prefix or file that does not exist."""


class DataError(SconesError):
    """A dataset or archive that is missing, corrupt, unsafe or of the wrong shape."""


class ModelError(SconesError):
    """A model artifact that is missing, corrupt or does not match what is asked of it."""


class WorkflowError(SconesError):
    """A state machine definition or execution input that cannot be used."""


class AwsError(SconesError):
    """An AWS call that failed for a reason the user can fix (credentials, bucket, region)."""
