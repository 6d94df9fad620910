"""FR endpoints: poll (cursor), read, count, and the source's answers (acknowledge, cancel, fail, processed)."""

from dataclasses import asdict

from django.db import connection
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from flxhub.api.fields import CommaListField, ListQuery, ReusedFields, query_input, source_scope
from flxhub.api.pagination import keyset_page
from flxhub.api.schema import IDEMPOTENCY_KEY, error_responses
from flxhub.api.views import ApiView

from ..models import FulfillmentRequest
from ..selectors.fr_api import FRPoll, fr_page_json
from ..services.acks import AckLineRequest, CancelLineRequest, fr_acknowledge, fr_lines_cancel
from ..services.fr_status import fr_transition
from . import selectors
from .outputs import CountOutput, FulfillmentRequestOutput, FulfillmentRequestPageOutput

Status = FulfillmentRequest.Status
SOURCE_SIDE = ("source", "account")
TAG = ["Fulfillment requests"]


class FRFilters(ReusedFields, serializers.Serializer):
    status = CommaListField(
        child=serializers.ChoiceField(choices=Status.values),
        required=False,
        help_text="One or more statuses, comma-separated: " + ", ".join(Status.values) + ".",
    )
    shipping_status = CommaListField(
        child=serializers.ChoiceField(choices=FulfillmentRequest.ShippingStatus.values),
        required=False,
        help_text="One or more shipping statuses, comma-separated.",
    )
    acknowledged = serializers.BooleanField(required=False, help_text="true: acknowledged FRs only; false: not yet.")
    since_id = serializers.IntegerField(required=False, min_value=0, help_text="Only FRs with a greater id.")
    numbers = CommaListField(
        child=serializers.CharField(max_length=100), required=False, help_text="FR numbers, comma-separated (≤100)."
    )
    source = serializers.IntegerField(required=False, min_value=1, help_text="Account token: one source's FRs.")
    order = serializers.IntegerField(required=False, min_value=1, help_text="One order's FRs.")

    def poll(self, token) -> FRPoll:
        data = self.validated_data
        return FRPoll(
            statuses=data.get("status"),
            shipping_statuses=data.get("shipping_status"),
            acknowledged=data.get("acknowledged"),
            since_id=data.get("since_id"),
            numbers=data.get("numbers"),
            source_id=source_scope(token, data.get("source")),
            order_id=data.get("order"),
        )

    def queryset(self, token):
        return selectors.fr_filter(selectors.fr_scope(token), **asdict(self.poll(token)))


class FRListQuery(FRFilters, ListQuery):
    pass


def fr_answer(token, fr_id: int, status: int = 200) -> Response:
    return Response(selectors.fr_detail(token=token, fr_id=fr_id), status=status)


class FulfillmentRequestListView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_list",
        summary="Poll fulfillment requests",
        description="FRs in (updated_at, id) order after `cursor` (or `updated_after`). Keep `next_cursor` between "
        "polls: an FR that changes while you page reappears later in its new state, and none is ever skipped. "
        "A source token sees its own FRs only.",
        parameters=[FRListQuery],
        responses={200: FulfillmentRequestPageOutput, **error_responses(400, 404)},
    )
    def get(self, request):
        query = query_input(FRListQuery, request)
        start, limit = query.start(), query.limit_value()
        if connection.vendor == "postgresql" and request.accepted_media_type == "application/json":
            # The page's JSON comes from PostgreSQL as bytes, exactly what the serializer below would render
            # (which still serves SQLite, and a client asking for indented JSON).
            body = fr_page_json(query.poll(request.auth), start=start, limit=limit)
            return HttpResponse(body, content_type="application/json")
        page = keyset_page(selectors.fr_values(query.queryset(request.auth)), start=start, limit=limit)
        return Response(page.envelope(selectors.fr_present_rows(page.rows)))


class FulfillmentRequestCountView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_count",
        summary="Count fulfillment requests",
        parameters=[FRFilters],
        responses={200: CountOutput, **error_responses(400, 404)},
    )
    def get(self, request):
        query = query_input(FRFilters, request)
        return Response({"count": query.queryset(request.auth).count()})


class FulfillmentRequestDetailView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_retrieve",
        summary="Read one fulfillment request",
        responses={200: FulfillmentRequestOutput, **error_responses(404)},
    )
    def get(self, request, fr_id: int):
        return fr_answer(request.auth, fr_id)


class LineRef(serializers.Serializer):
    line_id = serializers.IntegerField(required=False, min_value=1, help_text="The FR line's id (wins over sku).")
    sku = serializers.CharField(required=False, max_length=255, help_text="Your SKU, when unique on the FR.")

    def validate(self, attrs):
        if not attrs.get("line_id") and not attrs.get("sku"):
            raise serializers.ValidationError("Name the line by line_id or sku.")
        return attrs


