"""Behaviour every folder transport shares (FTP, FTPS, SFTP, operator upload), each against its real server."""

from __future__ import annotations

import dataclasses
import io

import pytest

from sources.transports import TransientTransportError, Transport, TransportError, get_transport
from tests.sources.transports.conftest import FEED


def transport_for(file_server, **changes):
    return get_transport(dataclasses.replace(file_server.settings, **changes))


def test_lists_files_matching_the_pattern_with_sizes(file_server):
    with transport_for(file_server) as transport:
        files = transport.list_files("*.csv")

    assert isinstance(transport, Transport)
    assert sorted((entry.name, entry.size) for entry in files) == [("inventory.csv", len(FEED)), ("prices.csv", 20)]
    assert all(entry.modified is not None for entry in files)


def test_fetch_returns_the_file_bytes(file_server):
    with transport_for(file_server) as transport:
        assert transport.fetch("inventory.csv") == FEED
        with transport.download("prices.csv") as stream:
            assert stream.read() == b"sku;cost\nUSD-1;9,50\n"


def test_fetch_of_a_missing_file_names_file_and_folder(file_server):
    with transport_for(file_server) as transport, pytest.raises(TransportError) as raised:
        transport.fetch("nope.csv")

    assert not isinstance(raised.value, TransientTransportError)
    assert raised.value.message.startswith("File nope.csv does not exist in ")
    assert raised.value.message.endswith("/in")


def test_fetch_over_the_size_limit_is_refused(file_server):
    with transport_for(file_server, max_bytes=10) as transport, pytest.raises(TransportError) as raised:
        transport.fetch("inventory.csv")

    assert raised.value.code == "transport_file_too_large"
    assert raised.value.message == "inventory.csv is larger than the limit of 10 bytes"


def test_put_writes_a_temporary_name_and_renames_it_when_complete(file_server):
    class WatchingReader(io.BytesIO):
        """Looks at the server's folder while the upload is in flight."""

        seen_mid_upload: list[list[str]] = []

        def read(self, size=-1):
            if self.tell() > 0 and not self.seen_mid_upload:
                self.seen_mid_upload.append(sorted(path.name for path in file_server.folder.iterdir()))
            return super().read(size)

    data = b"x" * 300_000
    with transport_for(file_server) as transport:
        transport.put("out.csv", WatchingReader(data))
        assert transport.exists("out.csv")

    (during,) = WatchingReader.seen_mid_upload
    assert "out.csv" not in during
    assert [name for name in during if name.startswith(".out.csv.") and name.endswith(".part")]
    assert (file_server.folder / "out.csv").read_bytes() == data
    assert sorted(path.name for path in file_server.folder.iterdir()) == [
        "inventory.csv",
        "out.csv",
        "prices.csv",
        "readme.txt",
    ]


def test_put_replaces_an_existing_file(file_server):
    with transport_for(file_server) as transport:
        transport.put("inventory.csv", b"sku;quantity\n")

    assert (file_server.folder / "inventory.csv").read_bytes() == b"sku;quantity\n"


def test_move_archives_into_a_new_folder_and_never_overwrites(file_server):
    with transport_for(file_server) as transport:
        first = transport.move("inventory.csv", "archive")
        transport.put("inventory.csv", b"second day")
        second = transport.move("inventory.csv", "archive")
        assert not transport.exists("inventory.csv")

    archive = file_server.folder / "archive"
    assert first.endswith("/in/archive/inventory.csv")
    assert (archive / "inventory.csv").read_bytes() == FEED
    (later,) = [path for path in archive.iterdir() if path.name != "inventory.csv"]
    assert later.name.startswith("inventory.") and later.name.endswith(".csv")
    assert second.endswith(later.name)
    assert later.read_bytes() == b"second day"


def test_move_of_a_missing_file_is_an_error(file_server):
    with transport_for(file_server) as transport, pytest.raises(TransportError, match="nope.csv does not exist"):
        transport.move("nope.csv", "archive")


def test_exists_tells_files_from_missing_names_and_folders(file_server):
    (file_server.folder / "sub").mkdir()
    with transport_for(file_server) as transport:
        assert transport.exists("prices.csv")
        assert not transport.exists("nope.csv")
        assert not transport.exists("sub")


@pytest.mark.parametrize("name", ["../secret.txt", "a/b.csv", "..", ""])
def test_names_with_a_folder_part_are_refused(file_server, name):
    with transport_for(file_server) as transport, pytest.raises(TransportError, match="Not a plain file name"):
        transport.fetch(name)


def test_test_connection_counts_the_files_in_the_folder(file_server):
    verdict = transport_for(file_server).test()

    assert verdict.ok, verdict.message
    assert "has 3 files" in verdict.message
    assert verdict.details["files"] == 3


def test_test_connection_reports_a_missing_folder(file_server):
    missing = file_server.settings.path.replace("/in", "/missing")

    verdict = transport_for(file_server, path=missing).test()

    assert not verdict.ok
    assert verdict.message == f"Folder {missing} does not exist"
    with pytest.raises(TransportError, match="does not exist"):
        transport_for(file_server, path=missing).list_files()


def test_a_transport_that_missed_its_folder_never_works_elsewhere(file_server):
    transport = transport_for(file_server, path=file_server.settings.path.replace("/in", "/missing"))

    for _ in range(2):
        with pytest.raises(TransportError, match="does not exist"):
            transport.list_files()
