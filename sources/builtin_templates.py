"""Built-in starting templates: plain spec dicts an operator copies and adjusts.

Each entry carries the spec the mapping engine reads (``kind``, ``fields``, ``conditions``,
``exclusions``) plus what the integration needs to read the file (``format``, ``format_options``)
and a ``name`` and ``notes`` for people. Nothing here touches the database.
"""

from __future__ import annotations

import copy
from typing import Any

TRIM = {"op": "trim"}


def _column(target: str, source: str, *transforms: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {
        "target": target,
        "source_type": "column",
        "source": source,
        "transforms": list(transforms),
        "required": required,
        "default": None,
        "lookup": None,
    }


US_DIRECT_INVENTORY = {
    "name": "US Direct inventory",
    "notes": (
        "The supplier guide's feed: SKU, name, price and quantity, all required. master_sku is the "
        "source SKU with the source's prefix USD- (the same as the apply step's default, spelled out "
        "here so a dry run shows it); change or drop that rule if the source uses another prefix."
    ),
    "kind": "inventory",
    "format": "csv",
    "format_options": {},
    "fields": [
        _column("sku", "Product SKU", TRIM, required=True),
        _column("master_sku", "Product SKU", TRIM, {"op": "prefix", "value": "USD-"}, required=True),
        _column("title", "Product Name", TRIM, required=True),
        _column("cost", "Pricing", {"op": "number"}, required=True),
        _column("quantity", "Quantity", {"op": "integer"}, required=True),
    ],
    "conditions": [],
    "exclusions": [],
}

GENERIC_CSV_INVENTORY = {
    "name": "Generic CSV inventory",
    "notes": "Columns named like the canonical fields (sku, title, cost, quantity...). Only sku is required.",
    "kind": "inventory",
    "format": "csv",
    "format_options": {},
    "fields": [
        _column("sku", "sku", TRIM, required=True),
        _column("parent_sku", "parent_sku", TRIM),
        _column("title", "title", TRIM),
        _column("brand", "brand", TRIM),
        _column("category", "category", TRIM),
        _column("upc", "upc", TRIM),
        _column("mpn", "mpn", TRIM),
        _column("cost", "cost", {"op": "number"}),
        _column("msrp", "msrp", {"op": "number"}),
        _column("map_price", "map_price", {"op": "number"}),
        _column("quantity", "quantity", {"op": "integer"}),
        _column("status", "status", TRIM),
    ],
    "conditions": [],
    "exclusions": [],
}

SHOPIFY_PRODUCTS = {
    "name": "Shopify product CSV",
    "notes": (
        "Shopify's product_template.csv. Variant rows repeat the Handle with blank product columns "
        "(title, vendor...), which map to None: the apply step takes them from the product's first "
        "row. Option names appear on the first row only and carry to the following rows. Rows with "
        "no Variant SKU are extra product images and are skipped. Grams become kg."
    ),
    "kind": "inventory",
    "format": "csv",
    "format_options": {},
    "fields": [
        _column("parent_sku", "Handle", TRIM, required=True),
        _column("sku", "Variant SKU", TRIM, required=True),
        _column("title", "Title", TRIM),
        _column("description", "Body (HTML)"),
        _column("brand", "Vendor", TRIM),
        _column("category", "Product Category", TRIM),
        _column("upc", "Variant Barcode", TRIM),
        _column("mpn", "Google Shopping / MPN", TRIM),
        _column("cost", "Cost per item", {"op": "number"}),
        _column("msrp", "Variant Price", {"op": "number"}),
        _column("quantity", "Variant Inventory Qty", {"op": "integer"}),
        _column("weight", "Variant Grams", {"op": "number"}, {"op": "multiply", "value": "0.001"}),
        _column("status", "Status", TRIM),
        _column("option:@Option1 Name", "Option1 Value", TRIM),
        _column("option:@Option2 Name", "Option2 Value", TRIM),
        _column("option:@Option3 Name", "Option3 Value", TRIM),
        _column("image", "Variant Image", TRIM),
        _column("image", "Image Src", TRIM),
        _column("attr:Type", "Type", TRIM),
        _column("attr:Tags", "Tags", TRIM),
    ],
    "conditions": [],
    "exclusions": [{"field": "Variant SKU", "op": "empty", "value": None}],
}

WOOCOMMERCE_PRODUCTS = {
    "name": "WooCommerce product CSV",
    "notes": (
        "WooCommerce's product export. A variation names its parent's SKU in Parent; attribute names "
        "travel with each row. Grouped and external products hold no stock and are not imported. An "
        "empty Stock with 'In stock?' = 0 means quantity 0; with 'In stock?' = 1 the quantity stays "
        "unknown (None). Weight in kg, dimensions in cm."
    ),
    "kind": "inventory",
    "format": "csv",
    "format_options": {},
    "fields": [
        _column("sku", "SKU", TRIM, required=True),
        _column("parent_sku", "Parent", TRIM),
        _column("title", "Name", TRIM),
        _column("description", "Description"),
        _column("category", "Categories", TRIM),
        _column("msrp", "Regular price", {"op": "number"}),
        _column("quantity", "Stock", {"op": "integer"}),
        {
            "target": "status",
            "source_type": "lookup",
            "source": "Published",
            "transforms": [TRIM],
            "required": False,
            "default": None,
            "lookup": {"table": {"1": "active", "0": "archived", "-1": "archived"}, "fallback": "archived"},
        },
        _column("weight", "Weight (kg)", {"op": "number"}),
        _column("length", "Length (cm)", {"op": "number"}),
        _column("width", "Width (cm)", {"op": "number"}),
        _column("height", "Height (cm)", {"op": "number"}),
        _column("option:@Attribute 1 name", "Attribute 1 value(s)", TRIM),
        _column("option:@Attribute 2 name", "Attribute 2 value(s)", TRIM),
        _column("attr:Sale price", "Sale price", {"op": "number"}),
        _column("attr:Type", "Type", TRIM),
        {
            "target": "image",
            "source_type": "column",
            "source": "Images",
            "transforms": [{"op": "split", "separator": ","}, TRIM],
            "required": False,
            "default": None,
            "lookup": None,
        },
    ],
    "conditions": [
        {
            "when": {"field": "In stock?", "op": "equals", "value": "0"},
            "set": {"quantity": "0"},
        },
    ],
    "exclusions": [{"field": "Type", "op": "in", "value": ["grouped", "external"]}],
}

BOTS_PRICAT = {
    "name": "European article/price file (Bots pricat)",
    "notes": (
        "Semicolon-separated, decimal comma, values padded with spaces, dates dd-mm-yyyy. The retail "
        "price is the MSRP; promotion price and dates are kept as attributes."
    ),
    "kind": "inventory",
    "format": "csv",
    "format_options": {"delimiter": ";"},
    "fields": [
        _column("sku", "ArticleNumber", TRIM, required=True),
        _column("ean", "GTIN/EAN", TRIM),
        _column("title", "Description", TRIM),
        _column("option:Size", "Size", TRIM),
        _column("option:Color", "Color", TRIM),
        _column("msrp", "RetailPrice", {"op": "decimal_comma"}),
        _column("attr:BuyerProductGroup", "BuyerProductGroup", TRIM),
        _column("attr:PromoPrice", "PromoPrice", {"op": "decimal_comma"}, {"op": "number"}),
        _column("attr:PromoFrom", "DateFrom", {"op": "date", "format": "%d-%m-%Y"}),
        _column("attr:PromoUntil", "DateUntill", {"op": "date", "format": "%d-%m-%Y"}),
    ],
    "conditions": [],
    "exclusions": [],
}

BUILTIN_TEMPLATES: dict[str, dict[str, Any]] = {
    "us_direct_inventory": US_DIRECT_INVENTORY,
    "generic_csv_inventory": GENERIC_CSV_INVENTORY,
    "shopify_products": SHOPIFY_PRODUCTS,
    "woocommerce_products": WOOCOMMERCE_PRODUCTS,
    "bots_pricat": BOTS_PRICAT,
}
"""key → template; the key is stable so a saved template can say which built-in it started from."""


def builtin_template(key: str) -> dict[str, Any]:
    """Return a deep copy of a built-in template, safe to edit; raises KeyError for an unknown key."""
    return copy.deepcopy(BUILTIN_TEMPLATES[key])
