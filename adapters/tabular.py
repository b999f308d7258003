"""The ``csv`` and ``json`` feed formats: result tables mapped by ``[sources.columns]``.

Both read the body into a table of untouched cells, then one shared path checks the mapping,
reads the long or wide shape and builds the Snapshot. The entry points in ``pyproject.toml``
name :data:`CSV_FORMAT` and :data:`JSON_FORMAT`.
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
from adapters.spans import Decline
from adapters.table_shapes import check_mapping, long_tables, wide_tables
from adapters.table_values import TextTable
from nightdesk.errors import FeedError
from nightdesk.formats import ColumnMap, OptionSpec, ParseContext
from nightdesk.model import Snapshot

log = logging.getLogger(__name__)

__all__ = ["CSV_FORMAT", "JSON_FORMAT", "CsvFormat", "JsonFormat", "snapshot_from_table"]


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


_CSV_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "delimiter": OptionSpec((str,), "a one-character string", _check_delimiter),
        "encoding": OptionSpec(
            (str,), "a text encoding name such as 'utf-8' or 'cp1252'", _check_encoding
        ),
    }
)
_JSON_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {"records": OptionSpec((str,), "a dotted path to the array of rows, such as 'data.rows'")}
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


def snapshot_from_table(table: TextTable, columns: ColumnMap, ctx: ParseContext) -> Snapshot:
    """A checked Snapshot from a table of raw cells, long or wide as the mapping says."""
    check_mapping(table, columns)
    shape = wide_tables if columns.is_wide else long_tables
    votes, units = shape(table, columns)
    return _snapshot(votes, units, ctx)


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


def _snapshot(votes: pd.DataFrame, units: pd.DataFrame, ctx: ParseContext) -> Snapshot:
    return Snapshot.build(
        source=ctx.source,
        votes=votes,
        units=units,
        fetched_at=ctx.fetched_at,
        published_at=published_at(ctx.headers),
    )


class CsvFormat:
    """Comma- (or ``delimiter``-) separated result tables, UTF-8 unless ``encoding`` says."""

    name: str = "csv"
    needs_columns: bool = True
    options: Mapping[str, OptionSpec] = _CSV_OPTIONS

    def __repr__(self) -> str:
        return "CSV_FORMAT"

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot:
        """Bytes → Snapshot; raises FeedError naming the row, column and value at fault."""
        columns = _columns(ctx, self.name)
        delimiter = _option(ctx, "delimiter", ",")
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise FeedError(
                f"option delimiter must be one character (not a quote or newline), "
                f"not {delimiter!r}",
                source=ctx.source,
            )
        encoding = _option(ctx, "encoding", "utf-8")
        text = decode_text(body, encoding=encoding, source=ctx.source)
        refuse_markup(text, expected="CSV", source=ctx.source, data_may_start_with_tag=True)
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

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot:
        """Bytes → Snapshot; raises FeedError naming the row, key and value at fault."""
        columns = _columns(ctx, self.name)
        records = _option(ctx, "records", None)
        text = decode_text(
            body, encoding="utf-8", source=ctx.source, hint="a JSON feed must be UTF-8"
        )
        refuse_markup(text, expected="JSON", source=ctx.source)
        for read in (
            lambda: read_template_json(body, records=records),
            lambda: read_fast_json(body, records=records, columns=columns),
        ):
            quick = fast_snapshot(read, columns, ctx)
            if quick is not None:
                return quick
        table = read_json_table(text, records=records, source=ctx.source)
        return snapshot_from_table(table, columns, ctx)


CSV_FORMAT = CsvFormat()
JSON_FORMAT = JsonFormat()
