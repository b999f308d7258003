"""The ``csv``, ``json`` and ``xlsx`` feed formats: result tables mapped by ``[sources.columns]``.

Each reads the body into a table of untouched cells, then one shared path checks the
mapping, reads the long or wide shape and builds the Snapshot. A CSV body that is a zip is
every CSV file in it as one table. A mapping with races (``race = ...``), a parent path
(``parent = [...]``) or vote types (``votes = [...]``, ``vote_types``) is read by
:mod:`adapters.race_tables` and gives a Snapshot per race. The entry points in
``pyproject.toml`` name :data:`CSV_FORMAT`, :data:`JSON_FORMAT` and :data:`XLSX_FORMAT`.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from adapters import fast_shapes
from adapters.csv_table import read_csv_table
from adapters.fast_csv import read_plain_csv
from adapters.fast_json import read_fast_json
from adapters.fast_table import FastTable, frame_table
from adapters.feed_text import decode_text, refuse_markup
from adapters.feed_time import published_at
from adapters.json_table import read_json_table
from adapters.json_template import read_template_json
from adapters.race_tables import is_layered, race_tables
from adapters.spans import Decline
from adapters.table_shapes import check_mapping, long_tables, mapped_columns, wide_tables
from adapters.table_values import TextTable
from adapters.table_zip import is_zip, read_csv_zip
from adapters.xlsx_table import read_xlsx_table
from nightdesk.errors import FeedError
from nightdesk.formats import ColumnMap, OptionSpec, ParseContext
from nightdesk.model import Race, Snapshot

log = logging.getLogger(__name__)

__all__ = [
    "CSV_FORMAT",
    "JSON_FORMAT",
    "XLSX_FORMAT",
    "CsvFormat",
    "JsonFormat",
    "XlsxFormat",
    "snapshot_from_table",
    "snapshots_from_table",
]


def _check_delimiter(value: str) -> str | None:
    if len(value) != 1 or value in '\r\n"':
        return f"{value!r} is not one character (other than a quote or newline)"
    return None


def _check_encoding(value: str) -> str | None:
    try:
        codecs.lookup(value)
    except LookupError:
        return f"Python knows no encoding called {value!r}"
    return None


def _check_races(value: list[Any]) -> str | None:
    if not value or not all(isinstance(x, str) and x.strip() for x in value):
        return "a non-empty list of race names (strings)"
    if len(set(value)) != len(value):
        return "a race is listed twice"
    return None


def _check_sheet(value: str | int) -> str | None:
    if isinstance(value, int) and value < 1:
        return f"sheets are counted from 1, not {value}"
    if isinstance(value, str) and not value.strip():
        return "an empty sheet name"
    return None


def _check_header_row(value: int) -> str | None:
    return None if value >= 1 else f"rows are counted from 1, not {value}"


#: ``races = [...]``: the races to read of a table holding several (``race`` in the columns).
_RACES = OptionSpec(
    (list,),
    'a list of race names as the table gives them, such as ["U.S. Senate"]',
    _check_races,
)
_CSV_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "delimiter": OptionSpec((str,), "a one-character string", _check_delimiter),
        "encoding": OptionSpec(
            (str,), "a text encoding name such as 'utf-8' or 'cp1252'", _check_encoding
        ),
        "races": _RACES,
        "members": OptionSpec(
            (str,), "a pattern for the CSV files to read from a zip, such as '*general*'"
        ),
    }
)
_JSON_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "records": OptionSpec((str,), "a dotted path to the array of rows, such as 'data.rows'"),
        "races": _RACES,
    }
)
_XLSX_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "sheet": OptionSpec(
            (str, int), "a sheet's name, or its number counting from 1", _check_sheet
        ),
        "header_row": OptionSpec(
            (int,), "the number of the row naming the columns (from 1)", _check_header_row
        ),
        "races": _RACES,
    }
)


def _option(ctx: ParseContext, key: str, default: str | None) -> Any:
    value = ctx.options.get(key, default)
    if value is not None and not isinstance(value, str):
        raise FeedError(f"option {key} must be a string, not {value!r}", source=ctx.source)
    return value


def _columns(ctx: ParseContext, fmt: str) -> ColumnMap:
    if ctx.columns is None:
        raise FeedError(
            f"the {fmt} format needs a [sources.columns] table saying which column is which",
            source=ctx.source,
        )
    return ctx.columns


def _races(ctx: ParseContext, columns: ColumnMap) -> list[str] | None:
    races = ctx.options.get("races")
    if races is None:
        return None
    problem = _check_races(races) if isinstance(races, list) else "not a list"
    if problem:
        raise FeedError(f"option races must be {problem}: {races!r}", source=ctx.source)
    if not columns.race:
        raise FeedError(
            "option races is set but [sources.columns] names no race column "
            '(race = "office", or a list of columns)',
            source=ctx.source,
        )
    return list(races)


def snapshot_from_table(table: TextTable, columns: ColumnMap, ctx: ParseContext) -> Snapshot:
    """A checked Snapshot from a table of raw cells, long or wide as the mapping says."""
    check_mapping(table, columns)
    shape = wide_tables if columns.is_wide else long_tables
    votes, units = shape(table, columns)
    return _snapshot(votes, units, ctx)


def snapshots_from_table(
    table: TextTable, columns: ColumnMap, ctx: ParseContext
) -> Snapshot | list[Snapshot]:
    """The Snapshot of a table of raw cells — one per race for a mapping with races."""
    races = _races(ctx, columns)
    if is_layered(columns):
        return [
            _snapshot(t.votes, t.units, ctx, race=t.race, vote_types=t.vote_types)
            for t in race_tables(table, columns, races)
        ]
    quick = fast_snapshot(lambda: frame_table(table.frame), columns, ctx)
    return quick if quick is not None else snapshot_from_table(table, columns, ctx)


def fast_tables(
    read: Callable[[], FastTable], columns: ColumnMap
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Votes and unit figures read the fast way; raises :class:`Decline` where it cannot."""
    table = read()
    shape = fast_shapes.wide_tables if columns.is_wide else fast_shapes.long_tables
    return shape(table, columns)


