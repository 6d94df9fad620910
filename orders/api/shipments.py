"""Shipments: a source records tracking against its FR; sources, channels and the account read them back."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from flxhub.api.fields import CommaListField, ListQuery, query_input, source_scope
from flxhub.api.pagination import keyset_page
from flxhub.api.schema import IDEMPOTENCY_KEY, error_responses
from flxhub.api.views import ApiView
from flxhub.exceptions import Conflict

from ..services.shipments import ShipmentLineRequest, shipment_record
from . import selectors
from .fulfillment_requests import LineRef
from .outputs import ShipmentOutput, ShipmentPageOutput

TAG = ["Shipments"]


class FRRef(serializers.Serializer):
    fulfillment_request_id = serializers.IntegerField(required=False, min_value=1)
    fulfillment_request_number = serializers.CharField(
        required=False, max_length=100, help_text="The FR (PO) number, instead of its id."
    )

    def validate(self, attrs):
        if not attrs.get("fulfillment_request_id") and not attrs.get("fulfillment_request_number"):
            raise serializers.ValidationError(
                {"fulfillment_request_id": ["Name the FR by fulfillment_request_id or fulfillment_request_number."]}
            )
        return super().validate(attrs)


class ShipmentListQuery(ListQuery):
    fulfillment_request_number = CommaListField(
        child=serializers.CharField(max_length=100), required=False, help_text="FR numbers, comma-separated."
    )
    fulfillment_request = serializers.IntegerField(required=False, min_value=1, help_text="One FR's shipments.")
    order = serializers.IntegerField(required=False, min_value=1, help_text="One order's shipments.")
    source = serializers.IntegerField(required=False, min_value=1, help_text="Account token: one source's.")


class ShipmentListCreateView(ApiView):
    allowed_token_kinds = {"GET": ("source", "channel", "account"), "POST": ("source", "account")}

    @extend_schema_serializer(component_name="ShipmentCreate")
    class Input(FRRef):
        @extend_schema_serializer(component_name="ShipmentCreateLine")
        class Line(LineRef):
            quantity = serializers.IntegerField(min_value=1, max_value=10**6)

        tracking_number = serializers.CharField(max_length=100)
        tracking_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
        carrier = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
        method = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
        shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        cost = serializers.DecimalField(
            max_digits=14, decimal_places=4, min_value=0, required=False, allow_null=True, default=None
        )
        allow_duplicate_tracking = serializers.BooleanField(
            required=False, default=False, help_text="Record it even if this FR already has this tracking number."
        )
        lines = Line(many=True, allow_empty=False, help_text="What is in the box, by FR line id or SKU.")

    @extend_schema(
        tags=TAG,
        operation_id="shipments_list",
        summary="Poll shipments",
        description="Shipments in (updated_at, id) order after `cursor` (or `updated_after`). A source token sees "
        "its FRs' shipments, a channel token its orders' shipments.",
        parameters=[ShipmentListQuery],
        responses={200: ShipmentPageOutput, **error_responses(400, 404)},
    )
    def get(self, request):
        query = query_input(ShipmentListQuery, request)
        data = query.validated_data
        qs = selectors.shipment_filter(
            selectors.shipment_scope(request.auth),
            fr_numbers=data.get("fulfillment_request_number"),
            fr_id=data.get("fulfillment_request"),
            order_id=data.get("order"),
            source_id=source_scope(request.auth, data.get("source")) if request.auth.kind != "channel" else None,
        )
        page = keyset_page(selectors.shipment_values(qs), start=query.start(), limit=query.limit_value())
        return Response(page.envelope(selectors.shipment_present_rows(page.rows)))

    @extend_schema(
        tags=TAG,
        operation_id="shipments_create",
        summary="Record a shipment",
        description="Source or account token. The same tracking number on the same FR is refused with 409 "
        "(`shipment_already_recorded`, the existing shipment in details) unless `allow_duplicate_tracking`; a "
        "retry with the same Idempotency-Key replays the first answer instead.",
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Ship one line",
                value={
                    "fulfillment_request_number": "54007-1",
                    "tracking_number": "1Z999AA10123456784",
                    "carrier": "UPS",
                    "method": "UPS-GND",
                    "shipped_at": "2025-03-01T15:04:05Z",
                    "cost": "7.45",
                    "lines": [{"sku": "ABC-1", "quantity": 2}],
                },
                request_only=True,
            )
        ],
        responses={201: ShipmentOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        fr_id = selectors.fr_find_id(
            token=request.auth,
            fr_id=values.get("fulfillment_request_id"),
            number=values.get("fulfillment_request_number", ""),
        )
        shipment, created = shipment_record(
            fr_id=fr_id,
            tracking_number=values["tracking_number"],
            lines=[
                ShipmentLineRequest(quantity=line["quantity"], fr_line_id=line.get("line_id"), sku=line.get("sku", ""))
                for line in values["lines"]
            ],
            carrier=values["carrier"],
            method=values["method"],
            shipped_at=values["shipped_at"],
            cost=values["cost"],
            tracking_url=values["tracking_url"],
            allow_duplicate_tracking=values["allow_duplicate_tracking"],
            actor_label=self.actor_label,
        )
        output = selectors.shipment_detail(shipment_id=shipment.pk)
        if not created:
            raise Conflict(
                f"Tracking number {shipment.tracking_number} is already recorded on FR "
                f"{output['fulfillment_request_number']}; send allow_duplicate_tracking to record it again.",
                code="shipment_already_recorded",
                details={"shipment": output},
            )
        return Response(output, status=201)
