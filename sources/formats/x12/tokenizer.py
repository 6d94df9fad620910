"""Cut bytes into interchanges and segments, taking the delimiters from each interchange's own ISA."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import X12Error
from .segment_rules import FIRST_ELEMENT, MAX_ELEMENTS, suspect_run_together

LINE_BREAK = "\n"
BOM = "\ufeff"
# Between segments a file may carry line breaks, indentation, a BOM and (at the end) DOS Ctrl-Z.
BETWEEN_SEGMENTS = " \t\r\n\x1a\ufeff"
TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
ISA_MAX_LENGTH = 250
VERSION = re.compile(r"00[2-9]\d\d")
ISA_START = re.compile(r"ISA[^A-Za-z0-9\s]\d\d")

# report(code, message, segment_position, element)
Report = Callable[[str, str, int | None, int | None], None]


@dataclass(frozen=True)
class Delimiters:
    """The separators of one interchange; ``segment`` is ``"\\n"`` when lines end segments.

    ``component`` is empty when ISA16 is missing, ``repetition`` when the version has none.
    ``suffix`` is what the writer puts after each terminator (``""``, ``"\\n"``, ``"\\r\\n"``).
    """

    element: str = "*"
    component: str = ">"
    repetition: str = ""
    segment: str = "~"
    suffix: str = "\n"

    def check_writable(self) -> None:
        """Raise X12Error unless these delimiters can be written unambiguously."""
        used = [self.element, self.component, self.segment] + ([self.repetition] if self.repetition else [])
        if len(set(used)) != len(used):
            raise X12Error(f"delimiters must differ from each other: {used!r}")
        for char in used:
            if len(char) != 1 or char.isalnum() or char in " \t\r" or (char == "\n" and char != self.segment):
                raise X12Error(f"{char!r} cannot be an X12 delimiter")
        if self.suffix not in ("", "\n", "\r\n") or (self.segment == "\n" and self.suffix):
            raise X12Error(f"suffix {self.suffix!r} must be empty, LF or CRLF, and empty when lines end segments")


class Segment:
    """One segment: ``elements[0]`` is its tag, so ``elements[n]`` is data element n as X12 numbers it.

    ``position`` is the 1-based position in the interchange (ISA is 1).
    """

    __slots__ = ("elements", "position")

    def __init__(self, elements: list[str], position: int):
        self.elements = elements
        self.position = position

    @property
    def tag(self) -> str:
        return self.elements[0]

    def get(self, index: int) -> str:
        """Return element ``index`` (1-based), or "" when the segment stops before it."""
        elements = self.elements
        return elements[index] if index < len(elements) else ""

    def __repr__(self) -> str:
        return f"Segment({'*'.join(self.elements)!r})"


@dataclass
class RawInterchange:
    """One ISA…IEA span as cut from the text: the ISA's elements and the text of each segment after it.

    ``pieces[i]`` is the segment at position ``i + 2`` (ISA is 1), still joined by the element separator, and
    ``tags[i]`` its segment ID; splitting into elements waits until a reader walks the segments.
    """

    delimiters: Delimiters
    isa: list[str]
    pieces: list[str]
    tags: list[str]
    checks: SegmentChecks


@dataclass(frozen=True)
class SegmentChecks:
    """What marks a segment of one interchange for a closer look: an invalid ID, more elements than its
    definition allows, or (when a known tag is glued to a value somewhere in the interchange) anything."""

    invalid: frozenset[str] = frozenset()
    glued: bool = False

    def suspect(self, elements: list[str]) -> bool:
        """Cheap test of the split segment ``elements``: True when ``findings`` may have something to say."""
        tag = elements[0]
        return self.glued or len(elements) > ROW_LIMITS.get(tag, UNLIMITED) or tag in self.invalid

    def findings(self, elements: list[str]) -> list[tuple[str, str, int]]:
        """Return (code, message, element) for what is wrong with this segment: nothing, or one finding."""
        tag = elements[0]
        if tag in self.invalid:
            return [("segment_id_invalid", f"segment ID {tag[:20]!r} is not 2–3 capital letters/digits", 0)]
        suspect = suspect_run_together(elements)
        return [("segment_run_together", suspect[1], suspect[0])] if suspect else []


# A segment split into more parts than this (tag included) has more elements than its definition allows.
UNLIMITED = 10**9
ROW_LIMITS = {tag: limit + 1 for tag, limit in MAX_ELEMENTS.items()}


def decode(data: bytes, report: Report) -> str:
    """Decode as UTF-8 (so a multi-byte terminator is one character) or, failing that, as latin-1."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise X12Error(f"X12 input must be bytes, not {type(data).__name__}")
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        report("latin1_decoded", f"not UTF-8 (byte {exc.start}); decoded as latin-1", None, None)
        return bytes(data).decode("latin-1")


