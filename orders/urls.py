from django.urls import path

from . import dashboard, views

app_name = "orders"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/generate/", views.order_generate, name="order_generate"),
    path("orders/<int:order_id>/create-fr/", views.order_create_fr, name="order_create_fr"),
    path("frs/", views.fr_list, name="fr_list"),
    path("frs/<int:fr_id>/regenerate/", views.fr_regenerate_view, name="fr_regenerate"),
    path("frs/<int:fr_id>/send-now/", views.fr_send_now_view, name="fr_send_now"),
    path("frs/process/", views.fr_bulk_process, name="fr_bulk_process"),
    path("frs/<int:fr_id>/<str:action>/", views.fr_action, name="fr_action"),
]
