"""Tokens (hashed, shown once, revocable, expiring), kind checks, and per-token rate limits."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from orders.models import ApiToken
from orders.services.tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db
FR_LIST = "/api/v1/fulfillment-requests"
# Mid-minute and frozen, so a test's requests never straddle the start of a new rate-limit minute.
MID_MINUTE = time_machine.travel("2031-05-04 10:20:30Z", tick=False)


def test_token_is_stored_as_its_sha256_only(source):
    token, plaintext = api_token_create(kind="source", name="acme", source_id=source.pk)
    assert plaintext.startswith(f"flx_{token.prefix}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in {str(value) for value in stored.__dict__.values()}


def test_no_token_is_401_with_a_hint_and_www_authenticate(api):
    response = api().get(FR_LIST)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "X-API-TOKEN" in response.json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("bad", ["nonsense", "flx_abcd1234_wrongsecret"])
def test_unknown_or_malformed_token_is_401(api, bad):
    response = api(bad).get(FR_LIST)
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"


def test_revoked_and_expired_tokens_are_401_saying_why(api, source):
    revoked, revoked_plain = api_token_create(kind="source", name="old", source_id=source.pk)
    api_token_revoke(token_id=revoked.pk)
    _, expired_plain = api_token_create(
        kind="source", name="tmp", source_id=source.pk, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert api(revoked_plain).get(FR_LIST).json()["code"] == "token_revoked"
    assert api(expired_plain).get(FR_LIST).json()["code"] == "token_expired"


def test_use_sets_last_used_at(api, source):
    token, plaintext = api_token_create(kind="source", name="acme", source_id=source.pk)
    assert api(plaintext).get(FR_LIST).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_wrong_kind_is_403_naming_the_kind_needed(api, tokens):
    response = api(tokens.channel).get(FR_LIST)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "wrong_token_kind"
    assert "source token or account token" in body["message"] and "channel token" in body["message"]
    assert body["details"] == {"token_kind": "channel", "allowed_token_kinds": ["source", "account"]}


def test_create_api_token_command_prints_the_token_once(source):
    out = StringIO()
    call_command("create_api_token", "--kind", "source", "--source", source.name, stdout=out)
    plaintext = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(key_hash=hashlib.sha256(plaintext.encode()).hexdigest())
    assert token.kind == "source" and token.source == source
    out = StringIO()
    call_command("create_api_token", "--kind", "account", stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("flx_")


@MID_MINUTE
def test_every_answer_carries_the_rate_limit_headers(api, tokens):
    client = api(tokens.source)
    first, second = client.get(FR_LIST), client.get(FR_LIST)
    assert first.headers["X-RateLimit-Limit"] == "600"
    assert int(first.headers["X-RateLimit-Remaining"]) - int(second.headers["X-RateLimit-Remaining"]) == 1
    assert first.headers["X-RateLimit-Reset"] == "30"
    wrong_kind = api(tokens.channel).get(FR_LIST)
    assert wrong_kind.status_code == 403 and "X-RateLimit-Remaining" in wrong_kind.headers


@MID_MINUTE
def test_over_the_limit_is_429_with_retry_after_and_buckets_are_per_token(api, source, tokens):
    _, plaintext = api_token_create(kind="source", name="tight", source_id=source.pk, rate_limit_per_minute=3)
    client = api(plaintext)
    statuses = [client.get(FR_LIST).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(FR_LIST)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert response.headers["Retry-After"] == "30"
    assert body["details"]["retry_after_seconds"] == int(response.headers["Retry-After"])
    assert response.headers["X-RateLimit-Limit"] == "3" and response.headers["X-RateLimit-Remaining"] == "0"
    assert api(tokens.source).get(FR_LIST).status_code == 200
