"""What both PostgreSQL apply paths (the stage merge and the direct first import) say the same way in SQL:
the tables, the kinds of canonical targets, a new variant's column defaults, and linking to products."""

from __future__ import annotations

import json
from typing import Any

from inventory.models import InventoryParent, InventoryVariant, ProductVariant

VARIANT = InventoryVariant._meta.db_table
PARENT = InventoryParent._meta.db_table
PRODUCT_VARIANT = ProductVariant._meta.db_table

# Targets stored as text ('' when not given), as numbers (NULL when not given) and as JSON (with its empty value).
TEXT_TARGETS = ("upc", "ean", "mpn", "title", "brand", "category")
NUMERIC_TARGETS = ("cost", "msrp", "map_price", "shipping_cost", "dropship_fee", "weight", "length", "width", "height")
JSON_TARGETS = {"options": "'{}'::jsonb", "attributes": "'{}'::jsonb", "images": "'[]'::jsonb"}
JSON_EMPTY = {"options": "{}", "attributes": "{}", "images": "[]"}
STAMPED = ("created_at", "updated_at", "quantity_updated_at")  # set to the apply's time on a new variant


def default_value(model_field) -> Any:
    """The value a new variant gets in ``model_field`` when the feed says nothing: None, a bool, int or text."""
    if model_field.name in JSON_EMPTY:
        return JSON_EMPTY[model_field.name]
    default = model_field.get_default()
    if default is None or isinstance(default, bool | int):
        return default
    if isinstance(default, dict | list):
        return json.dumps(default)
    return str(default)


def default_sql(model_field) -> str:
    """``default_value`` as an SQL literal."""
    if model_field.name in JSON_TARGETS:
        return JSON_TARGETS[model_field.name]
    value = default_value(model_field)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def variant_fields() -> list:
    """The variant's columns a new row is written with: every concrete field but the primary key."""
    return [model_field for model_field in InventoryVariant._meta.concrete_fields if not model_field.primary_key]


def link_products(cursor, params: dict[str, Any]) -> int:
    """Link the source's unlinked variants to products by master SKU, then by UPC; return how many were linked."""
    cursor.execute(
        f"""
        UPDATE {VARIANT} v SET product_variant_id = pv.id
        FROM {PRODUCT_VARIANT} pv
        WHERE v.source_id = %(source)s AND v.product_variant_id IS NULL AND v.master_sku <> ''
          AND pv.master_sku = v.master_sku
        """,
        params,
    )
    linked = cursor.rowcount
    cursor.execute(
        f"""
        UPDATE {VARIANT} v SET product_variant_id = pv.id
        FROM (SELECT DISTINCT ON (upc) upc, id FROM {PRODUCT_VARIANT} WHERE upc <> '' ORDER BY upc, id) pv
        WHERE v.source_id = %(source)s AND v.product_variant_id IS NULL AND v.upc <> '' AND pv.upc = v.upc
        """,
        params,
    )
    return linked + cursor.rowcount
