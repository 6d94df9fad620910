from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from sources.services.connections import register_connection_tester

        from .integrations import generic_json, usdirect  # noqa: F401 - register the REST protocols
        from .integrations.rest import rest_connection_test
        from .integrations.runners import register

        register()
        register_connection_tester("rest", rest_connection_test)

        from .services.fr_documents import documents_install_after_migrate

        post_migrate.connect(documents_install_after_migrate, sender=self)
