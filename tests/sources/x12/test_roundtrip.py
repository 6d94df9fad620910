"""Any document written with any legal delimiter set reads back equal; arbitrary bytes raise only X12Error."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.formats import x12

ELEMENT_CHARS = "*|~^+:>!`@}\x7f\x1d\x1f"
SEGMENT_CHARS = "~'|\x15\x1c…\n"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def delimiter_sets(draw) -> x12.Delimiters:
    element = draw(st.sampled_from(ELEMENT_CHARS))
    segment = draw(st.sampled_from([c for c in SEGMENT_CHARS if c != element]))
    component = draw(st.sampled_from([c for c in ELEMENT_CHARS if c not in (element, segment)]))
    repetition = draw(st.sampled_from([""] + [c for c in "^!`" if c not in (element, segment, component)]))
    suffix = "" if segment == "\n" else draw(st.sampled_from(["", "\n", "\r\n"]))
    return x12.Delimiters(element, component, repetition, segment, suffix)


def text(delimiters: x12.Delimiters, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    """Values a partner may send: letters, digits, punctuation, spaces inside, accented letters; no delimiters."""
    forbidden = {delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition or "^"}
    alphabet = [c for c in "ABCZaz09 -/.,#&()%'\"é" if c not in forbidden]
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def word(delimiters: x12.Delimiters) -> st.SearchStrategy[str]:
    return text(delimiters, 1, 12)


codes = st.text("ABCDEFGZ0123456789", min_size=2, max_size=3)
amounts = st.none() | st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
numbers = st.none() | st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


def identifiers(d) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(codes, word(d), max_size=4)


def parties(d) -> st.SearchStrategy[x12.Party]:
    return st.builds(
        x12.Party,
        code=codes,
        name=text(d),
        id_qualifier=st.just("92"),
        id=text(d),
        extra_names=st.lists(word(d), max_size=3),
        address=st.lists(word(d), max_size=3),
        city=text(d),
        state=text(d, 0, 2),
        postal_code=text(d, 0, 10),
        country=st.sampled_from(["", "US", "USA"]),
        references=st.lists(st.builds(x12.Reference, codes, word(d), text(d)), max_size=2),
    )


def charges(d) -> st.SearchStrategy[x12.Charge]:
    return st.builds(
        x12.Charge, st.sampled_from("ACN"), codes, st.just(""), text(d), amounts, st.just(""), numbers, text(d)
    )


def dates(d) -> st.SearchStrategy[x12.DateTime]:
    return st.builds(
        x12.DateTime, st.sampled_from(["002", "011", "097"]), st.just("20250131"), st.sampled_from(["", "1200"])
    )


def order_lines(d, with_statuses: bool = False) -> st.SearchStrategy[x12.OrderLine]:
    statuses = st.builds(
        x12.LineStatus, st.sampled_from(["IA", "IB", "IR", "AC"]), numbers, st.just("EA"), st.just("068"),
        st.just("20250201"), text(d), identifiers(d), st.just(""), st.just(""), text(d, 0, 3),
    )  # fmt: skip
    return st.builds(
        x12.OrderLine,
        identifiers=identifiers(d),
        line_number=text(d, 0, 4),
        quantity=numbers,
        unit=st.sampled_from(["EA", "CA", "FT"]),
        unit_price=amounts,
        price_basis=st.sampled_from(["", "PE", "TE"]),
        description=text(d),
        references=st.lists(st.builds(x12.Reference, codes, word(d)), max_size=2),
        dates=st.lists(dates(d), max_size=2),
        charges=st.lists(charges(d), max_size=2),
        statuses=st.lists(statuses, max_size=2) if with_statuses else st.just([]),
        parties=st.lists(parties(d), max_size=1),
    )


def inventory(d) -> st.SearchStrategy[x12.InventoryAdvice]:
    item = st.builds(
        x12.InventoryItem,
        identifiers=identifiers(d),
        line_number=text(d, 0, 4),
        description=text(d),
        quantities=st.lists(st.builds(x12.Quantity, codes, numbers, st.sampled_from(["", "EA"])), max_size=3),
        prices=st.lists(st.builds(x12.Price, codes, numbers, st.sampled_from(["", "DI"])), max_size=2),
        warehouses=st.lists(
            st.builds(x12.WarehouseQuantity, numbers, st.just("EA"), st.just("WH"), text(d), st.just("097"), text(d)),
            max_size=3,
        ),
        references=st.lists(st.builds(x12.Reference, codes, word(d)), max_size=1),
        dates=st.lists(dates(d), max_size=1),
    )
    return st.builds(
        x12.InventoryAdvice,
        purpose=st.just("00"),
        report_type=st.sampled_from(["DD", "CM"]),
        reference=text(d),
        date=st.just("20250131"),
        parties=st.lists(parties(d), max_size=2),
        references=st.lists(st.builds(x12.Reference, codes, word(d)), max_size=2),
        dates=st.lists(dates(d), max_size=2),
        items=st.lists(item, max_size=4),
    )


def order_fields(d, with_statuses: bool = False) -> dict:
    return dict(
        currency=st.sampled_from(["", "USD", "CAD"]),
        references=st.lists(st.builds(x12.Reference, codes, word(d), text(d)), max_size=2),
        notes=st.lists(st.builds(x12.Reference, codes, word(d), text(d)), max_size=2),
        dates=st.lists(dates(d), max_size=2),
        carriers=st.lists(st.builds(x12.Carrier, st.just("O"), st.just("ZZ"), word(d), st.just("D"), text(d), codes)),
        charges=st.lists(charges(d), max_size=2),
        parties=st.lists(parties(d), max_size=3),
        lines=st.lists(order_lines(d, with_statuses), max_size=4),
    )


def purchase_orders(d):
    return st.builds(x12.PurchaseOrder, number=word(d), date=st.just("20250131"), **order_fields(d))


def purchase_order_acks(d):
    return st.builds(
        x12.PurchaseOrderAck, acknowledgment_type=st.sampled_from(["AD", "AE", "RJ"]), po_number=word(d),
        po_date=st.just("20250131"), seller_order_number=text(d), **order_fields(d, with_statuses=True),
    )  # fmt: skip


def invoices(d):
    return st.builds(
        x12.Invoice, date=st.just("20250131"), number=word(d), po_number=word(d), total=amounts, **order_fields(d)
    )


@st.composite
def ship_notices(draw, d):
    levels = []
    for code in draw(st.lists(st.sampled_from("OPI"), max_size=6)):
        parent = draw(st.sampled_from([level.id for level in levels] or ["1"])) if levels else "1"
        levels.append(
            x12.ShipLevel(
                id=str(len(levels) + 2),
                parent_id=parent,
                code=code,
                purchase_order=draw(text(d)) if code == "O" else "",
                identifiers=draw(identifiers(d)) if code == "I" else {},
                shipped_quantity=draw(numbers) if code == "I" else None,
                unit="EA" if code == "I" else "",
                marks=[x12.Mark("2I", draw(word(d)))] if code == "P" else [],
                references=draw(st.lists(st.builds(x12.Reference, st.sampled_from(["CN", "BM"]), word(d)), max_size=2)),
                parties=draw(st.lists(parties(d), max_size=1)),
                dates=draw(st.lists(dates(d), max_size=1)),
            )
        )
    shipment = x12.ShipLevel(
        id="1", parent_id="", code="S", carriers=draw(st.lists(st.builds(x12.Carrier), max_size=1))
    )
    return x12.ShipNotice(shipment_id=draw(word(d)), date="20250131", structure="0001", levels=[shipment, *levels])


def functional_acks(d):
    element_errors = st.builds(x12.ElementError, st.sampled_from(["1", "8", "12"]), st.sampled_from(["1", "3", "7"]))
    segment_errors = st.builds(
        x12.SegmentError, st.sampled_from(["N1", "PO1"]), st.integers(1, 99), st.sampled_from(["1", "8"]),
        elements=st.lists(element_errors, max_size=2),
    )  # fmt: skip
    transactions = st.builds(
        x12.TransactionAck, st.sampled_from(["850", "855"]), st.from_regex(r"\A\d{4,9}\Z"), st.sampled_from("AER"),
        st.lists(st.sampled_from(["1", "4", "5", "23"]), max_size=3), st.lists(segment_errors, max_size=2),
    )  # fmt: skip
    return st.builds(
        x12.FunctionalAck, st.sampled_from(["PO", "PR", "SH"]), st.from_regex(r"\A\d{1,9}\Z"), st.just(""),
        st.lists(transactions, max_size=4), st.sampled_from("AEPR"), st.integers(0, 9), st.integers(0, 9),
        st.integers(0, 9), st.lists(st.sampled_from(["3", "4", "5"]), max_size=2),
    )  # fmt: skip


@st.composite
def documents_with_delimiters(draw):
    delimiters = draw(delimiter_sets())
    kinds = [inventory, purchase_orders, purchase_order_acks, invoices, ship_notices, functional_acks]
    documents = draw(st.lists(st.one_of([kind(delimiters) for kind in kinds]), min_size=1, max_size=3))
    version = draw(st.sampled_from(["004010", "004010VICS", "005010"]))
    return delimiters, version, documents


@SETTINGS
@given(documents_with_delimiters())
def test_any_document_with_any_delimiters_reads_back_equal(case):
    delimiters, version, documents = case
    envelope = x12.Envelope(sender_id="FLXHUB", receiver_id="SUPPLIER 1", version=version, delimiters=delimiters)
    data = x12.write(
        documents, envelope=envelope, control_numbers=x12.InMemoryControlNumbers(), at=datetime(2025, 1, 31)
    )
    result = x12.read(data, strict=True)
    assert [document for _, document in result.documents()] == documents
    assert result.issues == []
    interchange = result.interchanges[0]
    assert (interchange.delimiters.element, interchange.delimiters.segment) == (delimiters.element, delimiters.segment)
    assert interchange.groups[0].version == version


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_x12error(data):
    try:
        result = x12.read(data)
    except x12.X12Error:
        return
    for transaction, _ in result.documents():
        assert transaction.issues is not None
    [x12.acknowledge(group) for group in result.groups]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mangled_real_looking_interchanges_raise_only_x12error(data):
    """Cut, splice and corrupt a valid interchange: the reader reports, it does not crash."""
    base = (
        b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *250131*1200*U*00401*000000001*0*P*>~"
        b"GS*PO*A*B*20250131*1200*1*X*004010~ST*850*0001~BEG*00*DS*PO1**20250131~N1*ST*JANE~N3*1 MAIN ST~"
        b"PO1*1*2*EA*9.99*PE*VN*SKU 1*UP*0123~PID*F****THING~CTT*1~SE*9*0001~"
        b"ST*856*0002~BSN*00*S1*20250131*1200~HL*1**S~HL*2**O~PRF*PO1~HL*3**I~LIN**VN*SKU~SN1**2*EA~SE*9*0002~"
        b"GE*2*1~IEA*1*000000001~"
    )
    start = data.draw(st.integers(0, len(base)))
    end = data.draw(st.integers(start, len(base)))
    junk = data.draw(st.binary(max_size=8))
    mangled = base[:start] + junk + base[end:]
    try:
        result = x12.read(mangled)
    except x12.X12Error:
        return
    for group in result.groups:
        x12.acknowledge(group)


def test_written_values_may_not_hold_a_delimiter():
    envelope = x12.Envelope(sender_id="FLXHUB", receiver_id="SUPPLIER")
    order = x12.PurchaseOrder(number="PO*1")
    try:
        x12.write([order], envelope=envelope, control_numbers=x12.InMemoryControlNumbers())
    except x12.X12Error as error:
        assert "BEG03" in str(error)
    else:
        raise AssertionError("a value holding the element separator was written")


def test_amounts_with_more_than_two_decimals_cannot_be_written_with_implied_decimals():
    envelope = x12.Envelope(sender_id="FLXHUB", receiver_id="SUPPLIER")
    invoice = x12.Invoice(number="1", total=Decimal("1.005"))
    try:
        x12.write([invoice], envelope=envelope, control_numbers=x12.InMemoryControlNumbers())
    except x12.X12Error as error:
        assert "1.005" in str(error)
    else:
        raise AssertionError("an amount with 3 decimals was written as implied cents")
