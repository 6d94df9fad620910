"""The supplier's polling client against a live server: poll → acknowledge → ship → invoice, exactly once."""

from dataclasses import dataclass

import pytest
import requests
from django.utils import timezone
from requests.adapters import HTTPAdapter

from bench.supplier_client import SupplierClient
from orders.models import FulfillmentRequest, Shipment, ShipmentLine, SourceInvoice
from orders.services.fr_status import fr_transition
from orders.services.tokens import api_token_create
from tests.factories import VariantFactory

Status = FulfillmentRequest.Status


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    idempotency_key: str | None
    status: int
    replayed: bool


class LoseFirstAnswer(HTTPAdapter):
    """Send every request for real, but lose the answer to the first POST to ``path`` as a read timeout would.

    The server has done the work by then; only the client does not know it.
    """

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.lost = False
        self.calls: list[Call] = []

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        self.calls.append(
            Call(
                method=request.method,
                path=request.path_url.split("?")[0],
                idempotency_key=request.headers.get("Idempotency-Key"),
                status=response.status_code,
                replayed=response.headers.get("Idempotent-Replayed") == "true",
            )
        )
        if request.method == "POST" and request.path_url == self.path and not self.lost:
            self.lost = True
            response.close()
            raise requests.ReadTimeout("simulated: the answer never arrived", request=request)
        return response


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_supplier_client_ships_and_invoices_once_after_a_lost_answer(
    live_server, source, other_source, sent_fr, make_fr
):
    started = timezone.now()
    fr = sent_fr(2, 1)
    not_sent = sent_fr(1, status=Status.UNPROCESSED)
    elsewhere = make_fr((VariantFactory(source=other_source), 1))
    fr_transition(fr_id=elsewhere.pk, to=Status.PROCESSING)
    _, token = api_token_create(kind="source", name="supplier", source_id=source.pk)
    adapter = LoseFirstAnswer("/api/v1/shipments")
    session = requests.Session()
    session.mount("http://", adapter)
    base_url = live_server.url.replace("localhost", "127.0.0.1")
    client = SupplierClient(base_url, token, session=session, backoff_seconds=0)

    handled = client.run_once(updated_after=started.isoformat())

    assert [h.fr_id for h in handled] == [fr.pk]
    assert handled[0].match_status == "matched"
    shipment_posts = [call for call in adapter.calls if call.method == "POST" and call.path == "/api/v1/shipments"]
    assert len(shipment_posts) == 2
    first, retry = shipment_posts
    assert first.idempotency_key == retry.idempotency_key is not None
    assert (first.status, first.replayed) == (201, False)
    assert (retry.status, retry.replayed) == (201, True)
    assert all(call.idempotency_key for call in adapter.calls if call.method == "POST")

    fr.refresh_from_db()
    assert fr.status == Status.ACKNOWLEDGED and fr.source_reference == f"SO-{fr.number}"
    assert fr.shipping_status == FulfillmentRequest.ShippingStatus.SHIPPED
    assert fr.invoice_status == FulfillmentRequest.InvoiceStatus.MATCHED
    shipment = Shipment.objects.get(fulfillment_request=fr)
    assert shipment.pk == handled[0].shipment_id
    assert sorted(ShipmentLine.objects.filter(shipment=shipment).values_list("quantity", flat=True)) == [1, 2]
    invoice = SourceInvoice.objects.get(fulfillment_request=fr)
    assert invoice.pk == handled[0].invoice_id and invoice.match_status == SourceInvoice.MatchStatus.MATCHED
    assert SourceInvoice.objects.count() == 1 and Shipment.objects.count() == 1

    # The next poll resumes from the kept cursor: nothing new, nothing done twice.
    assert client.run_once() == []
    assert Shipment.objects.count() == 1 and SourceInvoice.objects.count() == 1
    not_sent.refresh_from_db()
    elsewhere.refresh_from_db()
    assert not_sent.status == Status.UNPROCESSED and elsewhere.status == Status.PROCESSING
