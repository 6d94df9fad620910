"""Token authentication from `Authorization: Bearer <token>` or `X-API-TOKEN`; ``request.auth`` is the ApiToken.

A token that passed the full check (``api_token_authenticate``: known, not revoked, not expired, last use
noted) is remembered by this web process for ``TOKEN_CACHE_SECONDS``, keyed by its SHA-256, so a client
polling page after page costs no token query. The bound: revoking a token, or changing its rate limit in
the admin, takes effect within ``TOKEN_CACHE_SECONDS`` in every process; expiry is checked on every request.
Unknown tokens are never remembered.
"""

import hashlib
import time
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

TOKEN_CACHE_SECONDS = 5
TOKEN_CACHE_SIZE = 1000
_TOKEN_FIELDS = ("id", "name", "kind", "prefix", "source_id", "channel_id", "rate_limit_per_minute", "expires_at")
# sha256 of the plaintext → (when checked, the token's field values)
_recent_tokens: dict[str, tuple[float, tuple]] = {}

HEADER_HELP = "Send the token as `Authorization: Bearer <token>` or as `X-API-TOKEN: <token>`."


@dataclass(frozen=True)
class TokenPrincipal:
    """What ``request.user`` is for a token request: the token's own identity, never a Django user."""

    token_id: int
    kind: str
    label: str

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None


def presented_token(request) -> str | None:
    """Return the token from the request's headers, or None when it sends none."""
    # META, not request.headers: building that mapping of every header costs more than this whole check.
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise exceptions.AuthenticationFailed(
                f"The Authorization header must read `Bearer <token>`. {HEADER_HELP}", code="token_invalid"
            )
        return value.strip()
    value = request.META.get("HTTP_X_API_TOKEN", "").strip()
    return value or None


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def recent_token(plaintext: str):
    """The ApiToken checked for ``plaintext`` less than TOKEN_CACHE_SECONDS ago and not expired since, or None."""
    entry = _recent_tokens.get(_digest(plaintext))
    if entry is None or not 0 <= time.time() - entry[0] < TOKEN_CACHE_SECONDS:
        return None
    token = apps.get_model("orders", "ApiToken").from_db("default", _TOKEN_FIELDS, entry[1])
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return None  # the full check says it expired
    return token


def remember_token(plaintext: str, token) -> None:
    if len(_recent_tokens) >= TOKEN_CACHE_SIZE:
        _recent_tokens.clear()
    _recent_tokens[_digest(plaintext)] = (time.time(), tuple(getattr(token, name) for name in _TOKEN_FIELDS))


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        plaintext = presented_token(request)
        if plaintext is None:
            return None
        token = recent_token(plaintext)
        if token is None:
            # flxhub.api is plumbing below the apps; the token model and its service live in orders (DESIGN §3).
            from orders.services.tokens import TokenRejected, api_token_authenticate

            try:
                token = api_token_authenticate(plaintext=plaintext)
            except TokenRejected as exc:
                raise exceptions.AuthenticationFailed(exc.message, code=exc.code)
            remember_token(plaintext, token)
        return TokenPrincipal(token_id=token.pk, kind=token.kind, label=f"api:{token.prefix}"), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="flxhub"'
