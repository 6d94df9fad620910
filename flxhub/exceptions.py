"""One error hierarchy for the domain: every error carries a code, an HTTP status and details."""

from typing import Any


class ApplicationError(Exception):
    """A failure a person can act on: ``message`` says what and where, ``code`` is stable for machines."""

    code = "application_error"
    http_status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status
        self.details = details or {}


class NotFound(ApplicationError):
    code = "not_found"
    http_status = 404


class Conflict(ApplicationError):
    """The request is well formed but the object's state does not allow it."""

    code = "conflict"
    http_status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ValidationFailed(ApplicationError):
    code = "validation_error"
    http_status = 400


class TransientError(ApplicationError):
    """A failure worth retrying later (network blip, server busy); tasks retry these and only these."""

    code = "transient_error"
    http_status = 503
