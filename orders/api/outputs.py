"""Output shapes of the API, for the schema (the hot lists build the same dicts by hand; tests check they agree)."""

from rest_framework import serializers

from ..models import FulfillmentRequest, Order, SourceInvoice

MONEY = {"max_digits": 14, "decimal_places": 4, "coerce_to_string": True}


class ShipToOutput(serializers.Serializer):
    name = serializers.CharField()
    company = serializers.CharField()
    address1 = serializers.CharField()
    address2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    email = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)


class FRLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(help_text="The source's SKU.")
    master_sku = serializers.CharField()
    upc = serializers.CharField()
    mpn = serializers.CharField()
    title = serializers.CharField()
    cost = serializers.DecimalField(**MONEY, allow_null=True, help_text="Cost at routing time.")
    quantity = serializers.IntegerField()
    acknowledged_quantity = serializers.IntegerField()
    backordered_quantity = serializers.IntegerField()
    canceled_quantity = serializers.IntegerField()
    shipped_quantity = serializers.IntegerField()
    voided_quantity = serializers.IntegerField()
    open_quantity = serializers.IntegerField(help_text="Neither shipped, canceled nor voided.")


class FulfillmentRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The FR (purchase order) number.")
    order_id = serializers.IntegerField()
    source_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=FulfillmentRequest.Status.choices)
    shipping_status = serializers.ChoiceField(choices=FulfillmentRequest.ShippingStatus.choices)
    invoice_status = serializers.ChoiceField(choices=FulfillmentRequest.InvoiceStatus.choices)
    status_reason = serializers.CharField()
    acknowledged = serializers.BooleanField()
    shipping_method = serializers.CharField()
    source_shipping_code = serializers.CharField(help_text="Your code for the shipping method.")
    source_reference = serializers.CharField()
    ship_to = ShipToOutput()
    generated_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    canceled_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    lines = FRLineOutput(many=True)


class PageOutput(serializers.Serializer):
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; keep it for the next poll."
    )
    has_more = serializers.BooleanField(help_text="True: fetch the next page now. False: poll again later.")


class FulfillmentRequestPageOutput(PageOutput):
    data = FulfillmentRequestOutput(many=True)


class CountOutput(serializers.Serializer):
    count = serializers.IntegerField()


class ShipmentLineOutput(serializers.Serializer):
    fr_line_id = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ShipmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    fulfillment_request_id = serializers.IntegerField()
    fulfillment_request_number = serializers.CharField()
    order_id = serializers.IntegerField()
    channel_order_number = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField()
    carrier = serializers.CharField()
    method = serializers.CharField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    cost = serializers.DecimalField(**MONEY, allow_null=True)
    allow_duplicate_tracking = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    lines = ShipmentLineOutput(many=True)


class ShipmentPageOutput(PageOutput):
    data = ShipmentOutput(many=True)


class InvoiceLineOutput(serializers.Serializer):
    fr_line_id = serializers.IntegerField(allow_null=True)
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_cost = serializers.DecimalField(**MONEY)


class InvoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    source_id = serializers.IntegerField()
    fulfillment_request_id = serializers.IntegerField(allow_null=True)
    fulfillment_request_number = serializers.CharField(allow_null=True)
    po_number = serializers.CharField()
    invoice_number = serializers.CharField()
    invoice_date = serializers.DateField(allow_null=True)
    currency = serializers.CharField()
    charges = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    match_status = serializers.ChoiceField(choices=SourceInvoice.MatchStatus.choices)
    mismatches = serializers.ListField(
        child=serializers.DictField(),
        help_text="One entry per disagreement between the invoice, the FR (cost at routing, acknowledged "
        "quantity) and the shipments: kind, sku, and the invoiced and expected values.",
    )
    lines = InvoiceLineOutput(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class InvoicePageOutput(PageOutput):
    data = InvoiceOutput(many=True)


class CustomerOutput(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    master_sku = serializers.CharField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    price = serializers.DecimalField(**MONEY, allow_null=True)


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    channel_order_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    customer = CustomerOutput()
    ship_to = ShipToOutput()
    requested_shipping_method = serializers.CharField()
    placed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    lines = OrderLineOutput(many=True)
    fulfillment_requests = FulfillmentRequestOutput(many=True)
    shipments = ShipmentOutput(many=True)
