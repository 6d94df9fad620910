"""How many elements the segments flxhub reads may carry, used to spot segments run together."""

from __future__ import annotations

import re

# Largest element count of each segment across 003010–005010; a segment with more was very likely glued to the
# next one by a missing terminator.
MAX_ELEMENTS = {
    "ACK": 29, "AK1": 4, "AK2": 3, "AK3": 4, "AK4": 4, "AK5": 6, "AK9": 9, "AMT": 3, "BAK": 12, "BEG": 12,
    "BIA": 6, "BIG": 10, "BSN": 7, "CAD": 10, "CLD": 7, "CSH": 25, "CTP": 11, "CTT": 7, "CUR": 21, "DTM": 6,
    "FOB": 9, "GE": 2, "GS": 8, "HL": 4, "IEA": 2, "ISS": 6, "IT1": 25, "ITD": 15, "LIN": 31, "MAN": 6, "MEA": 10,
    "MSG": 3, "N1": 6, "N2": 2, "N3": 2, "N4": 7, "N9": 7, "NTE": 2, "PER": 9, "PID": 9, "PKG": 6, "PO1": 25,
    "PO4": 18, "PRF": 7, "QTY": 4, "REF": 4, "SAC": 16, "SCH": 12, "SDQ": 23, "SE": 2, "SN1": 8, "ST": 3,
    "TD1": 10, "TD3": 10, "TD4": 6, "TD5": 15, "TDS": 4, "UIT": 3,
}  # fmt: skip

CODE = re.compile(r"[A-Z0-9]{1,3}\Z")
NUMBER = re.compile(r"-?\d*\.?\d+\Z")

# What the first element of a segment looks like, for the segments a stray tag is checked against.
FIRST_ELEMENT = {"QTY": CODE, "REF": CODE, "CTT": NUMBER, "DTM": re.compile(r"\d{3}\Z"), "N1": CODE,
                 "PID": re.compile(r"[FSX]\Z"), "SCH": NUMBER, "SN1": re.compile(r"\w*\Z"),
                 "MAN": CODE, "SAC": re.compile(r"[ACN]\Z"), "HL": re.compile(r"\d+\Z")}  # fmt: skip


def suspect_run_together(elements: list[str]) -> tuple[int, str] | None:
    """Return (element, explanation) when this segment looks like two segments run together, else None.

    A value ending in a known segment ID followed by elements that fit that segment is taken as the place
    where a terminator went missing (``REF~ZZ~ASIAQTY~17~…``, ``QTY~17~7280~FTCTT~5``); failing that, a
    segment with more elements than its definition allows is reported on its first extra element.
    """
    tag = elements[0]
    for index in range(1, len(elements)):
        value = elements[index]
        for glued, first in FIRST_ELEMENT.items():
            if len(value) > len(glued) and value.endswith(glued) and value[-len(glued) - 1].isalnum():
                rest = elements[index + 1 :]
                if rest and first.match(rest[0]) and len(rest) <= MAX_ELEMENTS[glued]:
                    return index, (
                        f"{tag}{index:02d} {value!r} ends with {glued!r}: a segment terminator is probably missing,"
                        f" running {tag} and {glued} together"
                    )
    limit = MAX_ELEMENTS.get(tag)
    if limit is not None and len(elements) - 1 > limit:
        return limit + 1, (
            f"{tag} has {len(elements) - 1} elements, at most {limit} are defined:"
            " a segment terminator is probably missing"
        )
    return None
