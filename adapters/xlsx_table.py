"""An Excel workbook (.xlsx) → a TextTable of one sheet, read with openpyxl's streaming reader.

Electoral commissions publish spreadsheets. The body is untrusted like any other: it must
be a zip that is a workbook (an old .xls, an .ods or a web page is named for what it is),
it is size-checked before it is inflated (:func:`adapters.table_zip.open_zip`), and its XML
is read with defusedxml (openpyxl uses it when installed): entity tricks are refused.

Cells become text the way the CSV reader sees them, so one set of rules reads both: a
whole number stays its digits (Excel's 120.0 is 120), a fraction its shortest decimal, an
empty cell is not given. Formulas count by the value the spreadsheet program saved with
them; a formula saved without one (a file written by a program that does not calculate)
is an error that says so, never an empty cell. Columns right of the header's last name
are not read (notes beside a table are common and cannot be mapped anyway).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from adapters.feed_text import refuse_markup
from adapters.table_values import TextTable, shown
from adapters.table_zip import is_zip, open_zip
from nightdesk.errors import FeedError

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_WHOLE_FLOAT_AT_MOST = 2**53


def _refuse_other_bodies(body: bytes, source: str) -> None:
    """A body that is not a zip: say what it looks like instead."""
    if not body:
        raise FeedError("empty response", source=source)
    if body.startswith(_OLE2):
        raise FeedError(
            "this is an Excel 97-2003 .xls file (or a password-protected workbook), not "
            '.xlsx: save it as .xlsx (or export CSV and use format = "csv")',
            source=source,
        )
    if is_zip(body):
        return
    head = body[:4096].decode("utf-8", errors="replace")
    refuse_markup(head, expected="an .xlsx workbook", source=source)
    hint = ""
    if "\ufffd" not in head and ("," in head or ";" in head or "\t" in head):
        hint = '; it reads as text: is it CSV (format = "csv")?'
    raise FeedError(
        f"not an .xlsx workbook (an .xlsx file is a zip archive; this body starts with "
        f"{body[:8]!r}){hint}",
        source=source,
    )


def _refuse_other_archives(names: set[str], source: str) -> None:
    if "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise FeedError(
            "this is a binary Excel workbook (.xlsb), not .xlsx: save it as .xlsx", source=source
        )
    if "content.xml" in names and "mimetype" in names:
        raise FeedError(
            "this is an OpenDocument spreadsheet (.ods), not .xlsx: save it as .xlsx",
            source=source,
        )
    raise FeedError(
        "a zip archive, but not an Excel workbook (it has no xl/workbook.xml); "
        'a zip of CSV files is read by format = "csv"',
        source=source,
    )


def _text(value: Any) -> str | None:
    """A cell as the CSV reader would see it; ``None`` for an empty cell."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= _WHOLE_FLOAT_AT_MOST:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _sheet(workbook: Any, sheet: str | int | None, source: str) -> Any:
    names: list[str] = list(workbook.sheetnames)
    listed = ", ".join(map(repr, names))
    if not names:
        raise FeedError("the workbook has no sheets", source=source)
    if sheet is None:
        name = names[0]
    elif isinstance(sheet, int):
        if not 1 <= sheet <= len(names):
            raise FeedError(
                f"the workbook has no sheet {sheet} (it has {len(names)}: {listed})",
                source=source,
            )
        name = names[sheet - 1]
    elif sheet in names:
        name = sheet
    else:
        like = [n for n in names if n.casefold().strip() == sheet.casefold().strip()]
        if len(like) != 1:
            raise FeedError(
                f"the workbook has no sheet {sheet!r}; its sheets are: {listed}", source=source
            )
        name = like[0]
    found = workbook[name]
    if not hasattr(found, "iter_rows"):
        raise FeedError(f"sheet {name!r} is a chart, not a table; sheets: {listed}", source=source)
    return found


def _open(body: bytes, *, data_only: bool, source: str) -> Any:
    try:
        return openpyxl.load_workbook(
            io.BytesIO(body), read_only=True, data_only=data_only, keep_links=False
        )
    except FeedError:
        raise
    except Exception as exc:  # openpyxl and defusedxml raise many kinds; all mean "unreadable"
        raise FeedError(_unreadable(exc), source=source) from None


