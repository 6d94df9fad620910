"""JSON feeds: an array at the top, an array at a dotted path inside objects, or JSON Lines.

Streaming with the standard library only (ijson is not installed): a small scanner walks the
document with ``json.JSONDecoder.raw_decode`` and decodes one array element at a time, so memory
is bounded by the largest single element, not by the feed. Sibling values passed on the way to the
path are decoded and dropped one at a time. Limits: a single element (or skipped sibling) larger
than ``max_record_bytes`` (default 16 MiB) is refused, and the document after the array is not
read, so trailing garbage there goes unnoticed.

Options of :func:`read_json`: ``path`` (dotted keys to the array, e.g. ``data.items``; default: the
top-level value must be an array), ``encoding`` (default: UTF-8, or UTF-16/32 by BOM),
``max_record_bytes``. :func:`read_json_lines` takes ``encoding``. ``Record.row`` is the element's
1-based index; ``Record.line`` is the same for arrays and the file line for JSON Lines.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import IO, Any

from . import FormatError, Record, Source
from .csv import detect_encoding, open_binary

CHUNK_CHARS = 256 * 1024
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_float=Decimal)  # money stays exact: 19.99, not 19.989999...


class _Scanner:
    """Pull-parser over a text stream: peek at structure characters, decode whole values."""

    def __init__(self, text: IO[str], max_chars: int):
        self._text = text
        self._max_chars = max_chars
        self.buffer = ""
        self.pos = 0
        self.consumed = 0  # characters dropped from the front of the buffer
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self._text.read(CHUNK_CHARS)
        if not chunk:
            self.eof = True
            return False
        if self.pos > CHUNK_CHARS:
            self.consumed += self.pos
            self.buffer = self.buffer[self.pos :]
            self.pos = 0
        self.buffer += chunk
        return True

    @property
    def offset(self) -> int:
        return self.consumed + self.pos

    def peek(self) -> str:
        """Return the next non-whitespace character without consuming it ('' at the end)."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def take(self, expected: str, context: str) -> None:
        found = self.peek()
        if found != expected:
            shown = repr(found) if found else "the end of the file"
            raise FormatError(f"expected {expected!r} {context} at character {self.offset}, found {shown}")
        self.pos += 1

    def value(self, context: str) -> Any:
        """Decode one JSON value, reading more text until it is complete."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self._grow():
                    continue
                raise FormatError(
                    f"invalid JSON {context} at character {self.consumed + exc.pos}: {exc.msg}",
                    details={"offset": self.consumed + exc.pos},
                ) from None
            # A number at the very end of the buffer may continue in the next chunk.
            if end == len(self.buffer) and self._grow():
                continue
            if end - self.pos > self._max_chars:
                raise FormatError(
                    f"a JSON value at character {self.offset} is larger than {self._max_chars} characters; "
                    "raise max_record_bytes or split the feed"
                )
            self.pos = end
            return value

    def _grow(self) -> bool:
        if len(self.buffer) - self.pos > self._max_chars:
            raise FormatError(
                f"a JSON value at character {self.offset} is larger than {self._max_chars} characters "
                "(or its JSON is broken); raise max_record_bytes or split the feed"
            )
        return self._fill()


def _open_text(source: Source, options: Mapping[str, Any]) -> tuple[IO[str], str]:
    sample, stream = open_binary(source)
    if not sample.strip(b" \t\r\n"):
        raise FormatError("the JSON file is empty", details={"line": 1})
    notes: list[str] = []
    encoding = options.get("encoding") or detect_encoding(sample, notes)
    if notes and not options.get("encoding"):
        raise FormatError(f"JSON must be UTF-8: {notes[0]}", details={"line": 1})
    return io.TextIOWrapper(stream, encoding=encoding, newline=""), encoding


def read_json(source: Source, options: Mapping[str, Any] | None = None) -> Iterator[Record]:
    """Stream the elements of the array at ``options['path']`` (or the top-level array) as records."""
    options = options or {}
    text, encoding = _open_text(source, options)
    scanner = _Scanner(text, int(options.get("max_record_bytes", DEFAULT_MAX_RECORD_BYTES)))
    path = [part for part in str(options.get("path") or "").split(".") if part]
    _descend(scanner, path)
    return _elements(scanner, ".".join(path) or "the top level", encoding)


def _descend(scanner: _Scanner, path: list[str]) -> None:
    """Move the scanner to the '[' of the array at ``path``."""
    for depth, key in enumerate(path):
        here = ".".join(path[:depth]) or "the top level"
        scanner.take("{", f"(an object at {here}, to find {key!r})")
        seen: list[str] = []
        while True:
            if scanner.peek() == "}":
                raise FormatError(
                    f"no key {key!r} in the object at {here} (keys: {', '.join(seen) or 'none'})",
                    details={"path": ".".join(path)},
                )
            name = scanner.value(f"(a key in the object at {here})")
            if not isinstance(name, str):
                raise FormatError(f"invalid object key at {here}, character {scanner.offset}")
            scanner.take(":", f"after the key {name!r}")
            if name == key:
                break
            seen.append(name)
            scanner.value(f"(the value of {name!r})")
            if scanner.peek() == ",":
                scanner.pos += 1
    found = scanner.peek()
    if found != "[":
        where = ".".join(path) or "the top level"
        what = "an object" if found == "{" else "not an array"
        hint = "; give the dotted path to the array in the path option" if found == "{" else ""
        raise FormatError(f"the value at {where} is {what}{hint}", details={"path": ".".join(path)})
    scanner.pos += 1


def _elements(scanner: _Scanner, where: str, encoding: str) -> Iterator[Record]:
    row = 0
    try:
        if scanner.peek() == "]":
            return
        while True:
            row += 1
            yield Record(row, row, scanner.value(f"in element {row} of the array at {where}"))
            separator = scanner.peek()
            if separator == "]":
                return
            if separator != ",":
                shown = repr(separator) if separator else "the end of the file"
                raise FormatError(
                    f"expected ',' or ']' after element {row} of the array at {where}, found {shown}",
                    details={"row": row},
                )
            scanner.pos += 1
    except UnicodeDecodeError as exc:
        raise FormatError(f"the file is not valid {encoding} near element {row}: {exc.reason}") from None


def read_json_lines(source: Source, options: Mapping[str, Any] | None = None) -> Iterator[Record]:
    """Stream a JSON Lines feed: one JSON value per line; blank lines are skipped."""
    text, encoding = _open_text(source, options or {})
    return _json_lines(text, encoding)


def _json_lines(text: IO[str], encoding: str) -> Iterator[Record]:
    row = 0
    line = 0
    loads = _DECODER.decode
    try:
        for line, raw in enumerate(text, start=1):
            if not raw.strip():
                continue
            row += 1
            try:
                value = loads(raw)
            except json.JSONDecodeError as exc:
                raise FormatError(f"line {line}: invalid JSON: {exc.msg}", details={"line": line}) from None
            yield Record(row, line, value)
    except UnicodeDecodeError as exc:
        raise FormatError(f"line {line + 1}: the file is not valid {encoding}: {exc.reason}") from None
