"""Input pieces every list endpoint shares: comma-separated filters, the cursor and page size, scoping by token."""

import re
import threading
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flxhub.exceptions import NotFound, ValidationFailed

from .pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, start_position

_PLUS_AS_SPACE = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$")


@extend_schema_field(OpenApiTypes.STR)
class CommaListField(serializers.Field):
    """``a,b,c`` in a query string → a list, each item validated by ``child``; at most ``max_items``."""

    def __init__(self, *, child: serializers.Field, max_items: int = 100, **kwargs):
        self.child = child
        self.max_items = max_items
        super().__init__(**kwargs)
        self.child.bind(field_name="", parent=self)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Expected a comma-separated list.")
        items = [item.strip() for item in data.split(",") if item.strip()]
        if not items:
            raise serializers.ValidationError("Expected at least one value.")
        if len(items) > self.max_items:
            raise serializers.ValidationError(f"At most {self.max_items} values.")
        return [self.child.run_validation(item) for item in items]

    def to_representation(self, value):
        return ",".join(str(item) for item in value)


class ReusedFields:
    """Serializer mixin for query-string inputs: the declared fields are deep-copied once per class and thread.

    DRF deep-copies every declared field for every serializer instance, a third of a poll's Python time;
    these fields keep no state between validations (binding them to the new serializer is all they need).
    """

    _fields_by_class = threading.local()

    def get_fields(self):
        cache = self._fields_by_class.__dict__
        entry = cache.get(type(self))
        if entry is None:
            fields = super().get_fields()
            entry = cache[type(self)] = (fields, {name: field.source for name, field in fields.items()})
        fields, sources = entry
        for name, field in fields.items():
            field.source = sources[name]  # as declared: binding again derives it from the name
        return dict(fields)


class ListQuery(ReusedFields, serializers.Serializer):
    """Paging of every change feed: start after ``cursor`` (or ``updated_after``), ``limit`` rows a page."""

    cursor = serializers.CharField(
        required=False, max_length=200, help_text="next_cursor from the previous page; re-send the same filters."
    )
    updated_after = serializers.DateTimeField(
        required=False, help_text="Only rows changed strictly after this instant (ISO 8601). Ignored with cursor."
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, help_text=f"Page size, default {DEFAULT_PAGE_SIZE}."
    )

    def to_internal_value(self, data):
        stamp = data.get("updated_after")
        if isinstance(stamp, str) and _PLUS_AS_SPACE.search(stamp):
            # An unencoded "+01:00" arrives as " 01:00"; read it as the client meant it.
            data = {**data, "updated_after": _PLUS_AS_SPACE.sub(r"\1+\2", stamp)}
        return super().to_internal_value(data)

    def start(self) -> Position | None:
        return start_position(
            cursor=self.validated_data.get("cursor"), updated_after=self.validated_data.get("updated_after")
        )

    def limit_value(self) -> int:
        return self.validated_data.get("limit") or DEFAULT_PAGE_SIZE


def query_input(serializer_class, request) -> serializers.Serializer:
    """Validate the query string with ``serializer_class`` (plain dict: absent booleans stay absent)."""
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer


def source_scope(token, requested_source_id: int | None = None) -> int | None:
    """The source a request may see: a source token's own, or for an account token the one it names (or any)."""
    if token.kind == "source":
        if requested_source_id is not None and requested_source_id != token.source_id:
            # Naming another source gets nothing, exactly as if it did not exist.
            raise NotFound(f"Source {requested_source_id} does not exist.")
        return token.source_id
    return requested_source_id


def required_source(token, requested_source_id: int | None) -> int:
    """The source a write is for: a source token's own; an account token must name one."""
    source_id = source_scope(token, requested_source_id)
    if source_id is None:
        raise ValidationFailed(
            "An account token must name the source (source_id).", details={"source_id": ["This field is required."]}
        )
    return source_id


def money(value: Decimal | None) -> str | None:
    """Render a stored amount as DRF's DecimalField would: a string with the column's places."""
    return None if value is None else str(value)
