"""An encrypted JSON field for connection secrets.

Values are encrypted with Fernet keys from ``settings.FIELD_ENCRYPTION_KEYS`` (the first encrypts, all
decrypt, so keys can be rotated). A value that no key can decrypt raises ``SecretDecryptionError``:
a wrong key is an error, never ciphertext handed back as if it were the secret.
"""

import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class SecretDecryptionError(Exception):
    """Stored secrets cannot be decrypted with any configured key (wrong or rotated FIELD_ENCRYPTION_KEYS)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "Stored secrets cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS; "
            "was the key changed without keeping the old one?"
        ) from exc


class EncryptedJSONField(models.TextField):
    """A dict of secrets stored as one Fernet token; the database never sees the plain values."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return json.loads(decrypt_text(value))

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(decrypt_text(value))

    def get_prep_value(self, value):
        if value is None:
            value = {}
        return encrypt_text(json.dumps(value, sort_keys=True))

    def value_to_string(self, obj):
        return ""  # never serialise secrets (dumpdata, admin history)
