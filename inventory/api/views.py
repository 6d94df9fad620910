"""PUT /inventory/variants (batched push by SKU, per-field modes) and GET /inventory/variants (change feed)."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from flxhub.api.fields import CommaListField, ListQuery, money, query_input, required_source, source_scope
from flxhub.api.pagination import keyset_page
from flxhub.api.schema import error_responses
from flxhub.api.views import ApiView

from ..models import InventoryVariant
from ..services.push import MAX_BATCH, MODES, PUSHABLE, VariantPush, inventory_variants_push

TAG = ["Inventory"]
MONEY = {"max_digits": 14, "decimal_places": 4, "min_value": Decimal("0"), "required": False, "allow_null": True}
DIMENSION = {"max_digits": 12, "decimal_places": 4, "min_value": Decimal("0"), "required": False, "allow_null": True}
VARIANT_VALUES = (
    "id",
    "source_id",
    "sku",
    "master_sku",
    "upc",
    "ean",
    "mpn",
    "title",
    "brand",
    "quantity",
    "committed_quantity",
    "cost",
    "msrp",
    "map_price",
    "shipping_cost",
    "dropship_fee",
    "weight",
    "status",
    "quantity_updated_at",
    "updated_at",
)
PUSH_STATUSES = [InventoryVariant.Status.ACTIVE, InventoryVariant.Status.DISCONTINUED]


@extend_schema_serializer(component_name="VariantPushModes")
class Modes(serializers.Serializer):
    """Mode per field: leave, set (default), set_if_not_null."""

    locals().update({name: serializers.ChoiceField(choices=MODES, required=False) for name in PUSHABLE})


@extend_schema_serializer(component_name="VariantPushItem")
class VariantItem(serializers.Serializer):
    sku = serializers.CharField(max_length=255)
    modes = Modes(required=False, help_text="Overrides the request's modes for this variant.")
    quantity = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True)
    cost = serializers.DecimalField(**MONEY)
    msrp = serializers.DecimalField(**MONEY)
    map_price = serializers.DecimalField(**MONEY)
    shipping_cost = serializers.DecimalField(**MONEY)
    dropship_fee = serializers.DecimalField(**MONEY)
    title = serializers.CharField(max_length=500, required=False, allow_null=True, allow_blank=True)
    brand = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    upc = serializers.CharField(max_length=14, required=False, allow_null=True, allow_blank=True)
    ean = serializers.CharField(max_length=14, required=False, allow_null=True, allow_blank=True)
    mpn = serializers.CharField(max_length=120, required=False, allow_null=True, allow_blank=True)
    weight = serializers.DecimalField(**DIMENSION)
    status = serializers.ChoiceField(choices=PUSH_STATUSES, required=False, allow_null=True)


@extend_schema_serializer(component_name="VariantPush")
class VariantPushDoc(serializers.Serializer):
    """The request body as documented; the view checks each variant on its own so one bad row fails alone."""

    source_id = serializers.IntegerField(required=False, min_value=1, help_text="Account token: the source.")
    modes = Modes(required=False, help_text="Mode per field for every variant; a field sent defaults to set.")
    variants = VariantItem(many=True, min_length=1, max_length=MAX_BATCH)


class VariantPushResultOutput(serializers.Serializer):
    sku = serializers.CharField()
    status = serializers.ChoiceField(choices=["updated", "unchanged", "not_found", "invalid"])
    changed = serializers.ListField(child=serializers.CharField())
    errors = serializers.DictField(child=serializers.JSONField())


class VariantPushOutput(serializers.Serializer):
    source_id = serializers.IntegerField()
    received = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    not_found = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = VariantPushResultOutput(many=True, help_text="One per variant sent, in order.")


class VariantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    source_id = serializers.IntegerField()
    sku = serializers.CharField()
    master_sku = serializers.CharField()
    upc = serializers.CharField()
    ean = serializers.CharField()
    mpn = serializers.CharField()
    title = serializers.CharField()
    brand = serializers.CharField()
    quantity = serializers.IntegerField()
    committed_quantity = serializers.IntegerField(help_text="Held by open FRs.")
    available = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    msrp = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    map_price = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    shipping_cost = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    dropship_fee = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    weight = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    status = serializers.ChoiceField(choices=InventoryVariant.Status.choices)
    quantity_updated_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class VariantPageOutput(serializers.Serializer):
    data = VariantOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()


class VariantListQuery(ListQuery):
    skus = CommaListField(child=serializers.CharField(max_length=255), required=False, help_text="SKUs (≤100).")
    source = serializers.IntegerField(required=False, min_value=1, help_text="Account token: one source's.")


def variant_present(row: dict) -> dict:
    return {
        **row,
        **{name: money(row[name]) for name in ("cost", "msrp", "map_price", "shipping_cost", "dropship_fee", "weight")},
        "available": row["quantity"] - row["committed_quantity"],
    }


class VariantListPushView(ApiView):
    allowed_token_kinds = ("source", "account")

    class Input(serializers.Serializer):
        source_id = serializers.IntegerField(required=False, min_value=1, help_text="Account token: the source.")
        modes = Modes(required=False, help_text="Mode per field for every variant; a field sent defaults to set.")
        variants = serializers.ListField(
            child=serializers.DictField(),
            min_length=1,
            max_length=MAX_BATCH,
            help_text=f"Up to {MAX_BATCH} VariantPushItem objects; each is checked on its own.",
        )

    @extend_schema(
        tags=TAG,
        operation_id="inventory_variants_list",
        summary="Read your variants (change feed)",
        parameters=[VariantListQuery],
        responses={200: VariantPageOutput, **error_responses(400, 404)},
    )
    def get(self, request):
        query = query_input(VariantListQuery, request)
        data = query.validated_data
        qs = InventoryVariant.objects.all()
        source_id = source_scope(request.auth, data.get("source"))
        if source_id is not None:
            qs = qs.filter(source_id=source_id)
        if data.get("skus"):
            qs = qs.filter(sku__in=data["skus"])
        page = keyset_page(qs.values(*VARIANT_VALUES), start=query.start(), limit=query.limit_value())
        return Response(page.envelope([variant_present(row) for row in page.rows]))

    @extend_schema(
        tags=TAG,
        operation_id="inventory_variants_push",
        summary="Push quantities, prices and details by SKU",
        description=f"Up to {MAX_BATCH} variants per call, matched by your SKU. Per field: `set` (the default) "
        "writes what you send, `set_if_not_null` skips nulls, `leave` ignores the field; a field you do not send "
        "is left alone. Each variant is answered on its own: updated, unchanged, not_found (unknown SKU) or "
        "invalid (with errors); the others are applied. Safe to repeat.",
        request=VariantPushDoc,
        examples=[
            OpenApiExample(
                "Quantities and costs",
                value={
                    "modes": {"cost": "set_if_not_null"},
                    "variants": [
                        {"sku": "ABC-1", "quantity": 12, "cost": "9.50"},
                        {"sku": "ABC-2", "quantity": 0, "cost": None},
                    ],
                },
                request_only=True,
            )
        ],
        responses={200: VariantPushOutput, **error_responses(400, 404)},
    )
    def put(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        source_id = required_source(request.auth, data.validated_data.get("source_id"))
        items, invalid = [], {}
        for index, raw in enumerate(data.validated_data["variants"]):
            item = VariantItem(data=raw)
            if item.is_valid():
                values = {k: v for k, v in item.validated_data.items() if k not in ("sku", "modes")}
                items.append(
                    (
                        index,
                        VariantPush(
                            sku=item.validated_data["sku"], values=values, modes=item.validated_data.get("modes", {})
                        ),
                    )
                )
            else:
                invalid[index] = {
                    "sku": str(raw.get("sku", "")),
                    "status": "invalid",
                    "changed": [],
                    "errors": item.errors,
                }
        results = inventory_variants_push(
            source_id=source_id, items=[item for _, item in items], default_modes=data.validated_data.get("modes")
        )
        by_index = {index: vars(result) for (index, _), result in zip(items, results, strict=True)}
        ordered = [invalid.get(i) or by_index[i] for i in range(len(data.validated_data["variants"]))]
        counts = {
            status: sum(1 for r in ordered if r["status"] == status)
            for status in ("updated", "unchanged", "not_found", "invalid")
        }
        return Response({"source_id": source_id, "received": len(ordered), **counts, "results": ordered})
