from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from sources.services.connections import register_connection_tester

        from .integrations import generic_json, usdirect  # noqa: F401 - register the REST protocols
        from .integrations.rest import rest_connection_test
        from .integrations.runners import register

        register()
        register_connection_tester("rest", rest_connection_test)
