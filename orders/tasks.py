"""Order tasks: thin wrappers that take ids and call one service."""

from celery import shared_task

from .services.order_status import order_refresh_status


@shared_task(name="orders.order_refresh_status", ignore_result=True)
def order_refresh_status_task(order_id: int) -> None:
    order_refresh_status(order_id=order_id)


@shared_task(name="orders.order_generate_on_import", ignore_result=True)
def order_generate_on_import_task(order_id: int) -> None:
    """Generate FRs for a newly imported order when its channel asks for it."""
    from .services.routing import order_generate_frs_on_import

    order_generate_frs_on_import(order_id=order_id)


@shared_task(name="orders.idempotency_keys_purge", ignore_result=True)
def idempotency_keys_purge_task() -> int:
    """Daily, from the PeriodicTask that orders migration 0005 creates: drop Idempotency-Keys older than 24 h."""
    from flxhub.api.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
