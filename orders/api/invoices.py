"""Invoices: a source posts its invoice for an FR and gets the three-way match back; both sides read them."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from flxhub.api.fields import CommaListField, ListQuery, query_input, required_source, source_scope
from flxhub.api.pagination import keyset_page
from flxhub.api.schema import IDEMPOTENCY_KEY, error_responses
from flxhub.api.views import ApiView
from flxhub.exceptions import Conflict

from ..models import SourceInvoice
from ..services.invoices import InvoiceLineRequest, invoice_record
from . import selectors
from .fulfillment_requests import LineRef
from .outputs import InvoiceOutput, InvoicePageOutput

TAG = ["Invoices"]
MONEY = {"max_digits": 14, "decimal_places": 4}


class InvoiceListQuery(ListQuery):
    invoice_number = CommaListField(child=serializers.CharField(max_length=100), required=False)
    po_number = CommaListField(
        child=serializers.CharField(max_length=100), required=False, help_text="FR (PO) numbers, comma-separated."
    )
    match_status = CommaListField(
        child=serializers.ChoiceField(choices=SourceInvoice.MatchStatus.values), required=False
    )
    source = serializers.IntegerField(required=False, min_value=1, help_text="Account token: one source's.")


class InvoiceListCreateView(ApiView):
    allowed_token_kinds = ("source", "account")

    @extend_schema_serializer(component_name="InvoiceCreate")
    class Input(serializers.Serializer):
        @extend_schema_serializer(component_name="InvoiceCreateLine")
        class Line(LineRef):
            quantity = serializers.IntegerField(min_value=1, max_value=10**6)
            unit_cost = serializers.DecimalField(**MONEY, min_value=Decimal("0"))

        source_id = serializers.IntegerField(required=False, min_value=1, help_text="Account token: the source.")
        fulfillment_request_id = serializers.IntegerField(required=False, min_value=1)
        po_number = serializers.CharField(
            required=False, allow_blank=True, max_length=100, default="", help_text="The FR (PO) number."
        )
        invoice_number = serializers.CharField(max_length=100)
        invoice_date = serializers.DateField(required=False, allow_null=True, default=None)
        currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
        charges = serializers.DecimalField(
            **MONEY, min_value=Decimal("0"), required=False, default=Decimal("0"), help_text="Freight, fees."
        )
        total = serializers.DecimalField(**MONEY, min_value=Decimal("0"))
        lines = Line(many=True, required=False, default=list)

    @extend_schema(
        tags=TAG,
        operation_id="invoices_list",
        summary="List invoices with their match result",
        parameters=[InvoiceListQuery],
        responses={200: InvoicePageOutput, **error_responses(400, 404)},
    )
    def get(self, request):
        query = query_input(InvoiceListQuery, request)
        data = query.validated_data
        qs = selectors.invoice_filter(
            selectors.invoice_scope(request.auth),
            invoice_numbers=data.get("invoice_number"),
            po_numbers=data.get("po_number"),
            match_statuses=data.get("match_status"),
            source_id=source_scope(request.auth, data.get("source")),
        )
        page = keyset_page(selectors.invoice_values(qs), start=query.start(), limit=query.limit_value())
        return Response(page.envelope(selectors.invoice_present_rows(page.rows)))

    @extend_schema(
        tags=TAG,
        operation_id="invoices_create",
        summary="Post an invoice",
        description="Matched three ways: unit cost against the cost at routing, invoiced quantity (with earlier "
        "invoices of the FR) against shipped and acknowledged quantities, and the total against lines plus "
        "charges. The answer carries `match_status` and every mismatch. An invoice number already posted is "
        "refused with 409 (`invoice_already_recorded`, the invoice in details).",
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Invoice for one FR",
                value={
                    "po_number": "54007-1",
                    "invoice_number": "INV-1001",
                    "invoice_date": "2025-03-02",
                    "charges": "7.45",
                    "total": "27.45",
                    "lines": [{"sku": "ABC-1", "quantity": 2, "unit_cost": "10.00"}],
                },
                request_only=True,
            )
        ],
        responses={201: InvoiceOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        fr_id, source_id = values.get("fulfillment_request_id"), values.get("source_id")
        if fr_id is not None:
            fr_id = selectors.fr_find_id(token=request.auth, fr_id=fr_id)
            if request.auth.kind == "account" and source_id is None:
                source_id = selectors.fr_source_id(fr_id=fr_id)
        source_id = required_source(request.auth, source_id)
        invoice, created = invoice_record(
            source_id=source_id,
            invoice_number=values["invoice_number"],
            total=values["total"],
            lines=[
                InvoiceLineRequest(
                    quantity=line["quantity"],
                    unit_cost=line["unit_cost"],
                    fr_line_id=line.get("line_id"),
                    sku=line.get("sku", ""),
                )
                for line in values["lines"]
            ],
            fr_id=fr_id,
            po_number=values["po_number"],
            invoice_date=values["invoice_date"],
            currency=values["currency"],
            charges=values["charges"],
        )
        output = selectors.invoice_detail(invoice_id=invoice.pk)
        if not created:
            raise Conflict(
                f"Invoice {invoice.invoice_number} is already recorded.",
                code="invoice_already_recorded",
                details={"invoice": output},
            )
        return Response(output, status=201)
