"""The ``claim`` format: a seat claim given as a small table (party → seats, optionally per
unit), in CSV or JSON.

A claim has no votes, so it does not fit ``[sources.columns]`` (which needs votes); its few
columns are named by the source's own keys instead, with defaults that read the plainest
table as it is::

    party,seats
    CNRP,63

Every cell is checked as the tabular formats check theirs (an empty party, a seat count that
is not a whole number, a party claimed twice are errors naming the row), and nothing is
coerced. The result is a :class:`nightdesk.seat_claim.ClaimSnapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from adapters.csv_table import read_csv_table
from adapters.feed_text import decode_text, refuse_markup
from adapters.feed_time import published_at
from adapters.json_table import read_json_table
from adapters.table_values import (
    SEATS,
    CellRule,
    TextTable,
    _whole_numbers,
    _whole_problem,
    read_column,
    read_ids,
)
from nightdesk.errors import FeedError
from nightdesk.formats import OptionSpec, ParseContext
from nightdesk.seat_claim import ClaimSnapshot, claim_snapshot

__all__ = ["CLAIM_FORMAT", "ClaimFormat"]

#: No parliament has this many seats; a national claim above it is a typo.
MAX_NATIONAL_SEATS = 10_000
NATIONAL_SEATS = CellRule(
    "a number",
    f"a whole number of seats from 0 to {MAX_NATIONAL_SEATS:,}",
    _whole_numbers(MAX_NATIONAL_SEATS),
    _whole_problem(f"is more seats than any parliament has (at most {MAX_NATIONAL_SEATS:,})"),
)
TABLES = ("csv", "json")


def _check_table(value: str) -> str | None:
    return None if value in TABLES else f"{value!r} is not one of {', '.join(TABLES)}"


def _check_column(value: str) -> str | None:
    return None if value.strip() else "an empty column name"


def _check_delimiter(value: str) -> str | None:
    if len(value) != 1 or value in '\r\n"':
        return f"{value!r} is not one character (other than a quote or newline)"
    return None


_COLUMN = "a column name as a string"
_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "table": OptionSpec(
            (str,), 'how the claim is written: "csv" (default) or "json"', _check_table
        ),
        "party_column": OptionSpec((str,), f'{_COLUMN} (default "party")', _check_column),
        "seats_column": OptionSpec((str,), f'{_COLUMN} (default "seats")', _check_column),
        "unit_column": OptionSpec((str,), f"{_COLUMN}: set it for a claim per unit", _check_column),
        "delimiter": OptionSpec((str,), "a one-character string", _check_delimiter),
        "records": OptionSpec((str,), "a dotted path to the array of rows, such as 'data.rows'"),
    }
)


def _option(ctx: ParseContext, key: str, default: str | None) -> Any:
    value = ctx.options.get(key, default)
    if value is not None and not isinstance(value, str):
        raise FeedError(f"option {key} must be a string, not {value!r}", source=ctx.source)
    return value


def _read_table(body: bytes, ctx: ParseContext) -> TextTable:
    kind = _option(ctx, "table", "csv")
    if kind not in TABLES:
        raise FeedError(f"option table must be one of {', '.join(TABLES)}", source=ctx.source)
    if kind == "json":
        text = decode_text(body, encoding="utf-8", source=ctx.source, hint="JSON must be UTF-8")
        refuse_markup(text, expected="JSON", source=ctx.source)
        return read_json_table(text, records=_option(ctx, "records", None), source=ctx.source)
    text = decode_text(body, encoding="utf-8", source=ctx.source)
    refuse_markup(text, expected="CSV", source=ctx.source, data_may_start_with_tag=True)
    delimiter = _option(ctx, "delimiter", ",")
    return read_csv_table(text, delimiter=delimiter, source=ctx.source)


def _refuse_twice(table: TextTable, keys: list[tuple[str, ...]], what: str) -> None:
    seen: dict[tuple[str, ...], int] = {}
    for row, key in enumerate(keys):
        if key in seen:
            raise table.error(
                f"{what} {' in '.join(reversed(key))!r} is claimed twice "
                f"({table.where(seen[key])} and {table.where(row)})",
                row=row,
            )
        seen[key] = row


class ClaimFormat:
    """Seat claims: a CSV or JSON table of party and seats, and a unit column if per unit."""

    name: str = "claim"
    needs_columns: bool = False
    options: Mapping[str, OptionSpec] = _OPTIONS

    def __repr__(self) -> str:
        return "CLAIM_FORMAT"

    def parse(self, body: bytes, ctx: ParseContext) -> ClaimSnapshot:
        """Bytes → a ClaimSnapshot; raises FeedError naming the row and cell at fault."""
        if ctx.columns is not None:
            raise FeedError(
                "a claim names its columns with party_column, seats_column and unit_column, "
                "not [sources.columns]",
                source=ctx.source,
            )
        table = _read_table(body, ctx)
        party_col = _option(ctx, "party_column", "party")
        seats_col = _option(ctx, "seats_column", "seats")
        unit_col = _option(ctx, "unit_column", None)
        wanted = [("party", party_col), ("seats", seats_col)]
        if unit_col is not None:
            wanted.append(("unit", unit_col))
        for role, column in wanted:
            if column not in table.frame.columns:
                have = ", ".join(map(str, table.frame.columns))
                raise table.error(
                    f"no column {column!r} (the {role}); the claim's columns are: {have}",
                    column=column,
                )
        parties = read_ids(table, party_col, "party").astype(str).tolist()
        rule = SEATS if unit_col is not None else NATIONAL_SEATS
        seats = read_column(table, seats_col, rule)
        missing = seats.isna().to_numpy()
        if missing.any():
            row = int(missing.argmax())
            raise table.cell_error(row, seats_col, "no seats given", "the number of seats claimed")
        units = None
        if unit_col is not None:
            units = read_ids(table, unit_col, "unit").astype(str).tolist()
            _refuse_twice(table, list(zip(parties, units, strict=True)), "party")
        else:
            _refuse_twice(table, [(p,) for p in parties], "party")
        return claim_snapshot(
            source=ctx.source,
            parties=parties,
            seats=seats.to_numpy(dtype=np.int64),
            units=units,
            fetched_at=ctx.fetched_at,
            published_at=published_at(ctx.headers),
        )


CLAIM_FORMAT = ClaimFormat()
