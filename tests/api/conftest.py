"""API fixtures: a source with FRs, a second source, a channel, and one token of each kind."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from orders.models import FulfillmentRequest
from orders.services.fr_status import fr_transition
from orders.services.tokens import api_token_create
from tests.factories import ChannelFactory, SourceFactory, VariantFactory


@dataclass
class Tokens:
    source: str
    other_source: str
    account: str
    channel: str


@pytest.fixture
def source(db):
    return SourceFactory(name="Acme Supply")


@pytest.fixture
def other_source(db):
    return SourceFactory(name="Other Supply")


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Web shop")


@pytest.fixture
def tokens(source, other_source, channel) -> Tokens:
    return Tokens(
        source=api_token_create(kind="source", name="acme", source_id=source.pk)[1],
        other_source=api_token_create(kind="source", name="other", source_id=other_source.pk)[1],
        account=api_token_create(kind="account", name="ops")[1],
        channel=api_token_create(kind="channel", name="shop", channel_id=channel.pk)[1],
    )


@pytest.fixture
def api():
    """``api(token)`` → an APIClient sending ``Authorization: Bearer <token>``."""

    def make(token: str | None = None, header: str = "bearer") -> APIClient:
        client = APIClient()
        if token and header == "bearer":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        elif token:
            client.credentials(HTTP_X_API_TOKEN=token)
        return client

    return make


@pytest.fixture
def sent_fr(make_fr, source):
    """An FR of two lines at ``source``, sent (processing), as a supplier would poll it."""

    def make(*quantities: int, status: str = FulfillmentRequest.Status.PROCESSING, **kwargs) -> FulfillmentRequest:
        quantities = quantities or (2, 1)
        fr = make_fr(*[(VariantFactory(source=source, quantity=50), q) for q in quantities], **kwargs)
        if fr.status == FulfillmentRequest.Status.UNPROCESSED and status != fr.status:
            fr = fr_transition(fr_id=fr.pk, to=FulfillmentRequest.Status.PROCESSING)
        if status != fr.status:
            fr = fr_transition(fr_id=fr.pk, to=status)
        return fr

    return make