class FulfillmentRequestAcknowledgeView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema_serializer(component_name="Acknowledgement")
    class Input(serializers.Serializer):
        @extend_schema_serializer(component_name="AcknowledgementLine")
        class Line(LineRef):
            accepted_quantity = serializers.IntegerField(min_value=0, max_value=10**6)
            backordered_quantity = serializers.IntegerField(min_value=0, max_value=10**6, default=0)
            rejected_quantity = serializers.IntegerField(min_value=0, max_value=10**6, default=0)
            reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

        source_reference = serializers.CharField(
            required=False, allow_blank=True, max_length=120, default="", help_text="Your order id for this FR."
        )
        lines = Line(
            many=True,
            required=False,
            allow_empty=False,
            help_text="Omit to accept the whole FR. Each line's quantities are totals: repeat them freely.",
        )

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_acknowledge",
        summary="Acknowledge a fulfillment request (whole, or per line)",
        description="Repeating an acknowledgement already recorded answers 200 with the FR unchanged. Rejected "
        "units are canceled and release their stock; rejecting every unit cancels the FR.",
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Whole FR", value={"source_reference": "SO-99812"}, request_only=True),
            OpenApiExample(
                "Per line",
                value={"lines": [{"sku": "ABC-1", "accepted_quantity": 2, "rejected_quantity": 1, "reason": "EOL"}]},
                request_only=True,
            ),
        ],
        responses={200: FulfillmentRequestOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request, fr_id: int):
        fr_id = selectors.fr_get_id(token=request.auth, fr_id=fr_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        fr_acknowledge(
            fr_id=fr_id,
            lines=None
            if lines is None
            else [
                AckLineRequest(
                    fr_line_id=line.get("line_id"),
                    sku=line.get("sku", ""),
                    accepted_quantity=line["accepted_quantity"],
                    backordered_quantity=line["backordered_quantity"],
                    rejected_quantity=line["rejected_quantity"],
                    reason=line["reason"],
                )
                for line in lines
            ],
            source_reference=data.validated_data["source_reference"],
            actor_label=self.actor_label,
            raw=request.data if isinstance(request.data, dict) else {},
        )
        return fr_answer(request.auth, fr_id)


class FulfillmentRequestCancelView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema_serializer(component_name="Cancellation")
    class Input(serializers.Serializer):
        @extend_schema_serializer(component_name="CancellationLine")
        class Line(LineRef):
            canceled_quantity = serializers.IntegerField(
                min_value=0, max_value=10**6, help_text="The line's total canceled quantity after this call."
            )

        reason = serializers.CharField(max_length=1000, help_text="Why it cannot be fulfilled.")
        lines = Line(many=True, required=False, allow_empty=False, help_text="Omit to cancel the whole FR.")

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_cancel",
        summary="Cancel a fulfillment request (whole, or some lines)",
        description="Canceled units release their stock. Repeating a cancel answers 200 with the FR unchanged.",
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Whole FR", value={"reason": "Discontinued"}, request_only=True),
            OpenApiExample(
                "Some lines",
                value={"reason": "Out of stock", "lines": [{"sku": "ABC-1", "canceled_quantity": 1}]},
                request_only=True,
            ),
        ],
        responses={200: FulfillmentRequestOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request, fr_id: int):
        fr_id = selectors.fr_get_id(token=request.auth, fr_id=fr_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        lines, reason = data.validated_data.get("lines"), data.validated_data["reason"]
        if lines is None:
            fr_transition(fr_id=fr_id, to=Status.CANCELED, actor_label=self.actor_label, reason=reason)
        else:
            fr_lines_cancel(
                fr_id=fr_id,
                lines=[
                    CancelLineRequest(
                        fr_line_id=line.get("line_id"),
                        sku=line.get("sku", ""),
                        canceled_quantity=line["canceled_quantity"],
                    )
                    for line in lines
                ],
                reason=reason,
                actor_label=self.actor_label,
            )
        return fr_answer(request.auth, fr_id)


class FulfillmentRequestProcessingFailedView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema_serializer(component_name="ProcessingFailure")
    class Input(serializers.Serializer):
        error = serializers.CharField(max_length=2000, help_text="What went wrong, for the operator.")

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_processing_failed",
        summary="Report that you could not process a fulfillment request",
        description="Moves a processing or processed FR to failed with your error text, for an operator to fix "
        "and resend. Repeating it answers 200 with the FR unchanged.",
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: FulfillmentRequestOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request, fr_id: int):
        fr_id = selectors.fr_get_id(token=request.auth, fr_id=fr_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fr_transition(fr_id=fr_id, to=Status.FAILED, actor_label=self.actor_label, reason=data.validated_data["error"])
        return fr_answer(request.auth, fr_id)


class FulfillmentRequestProcessedView(ApiView):
    allowed_token_kinds = SOURCE_SIDE

    @extend_schema(
        tags=TAG,
        operation_id="fulfillment_requests_processed",
        summary="Mark a fulfillment request as received into your system",
        description="Moves a processing FR to processed. Repeating it answers 200 with the FR unchanged.",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: FulfillmentRequestOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request, fr_id: int):
        fr_id = selectors.fr_get_id(token=request.auth, fr_id=fr_id)
        fr_transition(fr_id=fr_id, to=Status.PROCESSED, actor_label=self.actor_label)
        return fr_answer(request.auth, fr_id)
