"""Onboarding phase 2: the connection card of the source's directory entry, saved and tested.

Secrets are write-only: an absent or empty secret keeps what is stored. Phase 2 is done when every
connection of the source passes Test Connection.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from flxhub.exceptions import ValidationFailed

from ..models import Connection, Source
from ..selectors_onboarding import UNTESTED_KINDS, ConnectionCard, connection_card
from ..transports.base import TestVerdict
from .connections import connection_test
from .onboarding import _full_clean, _locked_source, _mark


def onboarding_connection_save(
    *, source_id: int, values: dict[str, Any], secrets: dict[str, str], user=None
) -> list[Connection]:
    """Save the connection card of the source's directory entry; phase 2 stays open until a test passes.

    ``values`` holds the card's non-secret fields, ``secrets`` only the secrets typed in (an absent or empty
    secret keeps the stored one). A changed host or port drops the pinned SFTP host key; any change forgets the
    last test verdict, so the checklist asks for a new test.
    """
    with transaction.atomic():
        source = _locked_source(source_id)
        card = connection_card(entry=source.directory_entry)
        if card is None:
            raise ValidationFailed("Finish phase 1 first: pick the supplier in the directory.")
        secrets = {key: value for key, value in secrets.items() if value and key in card.secret_keys}
        if card.composite:
            connections = _save_composite(source, card, values, secrets)
        else:
            connections = [_save_single(source, card, values, secrets)]
        _mark(source, "connection", user, done=False, values=_plain_values(card, values) if card.composite else {})
        source.save(update_fields=["onboarding", "updated_at"])
    return connections


def _plain_values(card: ConnectionCard, values: dict[str, Any]) -> dict[str, Any]:
    return {f.key: values.get(f.key, "") for f in card.fields if not f.secret}


def _save_single(source: Source, card: ConnectionCard, values: dict[str, Any], secrets: dict[str, str]) -> Connection:
    connection = source.connections.filter(name="default").first() or Connection(source=source, name="default")
    before = (connection.kind, connection.host, connection.port, connection.username, connection.path, connection.url)
    before_options = dict(connection.options)
    connection.kind = card.kind
    options = dict(connection.options)
    for f in card.fields:
        value = values.get(f.key)
        if f.target == "model":
            setattr(connection, f.key, (value if value not in ("", None) else None) if f.number else (value or ""))
        elif f.target == "option":
            if value:
                options[f.key] = value
            else:
                options.pop(f.key, None)
    connection.options = options
    if connection.pk and (connection.host, connection.port) != (before[1], before[2]):
        connection.pinned_host_key = ""
    after = (connection.kind, connection.host, connection.port, connection.username, connection.path, connection.url)
    if connection.pk is None or secrets or options != before_options or after != before:
        connection.last_test_ok, connection.last_tested_at, connection.last_test_message = None, None, ""
    connection.secrets = {**connection.secrets, **secrets}
    _full_clean(connection, exclude={"source", "last_test_ok"})
    connection.save()
    return connection


def _save_composite(source: Source, card: ConnectionCard, values: dict[str, Any], secrets: dict[str, str]):
    """Fill every connection the entry's ``defaults.connections`` describe, ``{placeholders}`` from the card."""
    entry = source.directory_entry
    existing = {c.name: c for c in source.connections.all()}
    stored_secrets = {key: value for c in existing.values() for key, value in c.secrets.items()}
    filled = {**{f.key: str(values.get(f.key) or "") for f in card.fields if not f.secret}}
    filled.update({key: secrets.get(key) or "" for key in card.secret_keys})
    connections = []
    for name, spec in entry.defaults["connections"].items():
        connection = existing.get(name) or Connection(source=source, name=name)
        connection.kind = spec["kind"]
        connection.url = spec.get("url", "").format_map(_Blank(filled))
        connection.options = {**connection.options, **spec.get("options", {})}
        new_secrets = dict(connection.secrets)
        for key, pattern in spec.get("secrets", {}).items():
            value = pattern.format_map(_Blank(filled))
            if value:
                new_secrets[key] = value
            elif key not in new_secrets and stored_secrets.get(key):
                new_secrets[key] = stored_secrets[key]
        connection.secrets = new_secrets
        connection.last_test_ok, connection.last_tested_at, connection.last_test_message = None, None, ""
        _full_clean(connection, exclude={"source", "last_test_ok"})
        connection.save()
        connections.append(connection)
    return connections


class _Blank(dict):
    """format_map helper: a placeholder nobody filled becomes empty text."""

    def __missing__(self, key: str) -> str:
        return ""


def onboarding_connection_test(*, source_id: int, user=None) -> list[tuple[Connection, TestVerdict]]:
    """Test each connection of the source (storing each verdict); phase 2 is done when all of them pass.

    Connections of kinds with nothing to reach (push) count as passing. Not atomic on purpose: each verdict
    is stored even when a later connection fails.
    """
    source = Source.objects.get(pk=source_id)
    connections = list(source.connections.order_by("name"))
    if not connections:
        raise ValidationFailed("Save the connection details before testing them.")
    results = []
    for connection in connections:
        if connection.kind in UNTESTED_KINDS:
            verdict = TestVerdict(ok=True, message="Nothing to test: the supplier calls flxhub's API with a token.")
        else:
            verdict = connection_test(connection_id=connection.pk)
            connection.refresh_from_db()
        results.append((connection, verdict))
    with transaction.atomic():
        source = _locked_source(source_id)
        _mark(source, "connection", user, done=all(verdict.ok for _, verdict in results))
        source.save(update_fields=["onboarding", "updated_at"])
    return results
