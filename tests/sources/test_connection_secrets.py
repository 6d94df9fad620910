"""Connection secrets are encrypted at rest and fail loudly with the wrong key."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from flxhub import fields
from flxhub.fields import SecretDecryptionError
from sources.models import Connection
from tests.factories import SourceFactory


@pytest.mark.django_db
def test_secret_is_not_readable_in_the_database_row_and_round_trips():
    conn = Connection.objects.create(
        source=SourceFactory(), kind="sftp", host="127.0.0.1", secrets={"password": "hunter2-very-secret"}
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM sources_connection WHERE id = %s", [conn.pk])
        stored = cursor.fetchone()[0]
    assert "hunter2" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert Connection.objects.get(pk=conn.pk).secrets == {"password": "hunter2-very-secret"}


@pytest.mark.django_db
def test_wrong_key_is_an_error_not_ciphertext(settings):
    conn = Connection.objects.create(source=SourceFactory(), kind="ftp", secrets={"password": "pw"})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretDecryptionError, match="cannot be decrypted"):
        Connection.objects.get(pk=conn.pk)


@pytest.mark.django_db
def test_rotated_keys_still_decrypt_old_secrets(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    conn = Connection.objects.create(source=SourceFactory(), kind="ftp", secrets={"password": "pw"})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    assert Connection.objects.get(pk=conn.pk).secrets == {"password": "pw"}
    assert fields.fernet() is not None
