"""The console API's errors: each knows its HTTP status and becomes one small JSON body, never a traceback."""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """An answer other than 200: ``{"error": code, "message": message}`` with ``status``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"


class BadRequest(ApiError):
    pass


class NotFound(ApiError):
    status = 404
    code = "NotFound"


class MethodNotAllowed(ApiError):
    status = 405
    code = "MethodNotAllowed"


class ReadOnly(ApiError):
    """A change asked of a console started without ``--console-write``."""

    status = 403
    code = "ReadOnly"


class Forbidden(ApiError):
    status = 403
    code = "Forbidden"


class Conflict(ApiError):
    status = 409
    code = "Conflict"
