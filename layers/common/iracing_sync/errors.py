"""Every error the service raises, in one place.

Class names are a contract: Step Functions Retry/Catch match them by name (the Lambda
errorType), and the HTTP API maps the AppError family to status codes in one handler.
"""

from __future__ import annotations

import json


class IracingSyncError(Exception):
    """Base of every error this service raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Step Functions contract -------------------------------------------------------------


class RetryableError(IracingSyncError):
    """A transient failure (iRacing 5xx/maintenance, timeout, DynamoDB throttling): retry later."""


class RateLimited(RetryableError):
    """iRacing's rate budget is spent; retry at ``retry_at`` (ISO 8601 UTC), iRacing's ``reset_at`` (epoch seconds)
    when it said one.

    Its text (Lambda's errorMessage) is JSON, ``{"retry_at": "<ISO 8601 UTC>", "reason": "..."}``: Lambda's error
    document has no other field, and the state machines read ``retry_at`` from it to wait until then.
    """

    def __init__(self, message: str, *, retry_at: str, reset_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.reset_at = reset_at

    def __str__(self) -> str:
        return json.dumps({"retry_at": self.retry_at, "reason": self.message})


class ConcurrentUpdate(RetryableError):
    """Another sync changed the same season meanwhile; retrying reconciles against its result."""


class PermanentError(IracingSyncError):
    """A failure that retrying cannot fix (bad request, malformed payload, missing credentials)."""


class ConfigurationError(PermanentError, ValueError):
    """An environment variable the service reads holds a value it cannot run with."""


class InvalidEvent(PermanentError):
    """A Lambda received an event that does not match its input model."""


class AuthError(PermanentError):
    """iRacing rejected our credentials."""


class MalformedPayload(PermanentError):
    """An iRacing body did not have the shape we rely on."""


# --- HTTP API contract ---------------------------------------------------------------------


class AppError(IracingSyncError):
    """An error a caller of the HTTP API caused; carries its HTTP status and a stable code."""

    status = 400
    code = "bad_request"


class InvalidInputError(AppError):
    """A query or path parameter is malformed (400)."""

    status = 400
    code = "invalid_input"


class UnknownTimeZoneError(InvalidInputError):
    """A ``tz`` parameter that names no IANA time zone (400)."""

    code = "unknown_time_zone"


class UnprocessableError(AppError):
    """Well-formed input that cannot be served, e.g. `from` after `to` or a too long window (422)."""

    status = 422
    code = "unprocessable"


class InvalidCursorError(UnprocessableError):
    """A ``cursor`` of the documented form that this API did not issue for this query (422; malformed is a 400)."""

    code = "invalid_cursor"


class NotFoundError(AppError):
    """The requested series, season or route does not exist (404)."""

    status = 404
    code = "not_found"
