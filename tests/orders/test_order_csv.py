"""Orders uploaded as CSV in the admin: grouped by order number, every wrong row reported, idempotent."""

import pytest
from django.urls import reverse

from orders.models import Order
from orders.services.order_csv import orders_import_csv
from tests.factories import ChannelFactory

CSV = (
    b"order_number,master_sku,quantity,price,ship_name,ship_address1,ship_city,ship_postal_code,ship_country,"
    b"shipping_method\r\n"
    b"A-100,TRS-9,1,42.00,Ada,1 Main St,Springfield,62701,US,ground\r\n"
    b"A-100,MHS-M,2,7.50,Ada,1 Main St,Springfield,62701,US,ground\r\n"
    b"A-101,TRS-10,two,42.00,Bob,2 Side St,Springfield,62701,US,ground\r\n"
    b"A-102,,1,5.00,Cy,3 Oak St,Springfield,62701,US,ground\r\n"
)


@pytest.mark.django_db
def test_csv_creates_valid_orders_and_reports_every_wrong_row(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    with django_capture_on_commit_callbacks():
        result = orders_import_csv(channel_id=channel.pk, data=CSV)
    assert [o.channel_order_number for o in result.created] == ["A-100"]
    order = Order.objects.get(channel_order_number="A-100")
    assert [(line.master_sku, line.quantity) for line in order.lines.order_by("id")] == [("TRS-9", 1), ("MHS-M", 2)]
    assert (order.ship_name, order.requested_shipping_method) == ("Ada", "ground")
    errors = [(e.row, e.order_number, e.field, e.value) for e in result.errors]
    assert errors == [(3, "A-101", "quantity", "two"), (4, "A-102", "master_sku", "")]
    assert not Order.objects.filter(channel_order_number__in=["A-101", "A-102"]).exists()


@pytest.mark.django_db
def test_importing_the_same_csv_twice_creates_nothing_new():
    channel = ChannelFactory()
    orders_import_csv(channel_id=channel.pk, data=CSV)
    again = orders_import_csv(channel_id=channel.pk, data=CSV)
    assert again.created == [] and [o.channel_order_number for o in again.existing] == ["A-100"]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_admin_upload_shows_the_row_error_report(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    channel = ChannelFactory()
    url = reverse("admin:orders_order_import_csv")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"channel": channel.pk, "file": SimpleUploadedFile("orders.csv", CSV, content_type="text/csv")}
    )
    body = response.content.decode()
    assert "1 created, 0 already imported, 2 row error(s)" in body
    assert "quantity must be a positive integer" in body and "master_sku is required" in body


@pytest.mark.django_db
def test_generate_on_import_follows_the_channel_setting(make_fr):
    from orders.services.routing import order_generate_frs_on_import
    from tests.factories import ProductVariantFactory, VariantFactory

    pv = ProductVariantFactory(master_sku="TRS-9")
    VariantFactory(product_variant=pv, quantity=5, source__shipping_method_map={"ground": "UPS-GND"})
    off, on = ChannelFactory(), ChannelFactory(generate_frs_on_import=True)
    csv_one = b"order_number,master_sku,quantity,ship_name,ship_address1,ship_city,ship_postal_code,shipping_method\n"
    csv_one += b"B-1,TRS-9,1,Ada,1 Main St,Springfield,62701,ground\n"
    quiet = orders_import_csv(channel_id=off.pk, data=csv_one).created[0]
    eager = orders_import_csv(channel_id=on.pk, data=csv_one).created[0]
    assert order_generate_frs_on_import(order_id=quiet.pk) is None
    result = order_generate_frs_on_import(order_id=eager.pk)
    assert [fr.number for fr in result.frs] == ["B-1-1"]
