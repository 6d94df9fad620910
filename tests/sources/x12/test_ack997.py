"""The 997 flxhub writes for each received group reads back and answers the right control numbers."""

from __future__ import annotations

from datetime import datetime

import pytest

from sources.formats import x12

from .test_corpus import CORPUS, TRANSACTIONS, read

ACKNOWLEDGED_SETS = {"850", "855", "856", "810"}
ENVELOPE = x12.Envelope(sender_id="FLXHUB", receiver_id="PARTNER", delimiters=x12.Delimiters(element="|"))


def write_and_read_back(acks: list[x12.FunctionalAck]) -> list[x12.FunctionalAck]:
    data = x12.write(acks, envelope=ENVELOPE, control_numbers=x12.InMemoryControlNumbers(), at=datetime(2025, 1, 31))
    result = x12.read(data, strict=True)
    assert result.issues == []
    return [document for _, document in result.documents()]


@pytest.mark.parametrize("name", [name for name, sets in sorted(TRANSACTIONS.items()) if ACKNOWLEDGED_SETS & set(sets)])
def test_997_for_each_received_group_acknowledges_its_control_numbers(name):
    result = read(name)
    groups = [group for group in result.groups if group.transactions[0].set_id in ACKNOWLEDGED_SETS]
    acks = write_and_read_back([x12.acknowledge(group) for group in groups])
    assert len(acks) == len(groups)
    for ack, group in zip(acks, groups, strict=True):
        assert (ack.functional_id, ack.group_control_number) == (group.functional_id, group.control_number)
        assert [(t.set_id, t.control_number) for t in ack.transactions] == [
            (t.set_id, t.control_number) for t in group.transactions
        ]
        assert (ack.received, ack.accepted) == (len(group.transactions), len(group.transactions))
        assert ack.status in ("A", "E")


def test_997_reports_a_wrong_se_count_with_ak5_code_4():
    (group,) = read("846_coedition_2.edi").groups
    (ack,) = write_and_read_back([x12.acknowledge(group)])
    assert [(t.status, t.codes) for t in ack.transactions] == [("E", ["4"])]
    (group,) = read("846_coedition_2.edi", strict=True).groups
    (ack,) = write_and_read_back([x12.acknowledge(group)])
    assert (ack.status, ack.accepted, [(t.status, t.codes) for t in ack.transactions]) == ("R", 0, [("R", ["4"])])


def test_997_reports_run_together_segments_with_ak3_and_ak4():
    (group,) = read("846_oopfactory_2.edi", strict=True).groups
    (ack,) = write_and_read_back([x12.acknowledge(group)])
    (transaction,) = ack.transactions
    assert (transaction.status, transaction.codes) == ("R", ["5"])
    errors = [
        (e.segment_id, e.position, e.code, [(x.position, x.code) for x in e.elements])
        for e in transaction.segment_errors
    ]
    assert errors == [("REF", 13, "8", [("2", "3")]), ("QTY", 23, "8", [("3", "3")])]


def test_997_reports_group_trailer_faults_with_ak9_codes():
    (group,) = read("997_ingram_coedition.edi").groups
    ack = x12.acknowledge(group)
    assert (ack.status, ack.codes) == ("E", ["4"])
    (group,) = read("997_ingram_coedition.edi", strict=True).groups
    (ack,) = write_and_read_back([x12.acknowledge(group)])
    assert (ack.status, ack.codes, ack.accepted, ack.received) == ("R", ["4"], 0, 1)


def test_997_reports_a_duplicate_transaction_control_number():
    (group,) = read("850_edinet_issue135.edi").groups
    (ack,) = write_and_read_back([x12.acknowledge(group)])
    assert [t.codes for t in ack.transactions] == [["5"], ["23"]]


def test_corpus_is_present_or_skipped():
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    assert any(CORPUS.glob("850_*.edi"))