def _unreadable(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:  # openpyxl wraps the XML parser's error
        kind = type(cause).__name__
        if kind in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"):
            return (
                "the workbook's XML declares entities or a DTD (refused: entity expansion and "
                f"external entities are how XML bombs work): {cause}"
            )
        cause = cause.__cause__ or cause.__context__
    detail = " ".join(str(exc).split())[:200]
    return f"the workbook cannot be read ({type(exc).__name__}: {detail})"


def _rows(sheet: Any, first: int, width: int | None) -> Iterator[tuple[Any, ...]]:
    return sheet.iter_rows(min_row=first, max_col=width, values_only=True)


def read_xlsx_table(
    body: bytes,
    *,
    sheet: str | int | None,
    header_row: int,
    source: str,
    checked: Iterable[str] | None = None,
) -> TextTable:
    """One sheet's table: the header on ``header_row`` (1-based), data rows below it.

    ``checked``: the columns whose formulas must have saved values (all when ``None``).

    Raises:
        FeedError: not an .xlsx, too large when inflated, unreadable or unsafe XML, no such
            sheet (the sheets are listed), an empty header, a column named twice, values
            under no name, a formula without a saved value, or no data rows.
    """
    _refuse_other_bodies(body, source)
    with open_zip(body, source=source, what="workbook") as archive:
        _refuse_other_archives(set(archive.namelist()), source)
    workbook = _open(body, data_only=True, source=source)
    try:
        name, header, cells, lines, sheet_xml = _read_sheet(workbook, sheet, header_row, source)
    except FeedError:
        raise
    except Exception as exc:  # the sheet's XML is parsed as it is read
        raise FeedError(_unreadable(exc), source=source) from None
    finally:
        workbook.close()
    table = _table(header, cells, lines, name, header_row, source)
    if _FORMULA.search(sheet_xml):
        _refuse_unsaved_formulas(body, table, lines, header, name, source, checked)
    return table


def _read_sheet(
    workbook: Any, sheet: str | int | None, header_row: int, source: str
) -> tuple[str, list[str], list[list[str | None]], list[int], bytes]:
    """The sheet's name, header, non-blank data rows (as text) with their row numbers,
    and its XML (to look for formulas)."""
    ws = _sheet(workbook, sheet, source)
    ws.reset_dimensions()  # a sheet's declared size may lie; read the rows it has
    name = str(ws.title)
    header_cells = next(_rows(ws, header_row, None), ())
    header = [(_text(v) or "").strip() for v in header_cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise FeedError(
            f"row {header_row} of sheet {name!r} is empty; expected the header "
            "(set header_row to the row that names the columns)",
            source=source,
        )
    lines: list[int] = []
    cells: list[list[str | None]] = []
    for number, row in enumerate(_rows(ws, header_row + 1, len(header)), header_row + 1):
        texts = [_text(v) for v in row]
        if any(t is not None and t.strip() for t in texts):
            texts += [None] * (len(header) - len(texts))
            cells.append(texts)
            lines.append(number)
    return name, header, cells, lines, workbook._archive.read(ws._worksheet_path)


def _table(
    header: list[str],
    cells: list[list[str | None]],
    lines: list[int],
    name: str,
    header_row: int,
    source: str,
) -> TextTable:
    def where(row: int) -> str:
        return f"row {lines[row]} of sheet {name!r}"

    columns = list(zip(*cells, strict=True)) if cells else [() for _ in header]
    frame = pd.DataFrame(
        {k: pd.Series(list(col), dtype=object) for k, col in enumerate(columns)},
    )
    table = TextTable(frame=frame, source=source, where=where)
    if not cells:
        raise table.error(f"sheet {name!r} has a header (row {header_row}) and no rows below it")
    keep: list[int] = []
    for k, title in enumerate(header):
        letter = get_column_letter(k + 1)
        if not title:
            filled = [r for r, v in enumerate(frame[k]) if v is not None and v.strip()]
            if filled:
                raise table.error(
                    f"column {letter} has no name in the header (row {header_row}) but holds "
                    f"{shown(frame[k][filled[0]])} ({where(filled[0])}); name it or remove it",
                    row=filled[0],
                )
            continue
        if header.index(title) != k:
            first = get_column_letter(header.index(title) + 1)
            raise table.error(
                f"column {title!r} appears twice in the header (columns {first} and {letter})",
                column=title,
            )
        keep.append(k)
    frame = frame[keep].set_axis([header[k] for k in keep], axis=1)
    return TextTable(frame=frame, source=source, where=where)


def _is_formula(value: Any) -> bool:
    """A cell value as openpyxl gives it when formulas are kept (``data_only=False``)."""
    if isinstance(value, str):
        return value.startswith("=")
    return type(value).__name__ in ("ArrayFormula", "DataTableFormula")


def _refuse_unsaved_formulas(
    body: bytes,
    table: TextTable,
    lines: list[int],
    header: list[str],
    name: str,
    source: str,
    checked: Iterable[str] | None,
) -> None:
    """Formulas count by their saved values; a formula saved without one is an error."""
    wanted = set(header) if checked is None else set(checked)
    positions = [k for k, title in enumerate(header) if title in wanted]
    if not positions:
        return
    workbook = _open(body, data_only=False, source=source)
    try:
        _find_unsaved(workbook, table, lines, header, positions, name)
    except FeedError:
        raise
    except Exception as exc:
        raise FeedError(_unreadable(exc), source=source) from None
    finally:
        workbook.close()


def _find_unsaved(
    workbook: Any,
    table: TextTable,
    lines: list[int],
    header: list[str],
    positions: list[int],
    name: str,
) -> None:
    """Raise for the first formula (in ``positions``' columns) read empty with values."""
    ws = workbook[name]
    ws.reset_dimensions()
    at = {line: row for row, line in enumerate(lines)}
    for number, row in enumerate(_rows(ws, lines[0], len(header)), lines[0]):
        if number not in at:
            continue
        for k in positions:
            formula = row[k] if k < len(row) else None
            if not _is_formula(formula) or table.frame[header[k]].iloc[at[number]] is not None:
                continue
            raise table.error(
                f"cell {get_column_letter(k + 1)}{number} of sheet {name!r} holds a formula "
                f"({shown(str(formula))}) with no saved value: the file was written by a "
                "program that does not calculate formulas; open and save it in a spreadsheet "
                "program, or export the values",
                row=at[number],
                column=header[k],
            )