def fast_snapshot(
    read: Callable[[], FastTable], columns: ColumnMap, ctx: ParseContext
) -> Snapshot | None:
    """The Snapshot read the fast way, or ``None`` where that path declines the body.

    A fast reader that fails unexpectedly (a bug) costs time, not the poll: the careful
    path reads the body instead, and the failure is logged.
    """
    try:
        votes, units = fast_tables(read, columns)
    except Decline:
        return None
    except Exception:
        log.warning("the fast reader failed on source %s", ctx.source, exc_info=True)
        return None
    return _snapshot(votes, units, ctx)


def _snapshot(
    votes: pd.DataFrame,
    units: pd.DataFrame,
    ctx: ParseContext,
    *,
    race: Race | None = None,
    vote_types: Mapping[str, pd.DataFrame] | None = None,
) -> Snapshot:
    return Snapshot.build(
        source=ctx.source,
        votes=votes,
        units=units,
        fetched_at=ctx.fetched_at,
        published_at=published_at(ctx.headers),
        race=race,
        vote_types=vote_types,
    )


class CsvFormat:
    """Comma- (or ``delimiter``-) separated result tables, UTF-8 unless ``encoding`` says;
    a zip of them (county by county, say) is read as one table (``members`` picks files)."""

    name: str = "csv"
    needs_columns: bool = True
    options: Mapping[str, OptionSpec] = _CSV_OPTIONS

    def __repr__(self) -> str:
        return "CSV_FORMAT"

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot | list[Snapshot]:
        """Bytes → Snapshot (one per race); raises FeedError naming the row, column and
        value at fault."""
        columns = _columns(ctx, self.name)
        delimiter = _option(ctx, "delimiter", ",")
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise FeedError(
                f"option delimiter must be one character (not a quote or newline), "
                f"not {delimiter!r}",
                source=ctx.source,
            )
        encoding = _option(ctx, "encoding", "utf-8")
        if is_zip(body):
            table = read_csv_zip(
                body,
                delimiter=delimiter,
                encoding=encoding,
                members=_option(ctx, "members", None),
                source=ctx.source,
                needed=_needed(columns),
            )
            return snapshots_from_table(table, columns, ctx)
        text = decode_text(body, encoding=encoding, source=ctx.source)
        refuse_markup(text, expected="CSV", source=ctx.source, data_may_start_with_tag=True)
        if is_layered(columns):
            table = read_csv_table(text, delimiter=delimiter, source=ctx.source)
            return snapshots_from_table(table, columns, ctx)
        _races(ctx, columns)
        plain = fast_snapshot(
            lambda: read_plain_csv(body, text, delimiter=delimiter, encoding=encoding),
            columns,
            ctx,
        )
        if plain is not None:
            return plain
        table = read_csv_table(text, delimiter=delimiter, source=ctx.source)
        quick = fast_snapshot(lambda: frame_table(table.frame), columns, ctx)
        return quick if quick is not None else snapshot_from_table(table, columns, ctx)


