"""Channel side: push an order (idempotent on the channel order number) and follow it."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from flxhub.api.schema import IDEMPOTENCY_KEY, error_responses
from flxhub.api.views import ApiView
from flxhub.exceptions import ValidationFailed

from ..models import Order
from ..services.order_import import OrderImport, OrderLineImport, order_import
from . import selectors
from .outputs import OrderOutput

TAG = ["Orders"]
IMPORT_STATUSES = [Order.Status.PAID, Order.Status.DEFERRED]


class OrderCreateView(ApiView):
    allowed_token_kinds = ("channel", "account")

    @extend_schema_serializer(component_name="OrderCreate")
    class Input(serializers.Serializer):
        @extend_schema_serializer(component_name="OrderCreateLine")
        class Line(serializers.Serializer):
            master_sku = serializers.CharField(max_length=255)
            title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
            quantity = serializers.IntegerField(min_value=1, max_value=10**6)
            price = serializers.DecimalField(
                max_digits=14, decimal_places=4, min_value=Decimal("0"), required=False, allow_null=True, default=None
            )

        @extend_schema_serializer(component_name="OrderCreateCustomer")
        class Customer(serializers.Serializer):
            name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
            email = serializers.EmailField(required=False, allow_blank=True, default="")
            phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

        @extend_schema_serializer(component_name="OrderCreateShipTo")
        class ShipTo(serializers.Serializer):
            name = serializers.CharField(max_length=200)
            company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
            address1 = serializers.CharField(max_length=300)
            address2 = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
            city = serializers.CharField(max_length=120)
            state = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
            postal_code = serializers.CharField(max_length=20)
            country = serializers.RegexField(r"^[A-Z]{2}$", required=False, default="US", help_text="ISO 3166 alpha-2.")

        channel_id = serializers.IntegerField(required=False, min_value=1, help_text="Account token: the channel.")
        channel_order_number = serializers.CharField(max_length=100)
        status = serializers.ChoiceField(choices=IMPORT_STATUSES, default=Order.Status.PAID)
        customer = Customer(required=False)
        ship_to = ShipTo()
        requested_shipping_method = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
        placed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        lines = Line(many=True, allow_empty=False, max_length=1000)

    @extend_schema(
        tags=TAG,
        operation_id="orders_create",
        summary="Push an order",
        description="Idempotent on the channel order number: sending an order again answers 200 with the order "
        "as first recorded (201 the first time).",
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Paid order",
                value={
                    "channel_order_number": "54007",
                    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
                    "ship_to": {
                        "name": "Ada Lovelace",
                        "address1": "12 Analytical St",
                        "city": "Springfield",
                        "state": "IL",
                        "postal_code": "62701",
                        "country": "US",
                    },
                    "requested_shipping_method": "ground",
                    "lines": [{"master_sku": "USD-ABC-1", "quantity": 2, "price": "25.00"}],
                },
                request_only=True,
            )
        ],
        responses={200: OrderOutput, 201: OrderOutput, **error_responses(400, 404, 422)},
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if request.auth.kind == "channel":
            channel_id = request.auth.channel_id
        elif values.get("channel_id"):
            channel_id = values["channel_id"]
        else:
            raise ValidationFailed(
                "An account token must name the channel (channel_id).",
                details={"channel_id": ["This field is required."]},
            )
        order, created = order_import(
            channel_id=channel_id,
            data=OrderImport(
                channel_order_number=values["channel_order_number"],
                status=values["status"],
                customer=dict(values.get("customer") or {}),
                ship_to=dict(values["ship_to"]),
                requested_shipping_method=values["requested_shipping_method"],
                placed_at=values["placed_at"],
                lines=[OrderLineImport(**line) for line in values["lines"]],
            ),
        )
        return Response(selectors.order_detail(token=request.auth, order_id=order.pk), status=201 if created else 200)


class OrderDetailView(ApiView):
    allowed_token_kinds = ("channel", "account")

    @extend_schema(
        tags=TAG,
        operation_id="orders_retrieve",
        summary="Read an order with its fulfillment requests and shipments",
        responses={200: OrderOutput, **error_responses(404)},
    )
    def get(self, request, order_id: int):
        return Response(selectors.order_detail(token=request.auth, order_id=order_id))
