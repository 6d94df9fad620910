"""XLSX feeds: read with python-calamine (fast, native), write with openpyxl's write-only mode.

Options of :func:`read_xlsx` (all optional):

- ``sheet``: a sheet name, or a 0-based index (default 0, the first sheet);
- ``header`` (default True) and ``header_row`` (1-based sheet row of the header, default: the first
  non-empty row); without a header, records are lists indexed from 0;

Cells become text, the same as CSV, so one mapping works for both: whole numbers lose the ``.0``
spreadsheets add (a UPC stored as a number stays ``"036000291452"`` only if the sheet kept it as
text — a numeric cell has already lost its leading zeros), other numbers use the shortest exact
form, booleans ``true``/``false``, dates and times ISO 8601.

Memory: calamine decodes a sheet natively before Python sees a row (measured ~98 MiB for 100k rows,
see ``reference/perf.md``); rows are then converted and yielded one at a time.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from . import FormatError, Record, Source


def cell_text(value: Any) -> str:
    """Return a calamine cell value as feed text."""
    if value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return "" if value is None else str(value)


class XlsxReader:
    """Iterator of :class:`Record` over one sheet; ``headers`` and ``sheet_name`` say what it read."""

    def __init__(self, source: Source, options: Mapping[str, Any]):
        data = source if isinstance(source, bytes | bytearray | memoryview) else source.read()
        if not data:
            raise FormatError("the XLSX file is empty", details={"line": 1})
        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(bytes(data)))
        except (CalamineError, ValueError, OSError) as exc:
            raise FormatError(f"cannot open the file as XLSX: {exc}", details={"line": 1}) from None
        sheet_ref = options.get("sheet", 0)
        try:
            if isinstance(sheet_ref, int):
                sheet = workbook.get_sheet_by_index(sheet_ref)
            else:
                sheet = workbook.get_sheet_by_name(str(sheet_ref))
        except (CalamineError, IndexError, ValueError) as exc:
            raise FormatError(
                f"no sheet {sheet_ref!r} in the workbook (sheets: {', '.join(workbook.sheet_names)}): {exc}"
            ) from None
        self.sheet_name: str = sheet.name
        # calamine's rows start at sheet row 1 but at the first used column: pad so index 0 is column A.
        self._pad = [""] * (sheet.start[1] if sheet.start else 0)
        self._width = sheet.width
        self._rows = sheet.iter_rows()
        self._line = 0
        self.headers: list[str] | None = None
        if options.get("header", True):
            header_row = options.get("header_row")
            cells = self._next_row()
            while cells is not None and (
                (header_row is not None and self._line < int(header_row)) or (header_row is None and not any(cells))
            ):
                cells = self._next_row()
            if cells is None or not any(cells):
                raise FormatError(f"sheet {self.sheet_name!r} has no header row", details={"line": self._line})
            self.headers = _clean_headers(cells, self._line)
        self._records = self._generate()

    def _next_row(self) -> list[str] | None:
        try:
            cells = next(self._rows)
        except StopIteration:
            return None
        self._line += 1
        return self._pad + [cell_text(cell) for cell in cells]

    def __iter__(self) -> Iterator[Record]:
        # A for loop gets the generator itself: no Python-level __next__ call per row.
        return self._records

    def __next__(self) -> Record:
        return next(self._records)

    def _generate(self) -> Iterator[Record]:
        headers = self.headers
        row = 0
        line = self._line
        convert = _row_function(len(self._pad), self._width, headers)
        for raw in self._rows:
            line += 1
            values = convert(raw)
            if values is None:
                continue
            row += 1
            if values.__class__ is tuple:  # (values,): cells beyond the header hold something
                yield Record(row, line, values[0], f"sheet row {line}: cells beyond the header")
            else:
                yield Record(row, line, values)


def _row_function(pad: int, width: int, headers: list[str] | None) -> Callable[[list], Any]:
    """Return ``raw row -> values``: None for an empty row, else a dict by header (a list without headers), or
    ``(dict,)`` when cells beyond the header hold something.

    Generated source, like the mapping's fast path: every cell is converted inline (``cell_text`` for a text
    cell is the cell itself, for a number a ``repr``), without a call and a loop per cell; 0.41 -> 0.22 s for
    100,000 rows of 10 cells. A row of another width than ``width`` (calamine's rows all have the sheet's) takes
    the general way.
    """
    names = [f"c{index}" for index in range(width)]
    body = ["def convert(raw):"]
    if names:
        body += ["    try:", f"        {''.join(name + ', ' for name in names)}= raw"]
        body += ["    except ValueError:", "        return general(raw)"]
    for name in names:
        body += [
            f"    if {name}.__class__ is not str:",
            f"        if {name}.__class__ is float:",
            f"            {name} = str(int({name})) if {name}.is_integer() and -1e16 < {name} < 1e16 else repr({name})",
            "        else:",
            f"            {name} = text({name})",
        ]
    body += [f"    if not ({' or '.join(names) or 'False'}):", "        return None"]
    cells = [repr("")] * pad + names
    if headers is None:
        body.append(f"    return [{', '.join(cells)}]")
    else:
        pairs = ", ".join(f"{header!r}: {cell}" for header, cell in zip(headers, cells))  # noqa: B905 - shorter
        beyond = cells[len(headers) :]
        body.append(f"    values = {{{pairs}}}")
        if any(cell in names for cell in beyond):
            body += [f"    if {' or '.join(cell for cell in beyond if cell in names)}:", "        return (values,)"]
        body.append("    return values")

    def general(raw: list) -> Any:
        cells = [""] * pad + [cell_text(cell) for cell in raw]
        if not any(cells):
            return None
        if headers is None:
            return cells
        values = dict(zip(headers, cells))  # noqa: B905 - short rows are fine
        if len(cells) > len(headers) and any(cells[len(headers) :]):
            return (values,)
        return values

    namespace: dict[str, Any] = {"text": cell_text, "general": general}
    exec(compile("\n".join(body), "<xlsx row>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["convert"]


def read_xlsx(source: Source, options: Mapping[str, Any] | None = None) -> XlsxReader:
    """Stream the records of one sheet of an XLSX workbook; see the module docstring for ``options``."""
    return XlsxReader(source, options or {})


def _clean_headers(cells: list[str], line: int) -> list[str]:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    headers = [cell.strip() or f"column_{index + 1}" for index, cell in enumerate(cells)]
    if len(set(headers)) != len(headers):
        duplicate = next(name for name in headers if headers.count(name) > 1)
        raise FormatError(
            f"sheet row {line}: the header names column {duplicate!r} twice; rename one or map by column index",
            details={"line": line, "column": duplicate},
        )
    return headers


def write_xlsx(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]], headers: Sequence[str], sheet_title: str = "Sheet1"
) -> bytes:
    """Return an XLSX workbook with a header row, then ``rows`` (dicts keyed by header, or sequences).

    Strings stay strings (so identifiers such as UPCs keep their leading zeros); Decimal, int and
    float become numbers; dates become date cells. Uses openpyxl's write-only mode (constant memory).
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title)
    sheet.append(list(headers))
    for row in rows:
        cells = [row.get(name) for name in headers] if isinstance(row, Mapping) else list(row)
        sheet.append([float(cell) if isinstance(cell, Decimal) else cell for cell in cells])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
