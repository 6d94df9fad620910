"""Every real file in ../shared/realdata/x12 reads into the documents SOURCES.md describes, or into located issues."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sources.formats import x12

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = REPO_ROOT.parent / "shared" / "realdata" / "x12"


def corpus_files() -> list[str]:
    return sorted(path.name for path in CORPUS.glob("*.edi")) if CORPUS.is_dir() else []


def read(name: str, *, strict: bool = False) -> x12.ReadResult:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    return x12.read((CORPUS / name).read_bytes(), strict=strict)


def documents(name: str) -> list:
    return [document for _, document in read(name).documents()]


def codes(result: x12.ReadResult) -> set[str]:
    return {issue.code for issue in result.issues}


# File → transaction set IDs in file order, per SOURCES.md (and counted in the files).
TRANSACTIONS = {
    "810_850_staedi_two_groups.edi": ["810", "810", "850"],
    "810_edinet_ariba.edi": ["810"],
    "810_oopfactory_adobe.edi": ["810"],
    "810_oopfactory_multiinvoice.edi": ["810", "810"],
    "810_oopfactory_tempurpedic.edi": ["810"],
    "810_oopfactory_walmart.edi": ["810"],
    "846_coedition_2.edi": ["846"],
    "846_ingram_coedition_1.edi": ["846"],
    "846_oopfactory_1.edi": ["846"],
    "846_oopfactory_2.edi": ["846"],
    "850_bots_dropship_tilde_elem.edi": ["850"],
    "850_bots_pipe_multi_st.edi": ["850"] * 4,
    "850_bots_tilde_space.edi": ["850"] * 2,
    "850_bots_vics_nonprintable.edi": ["850"] * 4,
    "850_edinet_issue135.edi": ["850"] * 2,
    "850_ingram_coedition_dropship.edi": ["850"] * 3,
    "850_nodex12_petco.edi": ["850"],
    "850_nodex12_vics.edi": ["850"],
    "850_oopfactory_adobe_shrinkwrapped.edi": ["850"],
    "850_oopfactory_adobe_tlp.edi": ["850"],
    "850_oopfactory_pgwglass.edi": ["850"],
    "855_bots_safeway_ucs.edi": ["855"] * 6,
    "855_ingram_coedition.edi": ["855"] * 4,
    "855_nodex12_books.edi": ["855"],
    "855_oopfactory_adobe.edi": ["855"],
    "855_oopfactory_ssimmons.edi": ["855"] * 2,
    "856_1edisource_nodex12.edi": ["856"],
    "856_bots_plus_apostrophe.edi": ["856"] * 2,
    "856_ingram_coedition.edi": ["856"] * 3,
    "856_oopfactory_1.edi": ["856"],
    "856_oopfactory_2.edi": ["856"],
    "856_oopfactory_3_ellipsis.edi": ["856"],
    "856_oopfactory_4.edi": ["856"],
    "856_oopfactory_gregarican_vics.edi": ["856"],
    "997_bots_multi_st.edi": ["997"] * 3,
    "997_bots_vics_nak.edi": ["997"],
    "997_coedition_truncated.edi": ["997"],
    "997_ingram_coedition.edi": ["997"],
    "997_staedi_multi_interchange.edi": ["997"] * 3,
    "997_staedi_simple.edi": ["997"],
    "mixed_bots_mailbag_multi_isa.edi": ["997", "850", "820", "820"] + ["850"] * 10,
}
# Files SOURCES.md calls malformed, with the issue each must report (and where).
MALFORMED = {
    "846_oopfactory_2.edi": "segment_run_together",
    "846_coedition_2.edi": "se_count_mismatch",
    "850_edinet_issue135.edi": "segment_terminator_missing",
    "997_coedition_truncated.edi": "se_count_mismatch",
    "997_ingram_coedition.edi": "ge_control_mismatch",
}


def test_corpus_list_matches_sources_md():
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    assert corpus_files() == sorted(TRANSACTIONS)


@pytest.mark.parametrize("name", sorted(TRANSACTIONS))
def test_every_file_reads_into_its_transactions_with_located_issues(name):
    result = read(name)
    assert [transaction.set_id for transaction in result.transactions] == TRANSACTIONS[name]
    for transaction in result.transactions:
        assert (transaction.document is None) == (transaction.set_id == "820"), name
    for issue in result.issues:
        assert issue.location.interchange >= 0 and issue.message
    if name in MALFORMED:
        assert MALFORMED[name] in codes(result)
    else:
        assert not result.errors


@pytest.mark.parametrize("name", sorted(TRANSACTIONS))
def test_strict_reading_turns_envelope_faults_into_errors_without_raising(name):
    lenient, strict = read(name), read(name, strict=True)
    assert [issue.code for issue in strict.issues] == [issue.code for issue in lenient.issues]
    if name in MALFORMED:
        assert strict.errors


def test_846_ingram_items_carry_vp_up_and_per_warehouse_quantities():
    (advice,) = documents("846_ingram_coedition_1.edi")
    assert advice.report_type == "DD"
    first = advice.items[0]
    assert first.identifiers == {"VP": "FMA BRFN09510", "UP": "704400095108"}
    assert first.description == ".HACK//QUANTUM OVA (BLU RAY/DVD COMBO (2DISCS)"
    assert first.quantity("33") == 1
    assert [(w.warehouse, w.quantity) for w in first.warehouses][:5] == [
        ("DALLAS", 0), ("CHICAGO", 0), ("PORTLAND", 0), ("MEMPHIS", 0), ("BALTIMORE", 1),
    ]  # fmt: skip
    second = advice.items[1]
    assert second.identifiers["VP"] == "ACR DAMP8392D" and second.quantity() == 8
    assert sum(w.quantity for w in second.warehouses) == 8
    assert len(advice.items) == 7


def test_846_quantities_by_qualifier_with_uit_units_and_ctp_prices():
    (sanmina,) = documents("846_oopfactory_1.edi")
    item = sanmina.items[0]
    assert item.identifiers == {"BP": "46L5055", "EC": "5V", "MF": "XYZ Corporation", "MG": "1234123232"}
    assert [(q.qualifier, q.quantity, q.unit) for q in item.quantities] == [
        ("34", 5250, "EA"), ("QH", 100, "EA"), ("QB", 50, "EA"), ("87", 75, "EA"),
    ]  # fmt: skip
    (spec,) = documents("846_coedition_2.edi")
    assert spec.items[0].price("CON") == Decimal("0.79") and spec.items[0].price("MSR") == Decimal("1.79")


def test_846_run_together_segments_are_reported_where_they_occur():
    result = read("846_oopfactory_2.edi")
    run_together = [issue for issue in result.issues if issue.code == "segment_run_together"]
    assert [(i.location.segment, i.location.segment_id, i.location.element) for i in run_together] == [
        (13, "REF", 2), (23, "QTY", 3),
    ]  # fmt: skip
    assert all(issue.location.transaction == 0 and issue.location.group == 0 for issue in run_together)
    (advice,) = [document for _, document in result.documents()]
    assert advice.items[4].identifiers == {"BP": "35933", "VN": "I304/0250035Z", "ZZ": "TX"}
    assert advice.items[0].quantity("17") == Decimal("1998.61")


def test_846_wrong_se_count_is_located_on_se01():
    (issue,) = [i for i in read("846_coedition_2.edi").issues if i.code == "se_count_mismatch"]
    assert (issue.location.segment, issue.location.segment_id, issue.location.element) == (8, "SE", 1)
    assert "'06'" in issue.message and "8" in issue.message


def test_850_ingram_dropship_orders_with_consumer_ship_to_and_service_level():
    orders = documents("850_ingram_coedition_dropship.edi")
    assert [order.number for order in orders] == ["117649143", "117649153", "117649160"]
    first = orders[0]
    assert first.order_type == "DS" and first.acknowledgment_type == "AC"
    assert [(c.id_qualifier, c.carrier_id, c.service_level) for c in first.carriers] == [("ZZ", "228", "BS")]
    ship_to = first.party("ST")
    assert (ship_to.name, ship_to.address, ship_to.city) == ("RECIPIENT 1", ["101 EXAMPLE ST", "UNIT 1"], "SPRINGFIELD")
    assert first.party("SO").address == ["197 Falcon "]  # the trailing space inside the value survives
    line = first.lines[0]
    assert (line.identifiers, line.quantity, line.unit_price) == ({"VN": "PS3 CIT 01402"}, 1, Decimal("32.96"))
    assert line.description == "Sniper 2 Ghost Warrior"


@pytest.mark.parametrize(
    ("name", "po_numbers", "first_ids"),
    [
        ("850_oopfactory_pgwglass.edi", ["S41000439"], {"BP": "0459001004"}),
        ("850_oopfactory_adobe_tlp.edi", ["TLP-X12"], {"BP": "12345678", "MG": "64113730AD01A00"}),
        ("850_oopfactory_adobe_shrinkwrapped.edi", ["MH80312"], {"BP": "12345678", "MG": "12070205"}),
        ("850_bots_dropship_tilde_elem.edi", ["333333333333"], {"VN": "123456789012345", "IN": "666666"}),
        ("850_nodex12_petco.edi", ["----------"], {"VN": "UNKNOWN", "PD": "SU - SPARK - AQ FREEZER PUSHER",
                                                   "SK": "000000000001010700"}),
        ("850_bots_pipe_multi_st.edi", ["12345678", "12345678", "12456777", "11223344"], {"UP": "999999999991"}),
        ("850_bots_tilde_space.edi", ["801104", "PONUM-1234567"], {"BP": "MPDGART"}),
        ("850_edinet_issue135.edi", ["740150", "740151"], {"ST": "F07EXPLBA1818"}),
        ("850_nodex12_vics.edi", ["08292233294"], {"CB": "065322-117", "PR": "RO", "VN": "AB3542"}),
    ],
)  # fmt: skip
def test_850_po_numbers_and_identifiers_whatever_the_delimiters(name, po_numbers, first_ids):
    orders = documents(name)
    assert [order.number for order in orders] == po_numbers
    assert orders[0].lines[0].identifiers == first_ids


def test_850_shrinkwrapped_trailing_space_before_crlf_is_not_data():
    (order,) = documents("850_oopfactory_adobe_shrinkwrapped.edi")
    ship_to = order.party("ST")
    assert (ship_to.name, ship_to.extra_names, ship_to.postal_code) == ("SHIP TO Org Name", ["Partner Name"], "95110")
    assert order.lines[0].unit_price == Decimal("1499.95")


def test_850_nonprintable_delimiters_and_line_charges():
    result = read("850_bots_vics_nonprintable.edi")
    interchange = result.interchanges[0]
    assert (interchange.delimiters.element, interchange.delimiters.segment) == ("\x7f", "\x15")
    orders = [document for _, document in result.documents()]
    assert sum(len(order.lines) for order in orders) == 169
    first = orders[0]
    assert first.currency == "CAD"
    assert first.lines[0].identifiers == {
        "UP": "058824014093",
        "IT": "1409",
        "IN": "01112061",
        "BO": "N/A",
        "IZ": "N/A",
    }
    assert [(c.indicator, c.agency_qualifier, c.agency_code) for c in first.lines[0].charges] == [
        ("N", "VI", "TC091102")
    ]


def test_850_issue135_missing_isa16_and_a_segment_ended_by_a_newline():
    result = read("850_edinet_issue135.edi")
    interchange = result.interchanges[0]
    assert (interchange.delimiters.component, interchange.delimiters.segment) == ("", "~")
    missing = [issue for issue in result.issues if issue.code == "segment_terminator_missing"]
    assert [(i.location.transaction, i.location.segment, i.location.segment_id) for i in missing] == [(0, 21, "DTM")]
    first, second = [document for _, document in result.documents()]
    assert len(first.lines) == 10 and first.lines[0].dates[-1].qualifier == "038"
    assert "transaction_control_duplicate" in codes(result)


def test_855_ingram_rejection_backorder_and_fills():
    acks = documents("855_ingram_coedition.edi")
    assert [ack.po_number for ack in acks] == ["1712223", "1712245", "1712253", "1712257"]
    assert [line.state for line in acks[1].lines] == ["accepted", "accepted"]
    (backordered,) = acks[2].lines
    assert (backordered.statuses[0].code, backordered.state, backordered.statuses[0].reason) == (
        "IB", "backordered", "BACKORDERED",
    )  # fmt: skip
    assert backordered.identifiers == {"VN": "COL D05517D", "UP": "043396055179"}
    rejection = acks[3]
    assert (rejection.purpose, rejection.acknowledgment_type, rejection.rejected) == ("44", "RJ", True)
    assert rejection.rejection_reason == "INVALID CITY/ZIP COMBINATION"
    assert rejection.notes[0].value == "A06" and rejection.lines == [] and rejection.line_count == 0
    assert not any(ack.rejected for ack in acks[:3])


def test_855_books_line_rejections_after_a_run_of_empty_elements():
    (ack,) = documents("855_nodex12_books.edi")
    assert [(line.statuses[0].code, line.state, line.statuses[0].reason) for line in ack.lines] == [
        ("IA", "accepted", "AC"), ("IR", "rejected", "CW"), ("IR", "rejected", "KK"), ("IA", "accepted", "AC"),
    ]  # fmt: skip
    assert ack.lines[1].identifiers == {"EN": "9780767928427", "B6": "CLAPTON, ERIC", "B3": "00"}
    assert ack.references[0].qualifier == "ZZZ"


def test_855_line_level_parties_and_seller_order_number():
    first, _ = documents("855_oopfactory_ssimmons.edi")
    assert first.seller_order_number == "83517234"
    assert [(p.code, p.name) for p in first.lines[0].parties] == [("LW", "OJEDA, ROSA")]


def test_856_hierarchy_from_hl02_and_tracking_from_man_2i():
    notices = documents("856_ingram_coedition.edi")
    assert len(notices) == 3
    notice = notices[0]
    assert [(level.id, level.parent_id, level.code) for level in notice.levels] == [
        ("1", "", "S"), ("2", "1", "O"), ("3", "2", "P"), ("4", "3", "I"),
    ]  # fmt: skip
    assert notice.purchase_orders() == ["1572098"]
    (item,) = notice.levels_of("I")
    assert item.identifiers == {"VN": "WAR DP370462D", "UP": "883929303526"} and item.shipped_quantity == 1
    assert notice.ancestor(item, "O").purchase_order == "1572098"
    assert notice.levels_of("P")[0].marks == [x12.Mark("2I", "9274890000000000000001")]
    assert "9274890000000000000001" in notice.tracking_numbers()
    assert notice.levels[0].dates[0].time == "16002600"


def test_856_hierarchy_inferred_when_hl02_is_missing():
    (notice,) = documents("856_oopfactory_4.edi")
    assert [(level.parent_id, level.code) for level in notice.levels] == [("", "S"), ("1", "O")] + [("2", "I")] * 7
    assert all(level.parent_inferred for level in notice.levels[1:])
    items = notice.levels_of("I")
    assert [(i.identifiers["SK"], i.shipped_quantity, i.ordered_quantity) for i in items][:2] == [
        ("100014544", 10, 10), ("100014545", 5, 5),
    ]  # fmt: skip
    assert notice.purchase_orders() == ["PO NUMBER"]


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("856_oopfactory_1.edi", "SOIII"),
        ("856_oopfactory_2.edi", "SII"),
        ("856_oopfactory_3_ellipsis.edi", "SIII"),
        ("856_1edisource_nodex12.edi", "SOII"),
        ("856_oopfactory_gregarican_vics.edi", "SOPI"),
        ("856_bots_plus_apostrophe.edi", "SOPIPIOPIPIIOPI"),
    ],
)
def test_856_level_shapes(name, shape):
    assert "".join(level.code for level in documents(name)[0].levels) == shape


def test_856_identifiers_with_spaces_and_the_ellipsis_terminator():
    result = read("856_oopfactory_3_ellipsis.edi")
    assert result.interchanges[0].delimiters.segment == "…"
    (notice,) = [document for _, document in result.documents()]
    assert notice.levels_of("I")[0].identifiers == {"BP": "000 260 056 524", "VN": "abc123", "EC": "02"}
    (gregarican,) = documents("856_oopfactory_gregarican_vics.edi")
    assert gregarican.levels_of("P")[0].marks == [x12.Mark("GM", "00007121610006156802")]
    (apostrophe, _) = documents("856_bots_plus_apostrophe.edi")
    assert apostrophe.levels_of("I")[0].identifiers["XX"] == "ADD VALUE"


def test_810_sac_charges_with_implied_decimals_and_tds_total():
    first, second = documents("810_oopfactory_multiinvoice.edi")
    assert (first.number, first.po_number, first.total) == ("465266", "539893", Decimal("8432.02"))
    assert [(c.indicator, c.code, c.amount) for line in first.lines for c in line.charges][:2] == [
        ("C", "D360", Decimal("58.87")), ("C", "D360", Decimal("174.48")),
    ]  # fmt: skip
    assert second.number == "465267"
    (tempur,) = documents("810_oopfactory_tempurpedic.edi")
    assert tempur.total == Decimal("56358.00")
    assert [(c.indicator, c.code, c.amount) for c in tempur.lines[-1].charges] == [("C", "D240", Decimal("0"))]
    (walmart,) = documents("810_oopfactory_walmart.edi")
    assert [(c.indicator, c.code, c.amount) for c in walmart.lines[0].charges] == [("A", "I410", Decimal("23.50"))]
    assert walmart.lines[0].identifiers["UK"] == "00221089552284 " and walmart.party("ST").postal_code == "72712 "
    (ariba,) = documents("810_edinet_ariba.edi")
    assert [(c.indicator, c.code, c.amount) for c in ariba.charges] == [
        ("C", "G830", Decimal("6.00")), ("C", "H850", Decimal("0.00")),
    ]  # fmt: skip
    assert ariba.lines[0].charges[0].indicator == "N" and ariba.lines[0].charges[0].code == "B840"
    assert ariba.total == Decimal("365.96")


def test_two_groups_in_one_interchange():
    result = read("810_850_staedi_two_groups.edi")
    assert [group.functional_id for group in result.groups] == ["IN", "PO"]
    invoice, _, order = [document for _, document in result.documents()]
    assert (invoice.number, invoice.po_number) == ("00001", "A99999-01")
    assert order.number == "S115921858"


def test_997s_multi_interchange_ingram_and_truncated():
    multi = read("997_staedi_multi_interchange.edi")
    assert [interchange.control_number for interchange in multi.interchanges] == ["000000001", "000000002", "000000003"]
    ack = multi.transactions[0].document
    assert (ack.functional_id, ack.group_control_number, ack.status) == ("HC", "000001", "R")
    (transaction,) = ack.transactions
    assert (transaction.control_number, transaction.status, transaction.codes) == ("0021", "R", ["5"])
    (error,) = transaction.segment_errors
    assert (error.segment_id, error.position, error.code) == ("NM1", 8, "8")
    assert [(e.position, e.code, e.bad_value) for e in error.elements] == [("8", "7", "MI")]

    (ingram,) = documents("997_ingram_coedition.edi")
    assert len(ingram.transactions) == 288 and (ingram.included, ingram.accepted) == (288, 288)
    assert ingram.transactions[-1].control_number == "100000288"

    truncated = read("997_coedition_truncated.edi")
    (short,) = [document for _, document in truncated.documents()]
    assert short.status == "" and len(short.transactions) == 3
    assert {"ak9_missing", "ak5_missing", "se_count_mismatch", "ge_control_mismatch"} <= codes(truncated)


def test_mailbag_of_eight_interchanges_with_their_own_delimiters():
    result = read("mixed_bots_mailbag_multi_isa.edi")
    assert len(result.interchanges) == 8
    assert [(i.delimiters.component, i.delimiters.segment) for i in result.interchanges] == [
        (">", "\x15"), (":", "\x15"), (":", "\x15"), ("@", "\n"), ("+", "~"), ("}", "\x15"), (">", "~"), (">", "~"),
    ]  # fmt: skip
    assert [i.version for i in result.interchanges] == [
        "00401", "00400", "00400", "00302", "00300", "00401", "00403", "00401",
    ]  # fmt: skip
    assert [len(i.groups) for i in result.interchanges] == [1, 1, 1, 1, 2, 1, 1, 1]
    assert "group_control_duplicate" in codes(result)
