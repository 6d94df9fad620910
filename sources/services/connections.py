"""Connections: build transport settings from the model, and Test Connection with a stored verdict."""

from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from ..models import Connection
from ..transports import get_transport
from ..transports.base import ConnectionSettings, TestVerdict, TransportError

# Kinds tested by another app (e.g. ``rest`` by the vendor protocols in orders): kind → fn(settings) → (ok, message).
CONNECTION_TESTERS: dict[str, Callable[[ConnectionSettings], tuple[bool, str]]] = {}


def register_connection_tester(kind: str, tester: Callable[[ConnectionSettings], tuple[bool, str]]) -> None:
    CONNECTION_TESTERS[kind] = tester


def connection_settings(connection: Connection) -> ConnectionSettings:
    """The plain settings a transport needs, with the decrypted secrets of ``connection``."""
    secrets = connection.secrets
    options = dict(connection.options)
    for name in ("api_token", "reseller_token", "token", "client_secret"):
        if name in secrets:
            options[name] = secrets[name]
    return ConnectionSettings(
        kind=connection.kind,
        host=connection.host,
        port=connection.port,
        username=connection.username,
        password=secrets.get("password", ""),
        private_key=secrets.get("private_key", ""),
        passphrase=secrets.get("passphrase", ""),
        pinned_host_key=connection.pinned_host_key,
        path=connection.path or _default_path(connection),
        url=connection.url,
        tls=connection.kind == Connection.Kind.FTPS,
        options=options,
        max_bytes=options.get("max_bytes", settings.FLXHUB_MAX_FEED_BYTES),
    )


def _default_path(connection: Connection) -> str:
    """Operator uploads land in a per-connection folder under the data directory."""
    if connection.kind != Connection.Kind.UPLOAD:
        return ""
    folder = settings.MEDIA_ROOT / "uploads" / f"connection-{connection.pk}"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def connection_test(*, connection_id: int) -> TestVerdict:
    """Test the connection, store the verdict, and pin the SFTP host key on the first success."""
    connection = Connection.objects.get(pk=connection_id)
    try:
        if connection.kind in CONNECTION_TESTERS:
            ok, message = CONNECTION_TESTERS[connection.kind](connection_settings(connection))
            verdict = TestVerdict(ok=ok, message=message)
        else:
            with get_transport(connection_settings(connection)) as transport:
                verdict = transport.test()
    except TransportError as exc:
        verdict = TestVerdict(ok=False, message=exc.message, details=exc.details)
    update = {"last_tested_at": timezone.now(), "last_test_ok": verdict.ok, "last_test_message": verdict.message}
    host_key = verdict.details.get("host_key")
    if verdict.ok and host_key and not connection.pinned_host_key:
        update["pinned_host_key"] = host_key
    Connection.objects.filter(pk=connection.pk).update(**update)
    return verdict
