"""Input pieces every list endpoint shares: comma-separated filters, the cursor and page size, scoping by token."""

import functools
import re
import threading
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

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

    def is_valid(self, *, raise_exception=False):
        """Validate the query; a plain ``cursor`` and/or ``limit`` and nothing else skips DRF's field machinery.

        That is the query of every page after a poll's first, and the fields cost it ~0.1 ms of Python. Any
        other query, or either of the two in another form, goes through the fields.
        """
        if not hasattr(self, "_validated_data"):
            paging = self._plain_paging()
            if paging is not None:
                self._validated_data, self._errors = paging, {}
                return True
        return super().is_valid(raise_exception=raise_exception)

    def _plain_paging(self) -> dict | None:
        """The validated data the fields would give a query of a plain cursor and/or limit only, else None."""
        data = getattr(self, "initial_data", None)
        if not isinstance(data, dict) or not data.keys() <= _PAGING or not _paging_alone(type(self)):
            return None
        cursor, limit = data.get("cursor"), data.get("limit")
        paging = {}
        if cursor is not None:
            # What CharField accepts unchanged: no surrounding space to trim, not blank, short, no NUL.
            if not (isinstance(cursor, str) and cursor.isascii() and cursor == cursor.strip()):
                return None
            if not 0 < len(cursor) <= self._declared_fields["cursor"].max_length or "\x00" in cursor:
                return None
            paging["cursor"] = cursor
        if limit is not None:
            if not (isinstance(limit, str) and limit.isascii() and limit.isdigit() and len(limit) < 10):
                return None
            paging["limit"] = int(limit)
            if not 1 <= paging["limit"] <= MAX_PAGE_SIZE:
                return None
        return paging

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


_PAGING = frozenset({"cursor", "limit"})


@functools.cache
def _paging_alone(query_class: type[ListQuery]) -> bool:
    """Whether a query of ``cursor`` and ``limit`` only is validated by those two fields alone.

    True unless the class checks more: a ``validate`` hook, another required field or one with a default, or
    paging fields of its own.
    """
    fields = query_class._declared_fields
    return (
        query_class.validate is serializers.Serializer.validate
        and all(fields[name] is ListQuery._declared_fields[name] for name in _PAGING)
        and not any(hasattr(query_class, f"validate_{name}") for name in _PAGING)
        and all(not field.required and field.default is empty for name, field in fields.items() if name not in _PAGING)
    )


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
