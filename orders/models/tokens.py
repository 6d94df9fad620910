"""API tokens (hashed, scoped to the account, one source or one channel) and idempotency keys."""

from django.db import models
from django.db.models import Q

from inventory.models import Channel
from sources.models import Source


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 hash and a visible prefix are stored."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account (any source or channel)"
        SOURCE = "source", "Source (its own source only)"
        CHANNEL = "channel", "Channel (its own channel only)"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the default.")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="account", source__isnull=True, channel__isnull=True)
                    | Q(kind="source", source__isnull=False, channel__isnull=True)
                    | Q(kind="channel", source__isnull=True, channel__isnull=False)
                ),
                name="api_token_scope_matches_kind",
                violation_error_message="A source token needs a source, a channel token a channel, an account neither.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.prefix}…)"


class IdempotencyKey(models.Model):
    """The first answer to a POST made with an Idempotency-Key, replayed on a retry with the same key and body."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_unique_key_per_token")]

    def __str__(self) -> str:
        return self.key