class JsonFormat:
    """JSON result tables: an array of row objects, or an object holding one at ``records``."""

    name: str = "json"
    needs_columns: bool = True
    options: Mapping[str, OptionSpec] = _JSON_OPTIONS

    def __repr__(self) -> str:
        return "JSON_FORMAT"

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot | list[Snapshot]:
        """Bytes → Snapshot (one per race); raises FeedError naming the row, key and value
        at fault."""
        columns = _columns(ctx, self.name)
        records = _option(ctx, "records", None)
        text = decode_text(
            body, encoding="utf-8", source=ctx.source, hint="a JSON feed must be UTF-8"
        )
        refuse_markup(text, expected="JSON", source=ctx.source)
        if is_layered(columns):
            table = read_json_table(text, records=records, source=ctx.source)
            return snapshots_from_table(table, columns, ctx)
        _races(ctx, columns)
        for read in (
            lambda: read_template_json(body, records=records),
            lambda: read_fast_json(body, records=records, columns=columns),
        ):
            quick = fast_snapshot(read, columns, ctx)
            if quick is not None:
                return quick
        table = read_json_table(text, records=records, source=ctx.source)
        return snapshot_from_table(table, columns, ctx)


def _needed(columns: ColumnMap) -> list[tuple[str, str]]:
    """(role, column) for every column the mapping names (wide party columns too)."""
    needed = mapped_columns(columns)
    if isinstance(columns.parties, tuple):
        needed += [("a party", name) for name in columns.parties]
    return needed


class XlsxFormat:
    """Excel workbooks (.xlsx): one sheet (``sheet``, the first by default), its header on
    ``header_row`` (1 by default), mapped like a CSV."""

    name: str = "xlsx"
    needs_columns: bool = True
    options: Mapping[str, OptionSpec] = _XLSX_OPTIONS

    def __repr__(self) -> str:
        return "XLSX_FORMAT"

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot | list[Snapshot]:
        """Bytes → Snapshot (one per race); raises FeedError naming the sheet, row, column
        and value at fault."""
        columns = _columns(ctx, self.name)
        sheet = ctx.options.get("sheet")
        if sheet is not None and (
            isinstance(sheet, bool) or not isinstance(sheet, str | int) or _check_sheet(sheet)
        ):
            raise FeedError(
                f"option sheet must be a sheet's name or its number from 1, not {sheet!r}",
                source=ctx.source,
            )
        header_row = ctx.options.get("header_row", 1)
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise FeedError(
                f"option header_row must be a row number from 1, not {header_row!r}",
                source=ctx.source,
            )
        checked = None if columns.parties == "*" else [name for _, name in _needed(columns)]
        table = read_xlsx_table(
            body, sheet=sheet, header_row=header_row, source=ctx.source, checked=checked
        )
        return snapshots_from_table(table, columns, ctx)


CSV_FORMAT = CsvFormat()
JSON_FORMAT = JsonFormat()
XLSX_FORMAT = XlsxFormat()
