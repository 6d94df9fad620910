"""Token-kind checks: each view names the kinds it serves; any other kind gets a 403 naming the kinds needed."""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from flxhub.exceptions import ApplicationError

from .auth import HEADER_HELP


class WrongTokenKind(ApplicationError):
    code = "wrong_token_kind"
    http_status = 403


def _kinds_phrase(kinds: tuple[str, ...]) -> str:
    names = [f"{kind} token" for kind in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


class HasTokenKind(BasePermission):
    """Allow a request whose token kind is in the view's ``allowed_token_kinds`` (a tuple, or a dict per method)."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None:
            raise exceptions.NotAuthenticated(f"This endpoint needs an API token. {HEADER_HELP}")
        allowed = getattr(view, "allowed_token_kinds", ())
        if isinstance(allowed, dict):  # per HTTP method
            allowed = allowed.get(
                request.method, allowed.get("GET", ()) if request.method in ("HEAD", "OPTIONS") else ()
            )
        allowed = tuple(allowed)
        if token.kind not in allowed:
            raise WrongTokenKind(
                f"This endpoint needs a {_kinds_phrase(allowed)}; the token {token.prefix} is a {token.kind} token.",
                details={"token_kind": token.kind, "allowed_token_kinds": list(allowed)},
            )
        return True
