"""Long and wide result tables → the votes and unit tables of a Snapshot.

Long: one row per unit × party (``party`` and ``votes`` columns), unit figures repeated on
each of a unit's rows. Wide: one row per unit, a column per party (``parties``). Units and
parties keep the order in which the feed first names them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from adapters.table_values import (
    LABEL,
    REPORTING,
    VOTES,
    CellRule,
    TextTable,
    count_rule,
    read_column,
    read_columns,
    read_ids,
    shown,
)
from nightdesk.formats import OPTIONAL_COLUMNS, ColumnMap

_LISTED_COLUMNS = 30


def rule_for(role: str) -> CellRule:
    if role in ("name", "parent"):
        return LABEL
    if role == "reporting":
        return REPORTING
    return count_rule(role)


def _column_list(columns: Sequence[str]) -> str:
    names = ", ".join(map(str, columns[:_LISTED_COLUMNS]))
    extra = len(columns) - _LISTED_COLUMNS
    return f"{names} … and {extra} more" if extra > 0 else names


def mapped_columns(columns: ColumnMap) -> list[tuple[str, str]]:
    """(role, column) for every column the mapping names, wide party columns aside."""
    wanted = list(columns.mapped().items())
    wanted += [("race", name) for name in columns.race]
    wanted += [("parent", name) for name in columns.parent_path]
    wanted += [(f"vote type {kind!r}", name) for kind, name in columns.vote_types]
    return wanted


def check_mapping(table: TextTable, columns: ColumnMap) -> None:
    """The mapping makes sense and every column it names is in the table."""
    unknown = sorted(set(columns.optional) - set(OPTIONAL_COLUMNS))
    if unknown:
        raise table.error(
            f"unknown column roles {', '.join(unknown)}; "
            f"optional roles are: {', '.join(OPTIONAL_COLUMNS)}"
        )
    if columns.is_wide and (columns.party or columns.votes):
        raise table.error(
            "the columns mapping sets both parties (a wide table) and party/votes "
            "(a long table); set one or the other"
        )
    if columns.is_wide and columns.vote_types:
        raise table.error(
            "vote types need a long table (party and votes): a wide table has one column per party"
        )
    if not columns.is_wide and not (columns.party and (columns.votes or columns.vote_types)):
        raise table.error(
            "the columns mapping needs party and votes (a long table, one row per unit and "
            "party) or parties (a wide table, one column per party)"
        )
    present = list(table.frame.columns)
    wanted = mapped_columns(columns)
    if isinstance(columns.parties, tuple):
        wanted += [("party", name) for name in columns.parties]
    for role, name in wanted:
        if name not in table.frame.columns:
            how = (
                "listed in parties" if columns.is_wide and role == "party" else f"mapped as {role}"
            )
            hint = ""
            if len(present) == 1 and any(sep in str(present[0]) for sep in ";\t|"):
                hint = " (only one column: is the delimiter option right?)"
            else:
                hint = _renamed_hint(name, present, {n for _, n in wanted})
            raise table.error(
                f"{role} column {name!r} ({how}) is not in the table; "
                f"columns are: {_column_list(present)}{hint}",
                column=name,
            )


def _renamed_hint(name: str, present: list[str], mapped: set[str]) -> str:
    """A column the missing one may have been renamed to (feeds rename columns mid-night)."""
    spare = [str(c) for c in present if c not in mapped]
    close = difflib.get_close_matches(name, spare, n=1, cutoff=0.5)
    return f"; was it renamed to {close[0]!r}?" if close else ""


def duplicate_rows(keys: np.ndarray) -> tuple[int, int] | None:
    """The first row repeating an earlier row's key, and that earlier row (0-based)."""
    repeats = pd.Series(keys).duplicated().to_numpy()
    if not repeats.any():
        return None
    later = int(repeats.argmax())
    return int((keys == keys[later]).argmax()), later


def party_columns(table: TextTable, columns: ColumnMap) -> list[str]:
    if columns.parties == "*":
        mapped = {name for _, name in mapped_columns(columns)}
        chosen = [c for c in table.frame.columns if c not in mapped]
        if not chosen:
            raise table.error(
                'parties = "*" found no party columns: every column is mapped to something '
                f"else; columns are: {_column_list(list(table.frame.columns))}"
            )
        return chosen
    chosen = list(columns.parties or ())
    if not chosen:
        raise table.error('parties is an empty list; name the party columns or use "*"')
    return chosen


