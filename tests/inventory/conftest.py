"""Fixtures for inventory feed tests: a template spec, a feed helper, and both apply paths."""

import io
from decimal import Decimal

import pytest

from inventory.services.feed_apply import inventory_feed_apply
from sources.models import GlobalSettings

FIELDS = ("sku", "parent_sku", "title", "brand", "upc", "cost", "quantity", "status", "master_sku")
CONVERSIONS = {"cost": [{"op": "number"}], "quantity": [{"op": "integer"}]}


def spec_for(*columns: str) -> dict:
    """An inventory template mapping each column to the target of the same name (sku required)."""
    return {
        "kind": "inventory",
        "fields": [
            {"target": column, "source": column, "transforms": CONVERSIONS.get(column, []), "required": column == "sku"}
            for column in columns
        ],
    }


SPEC = spec_for("sku", "title", "upc", "cost", "quantity", "status")


def csv_feed(rows, columns=("sku", "title", "upc", "cost", "quantity", "status")) -> bytes:
    lines = [",".join(columns)]
    lines += [",".join("" if value is None else str(value) for value in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(params=["postgres", "portable"])
def engine(request, monkeypatch):
    """Run a test through the PostgreSQL fast path and through the portable (ORM) path."""
    if request.param == "portable":
        from django.db import connection

        monkeypatch.setattr(connection, "vendor", "portable-under-test")
    return request.param


@pytest.fixture
def apply_feed(db, engine):
    def apply(source, data: bytes, *, kind="primary", spec=SPEC, force=False, full=True, file_format="csv", **kw):
        return inventory_feed_apply(
            source_id=source.pk,
            kind=kind,
            file=io.BytesIO(data),
            file_format=file_format,
            spec=spec,
            force=force,
            full=full,
            **kw,
        )

    return apply


@pytest.fixture
def sku_limit(db):
    def set_limit(limit: int) -> None:
        settings = GlobalSettings.load()
        settings.sku_limit = limit
        settings.save()

    return set_limit


def money(value) -> Decimal:
    return Decimal(str(value))
