"""API tokens: create (plaintext shown once, SHA-256 stored), resolve a presented token, mark used, revoke.

A token reads ``flx_<prefix>_<secret>``. The prefix is public (it names the token in the admin and in FR
events); the whole token is what is hashed. Plaintext never reaches the database or a log.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from flxhub.exceptions import ApplicationError, NotFound, ValidationFailed
from inventory.models import Channel
from sources.models import Source

from ..models import ApiToken

TOKEN_SCHEME = "flx"
# Writing last_used_at on every request would make every poll a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRejected(ApplicationError):
    """The presented token is unknown, malformed, expired or revoked."""

    code = "token_invalid"
    http_status = 401


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_token_create(
    *,
    kind: str,
    name: str,
    source_id: int | None = None,
    channel_id: int | None = None,
    rate_limit_per_minute: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token of ``kind`` and return it with its plaintext, which is never stored and cannot be shown again."""
    if kind not in ApiToken.Kind.values:
        raise ValidationFailed(f"Unknown token kind {kind!r}; use one of {', '.join(ApiToken.Kind.values)}.")
    if kind == ApiToken.Kind.SOURCE and not source_id:
        raise ValidationFailed("A source token needs a source.")
    if kind == ApiToken.Kind.CHANNEL and not channel_id:
        raise ValidationFailed("A channel token needs a channel.")
    if kind != ApiToken.Kind.SOURCE:
        source_id = None
    if kind != ApiToken.Kind.CHANNEL:
        channel_id = None
    if source_id and not Source.objects.filter(pk=source_id).exists():
        raise NotFound(f"Source {source_id} does not exist.")
    if channel_id and not Channel.objects.filter(pk=channel_id).exists():
        raise NotFound(f"Channel {channel_id} does not exist.")
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        plaintext = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            name=name,
            kind=kind,
            prefix=prefix,
            key_hash=token_hash(plaintext),
            source_id=source_id,
            channel_id=channel_id,
            rate_limit_per_minute=rate_limit_per_minute,
            expires_at=expires_at,
        )
    return token, plaintext


def api_token_revoke(*, token_id: int) -> ApiToken:
    """Revoke the token now; revoking twice keeps the first revocation time."""
    with transaction.atomic():
        try:
            token = ApiToken.objects.select_for_update().get(pk=token_id)
        except ApiToken.DoesNotExist:
            raise NotFound(f"API token {token_id} does not exist.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, plaintext: str) -> ApiToken:
    """Return the live token matching ``plaintext`` and note its use, or raise ``TokenRejected``."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME or not parts[1] or not parts[2]:
        raise TokenRejected("The API token is malformed; tokens look like flx_<prefix>_<secret>.")
    token = (
        ApiToken.objects.select_related("source", "channel").filter(key_hash=token_hash(plaintext)).first()
        if len(plaintext) <= 200
        else None
    )
    if token is None:
        raise TokenRejected("The API token is not known.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected(f"The API token {token.prefix} was revoked.", code="token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected(f"The API token {token.prefix} expired.", code="token_expired")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
