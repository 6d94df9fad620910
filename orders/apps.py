from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from .integrations import generic_json  # noqa: F401 - registers the protocol
        from .integrations.runners import register

        register()
