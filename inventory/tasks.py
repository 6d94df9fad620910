"""Inventory tasks: thin wrappers that take ids and call one service."""

import logging

from celery import shared_task

from .services.catalog import products_create_from_variants

logger = logging.getLogger(__name__)


@shared_task(name="inventory.products_create_from_variants", ignore_result=True)
def products_create_from_variants_task(source_id: int) -> None:
    """Create products for every unlinked variant of the source (queued when there are too many for a request)."""
    result = products_create_from_variants(source_id=source_id)
    logger.info(
        "source %s: created %s products with %s variants; linked %s new, %s existing; skipped %s without master SKU",
        source_id,
        result.products,
        result.product_variants,
        result.linked_new,
        result.linked_existing,
        result.skipped_without_master_sku,
    )
