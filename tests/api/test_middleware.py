"""Session, CSRF, auth and messages middleware pass over /api/v1/: the API's answers are what Django's own give."""

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db

STOCK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]


def answers(api, tokens, fr_id):
    """Status, headers and body of API calls that succeed, fail in several ways, and miss."""
    source, channel, anonymous = api(tokens.source), api(tokens.channel), api()
    calls = [
        source.get("/api/v1/fulfillment-requests", {"limit": 1}),
        source.get(f"/api/v1/fulfillment-requests/{fr_id}"),
        source.get("/api/v1/fulfillment-requests", {"status": "bogus"}),
        source.post(f"/api/v1/fulfillment-requests/{fr_id + 1000}/acknowledge", {}, format="json"),
        channel.get("/api/v1/fulfillment-requests"),
        anonymous.get("/api/v1/fulfillment-requests"),
        source.get("/api/v1/no-such-thing"),
        source.post("/api/v1/no-such-thing", {}, format="json"),
    ]
    ignored = {"X-RateLimit-Remaining", "X-RateLimit-Reset", "Date"}
    return [
        (
            response.status_code,
            {name: value for name, value in response.headers.items() if name not in ignored},
            response.content,
        )
        for response in calls
    ]


def test_api_answers_are_those_of_djangos_own_middleware(api, tokens, sent_fr):
    fr = sent_fr()
    assert "flxhub.api.middleware.SessionMiddleware" in settings.MIDDLEWARE
    ours = answers(api, tokens, fr.pk)
    with override_settings(MIDDLEWARE=STOCK_MIDDLEWARE):
        assert answers(api, tokens, fr.pk) == ours


def test_pages_outside_the_api_still_get_session_csrf_and_user(client, admin_user):
    assert "csrftoken" in client.get("/admin/login/").cookies
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200 and response.wsgi_request.user == admin_user
    assert response.wsgi_request.session.session_key and hasattr(response.wsgi_request, "_messages")


def test_api_requests_get_no_session_or_django_user(api, tokens, sent_fr):
    sent_fr()
    response = api(tokens.source).get("/api/v1/fulfillment-requests")
    request = response.wsgi_request
    assert response.status_code == 200
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert request.user.kind == "source"  # DRF's token principal, nothing from django.contrib.auth
