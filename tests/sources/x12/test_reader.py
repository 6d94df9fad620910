"""Reader behaviour on hand-made inputs: delimiters, whitespace, truncation, strictness, outbound 850."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from sources.formats import x12

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250131*1200*U*00401*000000007*0*P*>~"
GROUP = "GS*IB*SENDER*RECEIVER*20250131*1200*7*X*004010~ST*846*0001~BIA*00*DD*R1*20250131~LIN**UP*0123*VN*A B/C~"


def interchange(body: str = "QTY*33*5*EA~CTT*1~SE*6*0001~GE*1*7~IEA*1*000000007~") -> str:
    return ISA + GROUP + body


def test_bom_indentation_line_breaks_and_ctrl_z_are_ignored_but_spaces_in_values_are_kept():
    text = "\ufeff  " + interchange().replace("~", "~\r\n    ").replace("A B/C", " A B/C ") + "\x1a"
    result = x12.read(text.encode())
    assert result.issues == []
    (item,) = result.transactions[0].document.items
    assert item.identifiers == {"UP": "0123", "VN": " A B/C "} and item.quantity() == 5


def test_missing_trailers_are_errors_even_when_lenient():
    result = x12.read(interchange("QTY*33*5*EA~CTT*1~").encode())
    assert {issue.code for issue in result.errors} == {"transaction_unterminated", "group_unterminated"}
    assert "interchange_unterminated" in {issue.code for issue in result.issues}
    assert result.transactions[0].document.items[0].quantity() == 5


def test_strict_partner_turns_count_mismatch_into_an_error_with_its_location():
    data = interchange().replace("SE*6*0001", "SE*9*0001").encode()
    assert not x12.read(data).errors
    (error,) = x12.read(data, strict=True).errors
    assert (error.code, str(error.location)) == (
        "se_count_mismatch", "interchange 1, group 1, transaction 1, segment 6 (SE), element 1",
    )  # fmt: skip


def test_gs01_that_does_not_fit_st01_is_reported():
    result = x12.read(interchange().replace("GS*IB", "GS*IN").encode())
    assert [issue.code for issue in result.issues] == ["functional_id_mismatch"]


def test_text_without_isa_raises_x12error():
    with pytest.raises(x12.X12Error):
        x12.read(b"UNA:+.? 'UNB+UNOC:3+SENDER'")


def test_non_utf8_bytes_are_read_as_latin1_with_a_warning():
    data = interchange().replace("A B/C", "CAF\xc9").encode("latin-1")
    result = x12.read(data)
    assert [issue.code for issue in result.issues] == ["latin1_decoded"]
    assert result.transactions[0].document.items[0].identifiers["VN"] == "CAFÉ"


def test_fr_becomes_an_850_that_reads_back_as_a_dropship_po():
    fr = x12.FROrder(
        number="FR-1001",
        date=date(2025, 1, 31),
        ship_to=x12.ShipToAddress("Jane Doe", ("1 Main St", "Apt 2"), "Austin", "TX", "78701"),
        lines=(x12.FRLine("SKU 1/A", 2, Decimal("9.99"), upc="012345678905"), x12.FRLine("SKU-2", 1)),
        shipping_code="228",
    )
    envelope = x12.Envelope(sender_id="FLXHUB", receiver_id="043109560", receiver_qualifier="01", usage="T")
    numbers = x12.InMemoryControlNumbers(start=41)
    data = x12.write(
        [x12.purchase_order_from_fr(fr)], envelope=envelope, control_numbers=numbers, at=datetime(2025, 1, 31)
    )
    assert data.startswith(
        b"ISA*00*          *00*          *ZZ*FLXHUB         *01*043109560      *250131*0000*U*00401*"
    )
    result = x12.read(data, strict=True)
    assert result.issues == []
    interchange = result.interchanges[0]
    assert (interchange.control_number, interchange.usage, interchange.groups[0].control_number) == (
        "000000041",
        "T",
        "41",
    )
    (order,) = [document for _, document in result.documents()]
    assert (order.order_type, order.number, order.date, order.carriers[0].carrier_id) == (
        "DS",
        "FR-1001",
        "20250131",
        "228",
    )
    assert order.party("ST").address == ["1 Main St", "Apt 2"]
    assert [(line.identifiers, line.quantity, line.unit_price) for line in order.lines] == [
        ({"VN": "SKU 1/A", "UP": "012345678905"}, 2, Decimal("9.99")), ({"VN": "SKU-2"}, 1, None),
    ]  # fmt: skip
    assert numbers.next("interchange") == 42 and numbers.next("transaction") == 42


def test_envelope_settings_are_checked_before_writing():
    bad = x12.Envelope(sender_id="FLXHUB", receiver_id="X", delimiters=x12.Delimiters(element="*", component="*"))
    with pytest.raises(x12.X12Error):
        x12.write([x12.PurchaseOrder(number="1")], envelope=bad, control_numbers=x12.InMemoryControlNumbers())


def test_a_long_846_is_checked_and_located_past_its_first_block_of_segments():
    quantities = {4000: "3*EA*X*Y", 4500: "two*EA"}  # more elements than QTY has; not a number
    items = "".join(f"LIN**VP*SKU{n}~QTY*33*{quantities.get(n, '1*EA')}~" for n in range(1, 5001))
    result = x12.read(interchange("QTY*33*5*EA~" + items + "CTT*5001~SE*10006*0001~GE*1*7~IEA*1*000000007~").encode())
    (transaction,) = result.transactions
    # ST 1, BIA 2, LIN 3, QTY 4, then item n's LIN at 3 + 2n and its QTY at 4 + 2n.
    assert [(issue.code, issue.location.segment, issue.location.segment_id, issue.location.element)
            for issue in transaction.issues] == [
        ("segment_run_together", 8004, "QTY", 5), ("number_invalid", 9004, "QTY", 2),
    ]  # fmt: skip
    document = transaction.document
    assert len(document.items) == 5001 and document.items[-1].identifiers == {"VP": "SKU5000"}
    assert document.items[4000].quantities[0].quantity == 3 and document.items[4500].quantity() is None
    segments = transaction.segments
    assert (segments[0].tag, segments[8003].elements, segments[-1].get(1)) == (
        "ST", ["QTY", "33", "3", "EA", "X", "Y"], "10006",
    )  # fmt: skip
    assert [segment.position - segments[0].position for segment in transaction.body[:2]] == [1, 2]