def split_interchanges(text: str, report_for: Callable[[int], Report]) -> Iterator[RawInterchange]:
    """Yield each interchange in ``text``; ``report_for(index)`` gives the reporter for interchange ``index``."""
    start = _skip_between(text, 0)
    index = 0
    while start < len(text):
        report = report_for(index)
        if not text.startswith("ISA", start):
            found = _find_isa(text, start)
            junk = text[start : found if found >= 0 else len(text)]
            if junk.strip(BETWEEN_SEGMENTS + "\x00"):
                report("junk_outside_interchange", f"text outside any interchange: {junk[:40]!r}", None, None)
            if found < 0:
                return
            start = found
        try:
            delimiters, isa, body_start = read_isa(text, start, report)
        except X12Error as exc:
            report("isa_unreadable", str(exc), 1, None)
            found = _find_isa(text, start + 3)
            if found < 0:
                return
            start = found
            index += 1
            continue
        body_end, next_start = _interchange_end(text, body_start, delimiters)
        body = text[body_start:body_end]
        pieces = cut_pieces(body, delimiters, report, first_position=2)
        element = delimiters.element
        tags = [piece.partition(element)[0] for piece in pieces]
        yield RawInterchange(delimiters, isa, pieces, tags, segment_checks(tags, body, element))
        del body
        index += 1
        start = _skip_between(text, next_start)


def read_isa(text: str, start: int, report: Report) -> tuple[Delimiters, list[str], int]:
    """Read the ISA at ``start``; return its delimiters, its elements and where the next segment starts.

    The ISA is split on its fourth character rather than read by fixed offsets, because real ISAs are often
    not fixed-width; the character after ISA16 is then cross-checked with the text that follows.
    """
    element = text[start + 3 : start + 4]
    if not element or element.isalnum() or element in " \r\n":
        raise X12Error(f"ISA element separator {element!r} is not usable")
    limit = min(len(text), start + ISA_MAX_LENGTH)
    cursor = start + 3
    for _ in range(15):
        cursor = text.find(element, cursor + 1, limit)
        if cursor < 0:
            raise X12Error("ISA has fewer than 16 elements")
    isa = text[start:cursor].split(element)
    after16 = cursor + 1
    first, second = text[after16 : after16 + 1], text[after16 + 1 : after16 + 2]
    component, segment, pad, next_start = first, second, "", after16 + 2
    if first == element:
        report("isa16_empty", "ISA16 (component separator) is empty", 1, 16)
        component, segment, next_start = "", second, after16 + 2
    elif first in ("\r", "\n", ""):
        report("isa16_missing", "ISA16 (component separator) is missing", 1, 16)
        component, segment, next_start = "", first, after16 + 1
    elif second in ("\r", "\n") and _next_line_ends_with(text, after16 + 1, first):
        report("isa16_missing", f"ISA16 is missing: {first!r} ends the segments, so it is the terminator", 1, 16)
        component, segment, next_start = "", first, after16 + 1
    elif second.isalnum() and text.startswith(("GS", "IEA"), after16 + 1):
        report("isa16_missing", f"ISA16 is missing: {first!r} ends the segments, so it is the terminator", 1, 16)
        component, segment, next_start = "", first, after16 + 1
    elif second in (" ", "\t"):
        spaces = len(text[after16 + 1 : limit]) - len(text[after16 + 1 : limit].lstrip(" \t"))
        if text[after16 + 1 + spaces : after16 + 2 + spaces] in ("\r", "\n"):
            pad, segment, next_start = text[after16 + 1 : after16 + 1 + spaces], "\n", after16 + 1 + spaces
    if segment == "":
        raise X12Error("the file ends inside the ISA")
    if segment in ("\r", "\n"):
        segment = LINE_BREAK
    isa.append(component)
    _check_isa_widths(isa, report)
    repetition = isa[11] if _uses_repetition(isa, element, component, segment) else ""
    delimiters = Delimiters(element, component, repetition, segment, suffix=pad)
    return delimiters, isa, next_start


def cut_pieces(body: str, delimiters: Delimiters, report: Report, first_position: int = 1) -> list[str]:
    """Cut ``body`` into the text of each segment, ignoring whitespace between segments but keeping it inside values.

    When lines end segments, ``delimiters.suffix`` holds the padding the ISA line carried before its line break
    (one file ends every line with a space); that padding is dropped from each line. The work is done in
    comprehensions over the whole body, and the rarely needed checks only run where a cheap test says so.
    """
    element, terminator = delimiters.element, delimiters.segment
    if terminator == LINE_BREAK:
        pieces = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    else:
        pieces = body.split(terminator)
    pieces = [piece.lstrip(BETWEEN_SEGMENTS) for piece in pieces]
    pad = delimiters.suffix if terminator == LINE_BREAK else ""
    if pad:
        pieces = [piece[: -len(pad)] if piece.endswith(pad) else piece for piece in pieces]
    pieces = [piece for piece in pieces if piece]
    if terminator == LINE_BREAK or not any("\n" in piece or "\r" in piece for piece in pieces):
        return pieces
    result: list[str] = []
    for piece in pieces:
        if "\n" in piece or "\r" in piece:
            result.extend(_split_missing_terminators(piece, element, first_position + len(result), report))
        else:
            result.append(piece)
    return result


