"""Token authentication from `Authorization: Bearer <token>` or `X-API-TOKEN`; ``request.auth`` is the ApiToken."""

from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

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
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise exceptions.AuthenticationFailed(
                f"The Authorization header must read `Bearer <token>`. {HEADER_HELP}", code="token_invalid"
            )
        return value.strip()
    value = request.headers.get("X-API-Token", "").strip()
    return value or None


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        plaintext = presented_token(request)
        if plaintext is None:
            return None
        # flxhub.api is plumbing below the apps; the token model and its service live in orders (DESIGN §3).
        from orders.services.tokens import TokenRejected, api_token_authenticate

        try:
            token = api_token_authenticate(plaintext=plaintext)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code)
        return TokenPrincipal(token_id=token.pk, kind=token.kind, label=f"api:{token.prefix}"), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="flxhub"'
