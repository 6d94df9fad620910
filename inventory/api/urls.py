from django.urls import path

from .views import VariantListPushView

urlpatterns = [
    path("inventory/variants", VariantListPushView.as_view(), name="inventory-variants"),
]
