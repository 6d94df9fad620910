from django.urls import path

from . import fulfillment_requests as frs
from .invoices import InvoiceListCreateView
from .orders import OrderCreateView, OrderDetailView
from .shipments import ShipmentListCreateView

urlpatterns = [
    path("fulfillment-requests", frs.FulfillmentRequestListView.as_view(), name="fr-list"),
    path("fulfillment-requests/count", frs.FulfillmentRequestCountView.as_view(), name="fr-count"),
    path("fulfillment-requests/<int:fr_id>", frs.FulfillmentRequestDetailView.as_view(), name="fr-detail"),
    path(
        "fulfillment-requests/<int:fr_id>/acknowledge",
        frs.FulfillmentRequestAcknowledgeView.as_view(),
        name="fr-acknowledge",
    ),
    path("fulfillment-requests/<int:fr_id>/cancel", frs.FulfillmentRequestCancelView.as_view(), name="fr-cancel"),
    path(
        "fulfillment-requests/<int:fr_id>/processing-failed",
        frs.FulfillmentRequestProcessingFailedView.as_view(),
        name="fr-processing-failed",
    ),
    path(
        "fulfillment-requests/<int:fr_id>/processed",
        frs.FulfillmentRequestProcessedView.as_view(),
        name="fr-processed",
    ),
    path("shipments", ShipmentListCreateView.as_view(), name="shipments"),
    path("invoices", InvoiceListCreateView.as_view(), name="invoices"),
    path("orders", OrderCreateView.as_view(), name="orders"),
    path("orders/<int:order_id>", OrderDetailView.as_view(), name="order-detail"),
]