def segment_checks(tags: list[str], body: str, element: str) -> SegmentChecks:
    """Decide, for the whole interchange, which segment IDs are invalid and whether a stray tag is glued on."""
    unique = set(tags)
    invalid = frozenset(tag for tag in unique if not TAG.match(tag))
    # A stray tag glued to a value shows as more "TAG<element>" in the text than there are TAG segments.
    counts = Counter(tags) if unique & FIRST_ELEMENT.keys() else {}
    glued = any(body.count(tag + element) > counts.get(tag, 0) for tag in FIRST_ELEMENT)
    return SegmentChecks(invalid, glued)


def _split_missing_terminators(piece: str, element: str, position: int, report: Report) -> list[str]:
    """Split a piece at line breaks that start a new segment: the terminator before them was left out."""
    lines = piece.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    parts = [lines[0]]
    for line in lines[1:]:
        stripped = line.lstrip(" \t")
        tag = stripped.split(element, 1)[0]
        if element in stripped and TAG.match(tag):
            report(
                "segment_terminator_missing",
                f"segment {parts[-1].split(element, 1)[0]!r} ends with a line break, not the terminator,"
                f" before {tag!r}",
                position + len(parts) - 1,
                None,
            )
            parts.append(stripped)
        else:
            parts[-1] += "\n" + line
    return [part.rstrip("\r\n") for part in parts]


def _interchange_end(text: str, body_start: int, delimiters: Delimiters) -> tuple[int, int]:
    """Return where this interchange's body ends and where the text after it starts.

    The body ends at the terminator of the first IEA that starts a segment, unless another ISA comes first
    (the IEA is missing). Plain ``str.find`` keeps this fast on files of many megabytes.
    """
    next_isa = _find_isa(text, body_start)
    limit = next_isa if next_isa >= 0 else len(text)
    needle = "IEA" + delimiters.element
    found = text.find(needle, body_start, limit)
    while found >= 0:
        before = found - 1
        while before >= body_start and text[before] in " \t\r\n":
            before -= 1
        at_line_start = before < body_start or "\n" in text[before:found] or "\r" in text[before:found]
        if (
            at_line_start
            if delimiters.segment == LINE_BREAK
            else before < body_start or text[before] == delimiters.segment
        ):
            terminator = "\n" if delimiters.segment == LINE_BREAK else delimiters.segment
            end = text.find(terminator, found, limit)
            return (end, end + len(terminator)) if end >= 0 else (limit, limit)
        found = text.find(needle, found + 1, limit)
    return limit, limit


def _find_isa(text: str, start: int) -> int:
    """Return where the next ISA segment starts at or after ``start``, or -1."""
    found = text.find("ISA", start)
    while found >= 0:
        if (found == 0 or not text[found - 1].isalnum()) and ISA_START.match(text, found):
            return found
        found = text.find("ISA", found + 1)
    return -1


def _skip_between(text: str, start: int) -> int:
    while start < len(text) and text[start] in BETWEEN_SEGMENTS:
        start += 1
    return start


def _next_line_ends_with(text: str, start: int, char: str) -> bool:
    """Tell whether the first non-blank line after ``start`` ends with ``char`` (ignoring trailing spaces)."""
    for line in text[start : start + 4 * ISA_MAX_LENGTH].splitlines()[:3]:
        if line.strip():
            return line.rstrip(" \t").endswith(char)
    return False


def _uses_repetition(isa: list[str], element: str, component: str, segment: str) -> bool:
    """Tell whether ISA11 is a repetition separator (versions 00402 and later) rather than a standards ID."""
    separator, version = isa[11], isa[12]
    return (
        len(separator) == 1
        and not separator.isalnum()
        and separator not in (" ", element, component, segment)
        and version.isdigit()
        and version >= "00402"
    )


def _check_isa_widths(isa: list[str], report: Report) -> None:
    wrong = [n for n, width in enumerate(ISA_WIDTHS, start=1) if len(isa[n]) != width]
    if wrong:
        report(
            "isa_not_fixed_width",
            "ISA elements of unexpected width: " + ", ".join(f"ISA{n:02d}={isa[n]!r}" for n in wrong),
            1,
            wrong[0],
        )
    if not VERSION.fullmatch(isa[12]):
        report("isa_version_invalid", f"ISA12 version {isa[12]!r} is not an X12 version number", 1, 12)
    if not isa[13].isdigit():
        report("isa_control_invalid", f"ISA13 control number {isa[13]!r} is not numeric", 1, 13)
