"""OpenAPI pieces shared by every endpoint: the token security schemes, the error shape and its examples."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "flxhub.api.auth.TokenAuthentication"
    name = ["BearerToken", "ApiTokenHeader"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token (flx_<prefix>_<secret>) in `Authorization: Bearer <token>`.",
            },
            {"type": "apiKey", "in": "header", "name": "X-API-TOKEN", "description": "The same token, another header."},
        ]

    def get_security_requirement(self, auto_schema):
        return [{"BearerToken": []}, {"ApiTokenHeader": []}]


class ErrorSerializer(serializers.Serializer):
    """Every failure has this shape."""

    code = serializers.CharField(help_text="Stable, machine-readable, e.g. `not_found`, `invalid_transition`.")
    message = serializers.CharField(help_text="What went wrong and what to do, for a person.")
    details = serializers.JSONField(
        help_text="Structured context: field errors, the FR's status, the existing shipment…"
    )


_ERRORS: dict[int, tuple[str, str, str, dict]] = {
    400: (
        "The request is not valid.",
        "validation_error",
        "The request is not valid; see details.",
        {"lines": [{"quantity": ["Ensure this value is greater than or equal to 1."]}]},
    ),
    401: (
        "No token, or an unknown, expired or revoked one.",
        "token_invalid",
        "The API token is not known.",
        {},
    ),
    403: (
        "The token is of the wrong kind for this endpoint.",
        "wrong_token_kind",
        "This endpoint needs a source token or account token; the token 1a2b3c4d is a channel token.",
        {"token_kind": "channel", "allowed_token_kinds": ["source", "account"]},
    ),
    404: (
        "No such object for this token (another source's objects are not found either).",
        "not_found",
        "Fulfillment request 42 does not exist.",
        {},
    ),
    409: (
        "The object's state does not allow it, or it is already recorded.",
        "invalid_transition",
        "FR 54007-1 is voided; it cannot become acknowledged. voided is final.",
        {"fr": "54007-1", "from": "voided", "to": "acknowledged", "allowed": []},
    ),
    422: (
        "The Idempotency-Key was already used with a different request.",
        "idempotency_key_reused",
        "The Idempotency-Key 'a1' was already used with a different request; use a new key for a new request.",
        {"idempotency_key": "a1"},
    ),
    429: (
        "Too many requests for this token; wait Retry-After seconds.",
        "throttled",
        "Request was throttled. Expected available in 31 seconds.",
        {"retry_after_seconds": 31},
    ),
}


def error_responses(*statuses: int, examples: dict[int, list[OpenApiExample]] | None = None) -> dict:
    """Documented error answers for ``statuses`` (401, 403 and 429 are always added)."""
    examples = examples or {}
    result = {}
    for status in sorted({*statuses, 401, 403, 429}):
        description, code, message, details = _ERRORS[status]
        result[status] = OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=examples.get(status)
            or [OpenApiExample(code, value={"code": code, "message": message, "details": details}, response_only=True)],
        )
    return result


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID). A retry with the same key and body replays the first answer; "
    "the same key with another body is refused with 422. Honoured for 24 hours.",
)
