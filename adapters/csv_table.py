"""CSV text → a TextTable of untouched text cells, with file line numbers for errors."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from adapters.table_values import TextTable, shown
from nightdesk.errors import FeedError


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Each non-blank CSV record with the file line it starts on (1-based).

    Only used to name lines in errors and to read the header, so the standard library's
    reader (which counts lines) is fine; pandas reads the data.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    found = []
    end = 0
    for fields in reader:
        start, end = end + 1, reader.line_num
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            found.append((start, fields))
    return found


class _Lines:
    """Data row position → "line N", computed only when an error needs it."""

    def __init__(self, text: str, delimiter: str) -> None:
        self._text = text
        self._delimiter = delimiter
        self._rows: list[tuple[int, list[str]]] | None = None

    def rows(self) -> list[tuple[int, list[str]]]:
        """Each data record (the header left out) with the line it starts on.

        Raises:
            csv.Error: the standard library's reader cannot read the text.
        """
        if self._rows is None:
            self._rows = _records(self._text, self._delimiter)[1:]
        return self._rows

    def __call__(self, row: int) -> str:
        try:
            rows = self.rows()
        except csv.Error:
            rows = []
        return f"line {rows[row][0]}" if row < len(rows) else f"data row {row + 1}"


def _header(text: str, delimiter: str, source: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for fields in reader:
            if fields and not (len(fields) == 1 and not fields[0].strip()):
                return [name.strip() for name in fields]
    except csv.Error as exc:
        raise FeedError(f"the CSV header is malformed: {exc}", source=source) from None
    raise FeedError("empty response (no header row)", source=source)


def _refuse_short_rows(frame: pd.DataFrame, width: int, lines: _Lines, table: TextTable) -> None:
    """A row with fewer fields than the header is an error: the feed may be truncated.

    pandas pads a short row with empty cells, so only a table whose last column has an
    empty cell can hold one; only then is the text read again, record by record, to count.
    """
    if width < 2 or not (frame.iloc[:, -1] == "").any():
        return
    try:
        rows = lines.rows()
    except csv.Error as exc:
        raise table.error(f"the CSV is malformed: {exc}") from None
    for row, (line, fields) in enumerate(rows):
        if len(fields) < width:
            count = f"{len(fields)} field" + ("" if len(fields) == 1 else "s")
            raise table.error(
                f"line {line} has {count} where the header has {width}: the feed may be "
                "truncated (or the row has lost some of its fields)",
                row=row,
            )


def _name_columns(frame: pd.DataFrame, header: list[str], table: TextTable) -> pd.DataFrame:
    """Use the header's own (stripped) names; refuse duplicates, drop empty unnamed columns."""
    if len(header) != frame.shape[1]:
        return frame
    frame = frame.set_axis(header, axis=1)
    for k, name in enumerate(header):
        if name and header.index(name) != k:
            raise table.error(
                f"column {name!r} appears twice in the header (columns {header.index(name) + 1} "
                f"and {k + 1})",
                column=name,
            )
    unnamed = [k for k, name in enumerate(header) if not name]
    for k in unnamed:
        cells = frame.iloc[:, k]
        filled = (cells.fillna("").str.strip() != "").to_numpy()
        if filled.any():
            row = int(filled.argmax())
            raise table.error(
                f"column {k + 1} has no name in the header but holds "
                f"{shown(cells.iloc[row])} ({table.where(row)}); name it or remove it",
                row=row,
            )
    return frame.drop(columns=frame.columns[unnamed]) if unnamed else frame


def read_csv_table(text: str, *, delimiter: str, source: str) -> TextTable:
    """Read CSV text with every cell kept as text; nothing is coerced or guessed.

    Raises:
        FeedError: malformed CSV, a row with more or fewer fields than the header, a bad
            header, or no data rows.
    """
    header = _header(text, delimiter, source)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        reason = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc)).strip()
        raise FeedError(f"the CSV is malformed: {reason}", source=source) from None
    if not isinstance(frame.index, pd.RangeIndex):
        raise FeedError(
            f"the data rows have more fields than the header names ({len(header)}); "
            f"is there a trailing {delimiter!r} on each row?",
            source=source,
        )
    lines = _Lines(text, delimiter)
    table = TextTable(frame=frame, source=source, where=lines)
    if len(frame) == 0:
        raise table.error("the feed has no rows (a header and nothing else: truncated?)")
    _refuse_short_rows(frame, len(header), lines, table)
    return TextTable(frame=_name_columns(frame, header, table), source=source, where=table.where)
