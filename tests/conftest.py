"""Shared fixtures. Tests hit real PostgreSQL and Redis (flxhub.settings.test)."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REALDATA = REPO_ROOT.parent / "shared" / "realdata"


@pytest.fixture
def make_fr(db):
    """Create an FR through the real service: an order with one line per (variant, quantity) at one source."""
    from orders.services.fr_create import FRLineRequest, fr_create
    from tests.factories import OrderFactory, OrderLineFactory

    def make(*variant_quantities, order=None, **kwargs):
        order = order or OrderFactory()
        requests = []
        for variant, quantity in variant_quantities:
            line = OrderLineFactory(order=order, master_sku=variant.master_sku, quantity=quantity)
            requests.append(FRLineRequest(order_line_id=line.pk, variant_id=variant.pk, quantity=quantity))
        return fr_create(order_id=order.pk, source_id=variant_quantities[0][0].source_id, lines=requests, **kwargs)

    return make
