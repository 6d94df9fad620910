"""The operator-upload folder: nothing outside it can be read, written or archived to."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sources.transports import TransportError, get_transport


@pytest.fixture
def folder(upload_settings) -> Path:
    return Path(upload_settings.path)


def test_a_symbolic_link_out_of_the_folder_is_neither_listed_nor_read(upload_settings, folder, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes(b"private")
    (folder / "link.csv").symlink_to(secret)
    transport = get_transport(upload_settings)

    assert "link.csv" not in [entry.name for entry in transport.list_files()]
    with pytest.raises(TransportError, match="outside the upload folder"):
        transport.fetch("link.csv")


@pytest.mark.parametrize("archive", ["../archive", "/tmp", "archive/../../elsewhere"])
def test_archiving_out_of_the_folder_is_refused(upload_settings, folder, archive):
    with pytest.raises(TransportError, match="outside the upload folder"):
        get_transport(upload_settings).move("inventory.csv", archive)

    assert (folder / "inventory.csv").exists()


def test_archiving_into_a_nested_folder_creates_it(upload_settings, folder):
    target = get_transport(upload_settings).move("inventory.csv", "archive/2026/11")

    assert Path(target) == folder / "archive" / "2026" / "11" / "inventory.csv"


def test_an_unset_folder_is_a_clear_verdict(upload_settings):
    verdict = get_transport(dataclasses.replace(upload_settings, path="")).test()

    assert (verdict.ok, verdict.message) == (False, "No upload folder is configured")
