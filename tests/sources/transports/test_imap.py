"""IMAP against Debian's dovecot: messages filtered by sender and subject, attachments by pattern, marked when done."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from imap_tools import AND, MailBoxUnencrypted

from sources.transports import TransportError, get_transport
from tests.sources.transports.conftest import FEED

SUPPLIER = "orders@usdirect.example"


def email(sender: str, subject: str, attachments: dict[str, bytes], day: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "feeds@retailer.example"
    message["Subject"] = subject
    message["Date"] = datetime(2026, 11, day, 6, 0, tzinfo=UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content("Today's files are attached.")
    for filename, data in attachments.items():
        maintype, subtype = ("text", "csv") if filename.endswith(".csv") else ("application", "octet-stream")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


@pytest.fixture
def mailbox(imap_settings):
    """The test user's mailbox, seeded with a supplier's feeds and some mail that must be left alone."""
    with MailBoxUnencrypted(imap_settings.host, imap_settings.port).login(
        imap_settings.username, imap_settings.password
    ) as mailbox:
        seed = [
            email(SUPPLIER, "Daily inventory 2026-11-20", {"inventory.csv": FEED, "notes.txt": b"hello"}, 20),
            email(SUPPLIER, "Price list", {"prices.csv": b"sku;cost\n"}, 21),
            email("someone@elsewhere.example", "Daily inventory (not ours)", {"inventory.csv": b"fake"}, 22),
            email(SUPPLIER, "Daily inventory 2026-11-23", {}, 23),
        ]
        for message in seed:
            mailbox.append(message.as_bytes(), "INBOX")
        yield mailbox


@pytest.fixture
def supplier_settings(imap_settings, mailbox):
    return dataclasses.replace(imap_settings, options={"sender": "usdirect.example", "subject": "Daily inventory"})


def names(transport, pattern="*"):
    return [entry.name.split("/", 1)[1] for entry in transport.list_files(pattern)]


def test_lists_attachments_of_messages_matching_sender_and_subject(supplier_settings):
    with get_transport(supplier_settings) as transport:
        files = transport.list_files("*.csv")
        assert names(transport) == ["inventory.csv", "notes.txt"]

    (inventory,) = files
    assert inventory.name.endswith("/inventory.csv")
    assert inventory.size == len(FEED)
    assert inventory.modified == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def test_without_filters_every_attachment_is_listed(imap_settings, mailbox):
    with get_transport(imap_settings) as transport:
        assert sorted(names(transport, "*.csv")) == ["inventory.csv", "inventory.csv", "prices.csv"]


def test_fetch_returns_the_attachment_bytes(supplier_settings, mailbox):
    with get_transport(supplier_settings) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        assert transport.fetch(inventory.name) == FEED
        assert transport.exists(inventory.name)

    mailbox.client.noop()
    assert list(mailbox.uids(AND(seen=True))) == []  # reading a feed does not mark the email read


def test_fetch_of_a_missing_attachment_or_message_is_clear(supplier_settings):
    with get_transport(supplier_settings) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        uid = inventory.name.split("/")[0]
        with pytest.raises(TransportError, match=f"File other.csv does not exist in message {uid} in INBOX"):
            transport.fetch(f"{uid}/other.csv")
        with pytest.raises(TransportError, match="Message 999 does not exist in INBOX"):
            transport.fetch("999/inventory.csv")
        assert not transport.exists("999/inventory.csv")


def test_an_attachment_over_the_size_limit_is_refused(supplier_settings):
    with get_transport(dataclasses.replace(supplier_settings, max_bytes=10)) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        with pytest.raises(TransportError, match="larger than the limit of 10 bytes"):
            transport.fetch(inventory.name)


def test_a_processed_message_is_flagged_and_no_longer_listed(supplier_settings, mailbox):
    with get_transport(supplier_settings) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        assert transport.mark_processed(inventory.name) == "$FlxhubProcessed"
        assert transport.list_files() == []

    uid = inventory.name.split("/")[0]
    mailbox.client.noop()  # let this session see what the other one changed
    assert list(mailbox.uids(AND(keyword="$FlxhubProcessed"))) == [uid]


def test_seen_may_be_the_processed_flag(supplier_settings, mailbox):
    settings = dataclasses.replace(supplier_settings, options={**supplier_settings.options, "processed_flag": "\\Seen"})
    with get_transport(settings) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        transport.mark_processed(inventory.name)
        assert transport.list_files() == []

    mailbox.client.noop()
    assert list(mailbox.uids(AND(seen=True))) == [inventory.name.split("/")[0]]


def test_a_processed_message_may_be_moved_to_a_new_folder(supplier_settings, mailbox):
    options = {**supplier_settings.options, "processed_folder": "Processed/Feeds"}
    with get_transport(dataclasses.replace(supplier_settings, options=options)) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        assert transport.mark_processed(inventory.name) == "Processed/Feeds/inventory.csv"
        assert transport.list_files() == []

    mailbox.folder.set("Processed/Feeds")
    (moved,) = mailbox.fetch(mark_seen=False)
    assert moved.subject == "Daily inventory 2026-11-20"


def test_move_archives_the_message(supplier_settings, mailbox):
    with get_transport(supplier_settings) as transport:
        (inventory,) = transport.list_files("inventory.csv")
        transport.move(inventory.name, "Archive")
        assert not transport.exists(inventory.name)

    mailbox.folder.set("Archive")
    assert [message.subject for message in mailbox.fetch(mark_seen=False)] == ["Daily inventory 2026-11-20"]


def test_put_is_not_supported(supplier_settings):
    transport = get_transport(supplier_settings)

    assert transport.can_put is False
    with pytest.raises(TransportError, match="IMAP connections cannot store files"):
        transport.put("x.csv", b"")


def test_test_connection_counts_matching_messages(supplier_settings):
    verdict = get_transport(supplier_settings).test()

    assert verdict.ok, verdict.message
    assert verdict.message.endswith("folder INBOX has 2 unprocessed messages matching the filters")


def test_missing_folder_verdict(supplier_settings):
    verdict = get_transport(dataclasses.replace(supplier_settings, path="Suppliers/Nope")).test()

    assert (verdict.ok, verdict.message) == (False, "Folder Suppliers/Nope does not exist")


def test_a_transport_that_missed_its_folder_never_reads_another(supplier_settings):
    transport = get_transport(dataclasses.replace(supplier_settings, path="Nope"))

    for _ in range(2):
        with pytest.raises(TransportError, match="Folder Nope does not exist"):
            transport.list_files()
