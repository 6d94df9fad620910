"""Idempotency-Key on POSTs: a retry with the same key and body replays the first answer instead of acting twice.

The key is scoped to the token. The first request with a key inserts its row inside the same transaction
as the work it does, so a concurrent retry with that key waits on the row's unique index and then
replays what the first one answered. Only successful (2xx) answers are kept: a refused request changed
nothing, so a retry with the same key simply runs again. A key reused with a different method, path or
body is refused with 422. Keys are honoured for ``RETENTION`` (24 h) and purged after that.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from flxhub.exceptions import ApplicationError, ValidationFailed

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    http_status = 422


def _model():
    # The table lives with the tokens in orders; this plumbing only stores and replays answers.
    return apps.get_model("orders", "IdempotencyKey")


def request_fingerprint(request) -> str:
    """Hash what makes two requests "the same": method, path with query, and the parsed JSON body."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.get_full_path()}\n{body}".encode()).hexdigest()


def idempotent_call(request, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` once per (token, Idempotency-Key); replay its stored answer on a repeat."""
    key = request.headers.get(HEADER)
    if key is None or request.auth is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters (a UUID is a good choice).",
            code="invalid_idempotency_key",
        )
    model = _model()
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        model.objects.filter(token=request.auth, key=key, created_at__lt=timezone.now() - RETENTION).delete()
        try:
            with transaction.atomic():
                record = model.objects.create(
                    token=request.auth, key=key, request_hash=fingerprint, response_status=0, response_body={}
                )
        except IntegrityError:
            first = model.objects.get(token=request.auth, key=key)
            if first.request_hash != fingerprint:
                raise IdempotencyKeyReused(
                    f"The {HEADER} {key!r} was already used with a different request; use a new key for a new request.",
                    details={"idempotency_key": key},
                )
            return Response(first.response_body, status=first.response_status, headers={REPLAY_HEADER: "true"})
        response = handler()
        if 200 <= response.status_code < 300:
            record.response_status = response.status_code
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"{}")
            record.save(update_fields=["response_status", "response_body"])
        else:
            transaction.set_rollback(True)
    return response


def idempotency_keys_purge(*, older_than: timedelta = RETENTION) -> int:
    """Delete keys older than ``older_than`` (never less than the retention); return how many went."""
    cutoff = timezone.now() - max(older_than, RETENTION)
    deleted, _ = _model().objects.filter(created_at__lt=cutoff).delete()
    return deleted
