"""Changing what an FR shows of its order (ship-to, email, phone) in the admin stamps the FR as changed, so
sources polling for changes get the new address; other order changes leave the FRs alone."""

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import RequestFactory

from orders.admin import OrderAdmin
from orders.models import FulfillmentRequest, Order
from tests.factories import VariantFactory


def save_in_admin(order: Order, admin_user, **changes) -> None:
    model_admin = OrderAdmin(Order, admin.site)
    request = RequestFactory().post("/")
    request.user = admin_user
    form_class = model_admin.get_form(request, order, change=True)
    data = {key: value for key, value in model_to_dict(order).items() if value is not None}
    form = form_class(data={**data, **changes}, instance=order)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)


@pytest.mark.django_db
def test_a_new_ship_to_in_the_admin_stamps_the_orders_frs(make_fr, admin_user):
    fr = make_fr((VariantFactory(), 1))
    before = FulfillmentRequest.objects.get(pk=fr.pk).updated_at

    save_in_admin(fr.order, admin_user, ship_address1="1 New Street")

    fr.refresh_from_db()
    assert fr.updated_at > before and fr.order.ship_address1 == "1 New Street"


@pytest.mark.django_db
def test_an_order_change_the_frs_do_not_show_leaves_them_alone(make_fr, admin_user):
    fr = make_fr((VariantFactory(), 1))
    before = FulfillmentRequest.objects.get(pk=fr.pk).updated_at

    save_in_admin(fr.order, admin_user, customer_name="Someone Else")

    assert FulfillmentRequest.objects.get(pk=fr.pk).updated_at == before