def party_ids(table: TextTable, names: list[str]) -> list[str]:
    ids = [str(name).strip() for name in names]
    for k, party in enumerate(ids):
        if not party:
            raise table.error("a party column has an empty name", column=names[k])
        if ids.index(party) != k:
            raise table.error(
                f"party {party!r} has two columns ({names[ids.index(party)]!r} and {names[k]!r})",
                column=names[k],
            )
    return ids


def wide_tables(table: TextTable, columns: ColumnMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Votes and unit figures from a table with one row per unit and a column per party."""
    units = read_ids(table, columns.unit, "unit")
    twice = duplicate_rows(units.to_numpy(dtype=object))
    if twice is not None:
        first, later = twice
        raise table.error(
            f"unit {units.iloc[later]!r} has two rows: {table.where(first)} and "
            f"{table.where(later)}; a wide table has one row per unit",
            row=later,
        )
    index = pd.Index(units, name="unit")
    names = party_columns(table, columns)
    parties = party_ids(table, names)
    counts = read_columns(table, names, VOTES)
    votes = pd.DataFrame(
        {party: values.array for party, values in zip(parties, counts, strict=True)},
        index=index,
        columns=parties,
    )
    figures = pd.DataFrame(
        {
            role: read_column(table, name, rule_for(role)).array
            for role, name in columns.optional.items()
        },
        index=index,
    )
    return votes, figures


def _long_votes(
    unit_codes: np.ndarray,
    party_codes: np.ndarray,
    counts: pd.Series,
    unit_index: pd.Index,
    parties: pd.Index,
) -> pd.DataFrame:
    """Scatter long rows into a unit × party grid; combinations never seen are <NA>."""
    shape = (len(unit_index), len(parties))
    data = np.zeros(shape, dtype=np.int64)
    missing = np.ones(shape, dtype=bool)
    data[unit_codes, party_codes] = counts.fillna(0).to_numpy(dtype=np.int64)
    missing[unit_codes, party_codes] = counts.isna().to_numpy()
    return pd.DataFrame(
        {
            party: pd.arrays.IntegerArray(data[:, k].copy(), missing[:, k].copy())
            for k, party in enumerate(parties)
        },
        index=unit_index,
        columns=list(parties),
    )


def per_unit(
    table: TextTable,
    column: str,
    role: str,
    values: pd.Series,
    codes: np.ndarray,
    units: pd.Series,
    count: int,
) -> pd.Series:
    """A unit figure repeated on each of a unit's rows, once per unit.

    Rows that leave the figure empty defer to those that give it; two different values for
    one unit are an error naming both rows.
    """
    first = values.groupby(codes).transform("first")
    differs = (values.notna() & (values != first)).to_numpy(dtype=bool, na_value=False)
    if differs.any():
        later = int(differs.argmax())
        given = values.notna().to_numpy() & (codes == codes[later])
        earlier = int(given.argmax())
        raise table.error(
            f"unit {units.iloc[later]!r} has {role} {shown(table.raw(earlier, column))} "
            f"({table.where(earlier)}) and {shown(table.raw(later, column))} "
            f"({table.where(later)}); a unit's figures must agree on all its rows",
            row=later,
            column=column,
        )
    return values.groupby(codes).first().reindex(range(count))


def long_tables(table: TextTable, columns: ColumnMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Votes and unit figures from a table with one row per unit and party."""
    assert columns.party is not None and columns.votes is not None  # check_mapping saw to it
    units = read_ids(table, columns.unit, "unit")
    parties = read_ids(table, columns.party, "party", keep_spellings=True)
    unit_codes, unit_ids = pd.factorize(units)
    party_codes, party_ids = pd.factorize(parties)
    twice = duplicate_rows(unit_codes.astype(np.int64) * len(party_ids) + party_codes)
    if twice is not None:
        first, later = twice
        raise table.error(
            f"unit {units.iloc[later]!r} has two rows for party {parties.iloc[later]!r}: "
            f"{table.where(first)} and {table.where(later)}",
            row=later,
        )
    counts = read_column(table, columns.votes, VOTES)
    index = pd.Index(unit_ids.astype(str), name="unit")
    votes = _long_votes(unit_codes, party_codes, counts, index, party_ids.astype(str))
    figures = pd.DataFrame(index=index)
    for role, name in columns.optional.items():
        values = read_column(table, name, rule_for(role))
        figures[role] = per_unit(table, name, role, values, unit_codes, units, len(index)).array
    return votes, figures
