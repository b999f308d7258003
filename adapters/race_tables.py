"""Tables with several races, units under a parent path, or votes split by type.

One pass reads and checks every cell of the chosen races' rows (whole columns, as
:mod:`adapters.table_shapes` does); the rows are then split race by race into the tables
of one Snapshot each: votes, units (with a row for each level above the units, which the
engine's rollup fills), and the votes by type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from adapters.table_paths import Level, UnitIds, unit_ids
from adapters.table_races import RaceSplit, combine_codes, split_races
from adapters.table_shapes import (
    check_mapping,
    duplicate_rows,
    party_columns,
    party_ids,
    per_unit,
    rule_for,
)
from adapters.table_values import VOTES, TextTable, read_column, read_columns, read_ids
from adapters.table_votes import row_votes
from nightdesk.formats import ColumnMap
from nightdesk.model import Race, strings, typed_frame


@dataclass(frozen=True)
class RaceTables:
    """The tables of one race's Snapshot."""

    race: Race | None
    votes: pd.DataFrame
    units: pd.DataFrame
    vote_types: dict[str, pd.DataFrame] | None


def is_layered(columns: ColumnMap) -> bool:
    """Whether the mapping needs this module: races, a parent path, or vote types."""
    return bool(columns.race or columns.parent_path or columns.vote_types)


def race_tables(
    table: TextTable, columns: ColumnMap, races: Sequence[str] | None = None
) -> list[RaceTables]:
    """The tables of each race (``races``: the ones to read, all when ``None``).

    Raises:
        FeedError: a bad mapping or cell (naming the row and column), a unit given twice in
            a race, or a race ``races`` names that the table does not have.
    """
    check_mapping(table, columns)
    split = split_races(table, columns.race, races)
    sub = _naming_races(table.subset(split.rows), split)
    units = unit_ids(sub, columns)
    unit_race = combine_codes(split.codes, units.leaf.codes)
    reader = _Wide if columns.is_wide else _Long
    return reader(sub, columns, split, units, unit_race).tables()


def _naming_races(table: TextTable, split: RaceSplit) -> TextTable:
    """The table whose places in errors say the race too ("line 7 in race 'Senate'")."""
    if split.races == [None]:
        return table
    where, races, codes = table.where, split.races, split.codes

    def in_race(row: int) -> str:
        race = races[int(codes[row])]
        return f"{where(row)} in race {race.id!r}" if race is not None else where(row)

    return replace(table, where=in_race)


class _Shape:
    """What both shapes share: rows grouped by race, units per race, unit figures."""

    def __init__(
        self,
        table: TextTable,
        columns: ColumnMap,
        split: RaceSplit,
        units: UnitIds,
        unit_race: np.ndarray,
    ) -> None:
        self.table, self.columns, self.split, self.units = table, columns, split, units
        self.unit_race = unit_race  # per row: its (race, unit)
        self.count = int(unit_race.max(initial=-1)) + 1
        self.leaf_of = np.zeros(self.count, dtype=np.int64)
        self.leaf_of[unit_race] = units.leaf.codes
        order = np.argsort(split.codes, kind="stable")
        bounds = np.searchsorted(split.codes[order], np.arange(len(split.races) + 1))
        self.race_rows = [order[bounds[k] : bounds[k + 1]] for k in range(len(split.races))]
        self.leaf = _Labels(units.leaf)
        self.above = [(_Labels(level), level.codes) for level in units.above]

    def figures(self, by_row: bool) -> dict[str, pd.api.extensions.ExtensionArray]:
        """Each unit figure the mapping names, by (race, unit) code (``by_row``: one row
        per unit, so read as is)."""
        out: dict[str, pd.api.extensions.ExtensionArray] = {}
        if not self.columns.optional:
            return out
        row_units = pd.Series(self.leaf.ids[self.units.leaf.codes], dtype=object)
        for role, name in self.columns.optional.items():
            values = read_column(self.table, name, rule_for(role))
            if by_row:  # each row its own (race, unit): codes are the row positions
                out[role] = values.array
            else:
                out[role] = per_unit(
                    self.table, name, role, values, self.unit_race, row_units, self.count
                ).array
        return out

    def unit_table(
        self,
        unit_codes: np.ndarray,
        rows: np.ndarray,
        figures: dict[str, pd.api.extensions.ExtensionArray],
    ) -> tuple[pd.DataFrame, int]:
        """A race's units table: for a path, a row for each level above the leaves
        (outermost first), then the leaves (``unit_codes``, their (race, unit) codes).
        Returns the table and how many rows come before the leaves."""
        leaves = self.leaf_of[unit_codes]
        above = [(level, pd.unique(codes[rows])) for level, codes in self.above]
        skeleton = sum(len(used) for _, used in above)
        take = np.concatenate([np.full(skeleton, -1, dtype=np.int64), unit_codes])
        table = {role: values.take(take, allow_fill=True) for role, values in figures.items()}
        ids = np.concatenate([*(level.ids[used] for level, used in above), self.leaf.ids[leaves]])
        index = _text_index(ids)
        if self.units.is_path:
            names = np.concatenate(
                [*(level.names[used] for level, used in above), self.leaf.names[leaves]]
            )
            if "name" in table:  # the feed's names where it gives them
                given = table["name"].to_numpy(dtype=object, na_value=None)
                names = np.where(pd.isna(given), names, given)
            table["name"] = strings(names)
            table["parent"] = strings(
                np.concatenate(
                    [*(level.parents[used] for level, used in above), self.leaf.parents[leaves]]
                )
            )
        return typed_frame(list(table.values()), _text_index(list(table)), index), skeleton

    def tables(self) -> list[RaceTables]:
        raise NotImplementedError


class _Labels:
    """A level's ids, names and parents as arrays, to take a race's units from at once."""

    def __init__(self, level: Level) -> None:
        self.ids = np.array(level.ids, dtype=object)
        self.names = np.array(level.names, dtype=object)
        self.parents = np.array(level.parents, dtype=object)


_TEXT = pd.Index(["x"]).dtype


def _text_index(labels: np.ndarray | list[str]) -> pd.Index:
    """An index of ids (str dtype, as inferred, without the inference)."""
    return pd.Index(labels, dtype=_TEXT)


@dataclass(frozen=True)
class _Place:
    """Where one race's long rows go in its votes tables: the rows, each row's unit and
    party position, the number of units (``skeleton`` rows of levels above the leaves
    first) and the party ids."""

    rows: np.ndarray
    units: np.ndarray
    parties: np.ndarray
    count: int
    labels: pd.Index
    index: pd.Index

    def votes(self, values: np.ndarray, given: np.ndarray) -> pd.DataFrame:
        """A votes table of these rows' counts (``values``, ``given``: one per table row)."""
        shape = (len(self.labels), self.count)
        data = np.zeros(shape, dtype=np.int64)
        missing = np.ones(shape, dtype=bool)
        data[self.parties, self.units] = values[self.rows]
        missing[self.parties, self.units] = ~given[self.rows]
        grid = [pd.arrays.IntegerArray(data[k], missing[k]) for k in range(shape[0])]
        return typed_frame(grid, self.labels, self.index)


def _arrays(counts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return counts.to_numpy(dtype=np.int64, na_value=0), counts.notna().to_numpy(dtype=bool)


class _Long(_Shape):
    """One row per unit × party (× race)."""

    def tables(self) -> list[RaceTables]:
        table, columns = self.table, self.columns
        assert columns.party is not None
        parties = read_ids(
            table, columns.party, "party", keep_spellings=True, groups=self.split.codes
        )
        party_codes, party_names = pd.factorize(parties)
        twice = duplicate_rows(combine_codes(self.unit_race, party_codes))
        if twice is not None:
            first, later = twice
            unit = self.leaf.ids[int(self.units.leaf.codes[later])]
            raise table.error(
                f"unit {unit!r} has two rows for party {parties.iloc[later]!r}: "
                f"{table.where(first)} and {table.where(later)}",
                row=later,
            )
        counts, split = row_votes(table, columns)
        totals = _arrays(counts)
        by_type = {name: _arrays(values) for name, values in split.items()}
        figures = self.figures(by_row=False)
        names = np.array([str(p) for p in party_names], dtype=object)
        out = []
        for k, rows in enumerate(self.race_rows):
            unit_local, unit_codes = pd.factorize(self.unit_race[rows])
            party_local, used = pd.factorize(party_codes[rows])
            units, skeleton = self.unit_table(np.asarray(unit_codes), rows, figures)
            place = _Place(
                rows,
                unit_local + skeleton,
                party_local,
                len(units),
                _text_index(names[used]),
                units.index,
            )
            types = {name: place.votes(*arrays) for name, arrays in by_type.items()} or None
            out.append(RaceTables(self.split.races[k], place.votes(*totals), units, types))
        return out


class _Wide(_Shape):
    """One row per unit (× race), a column per party."""

    def tables(self) -> list[RaceTables]:
        table, columns = self.table, self.columns
        twice = duplicate_rows(self.unit_race)
        if twice is not None:
            first, later = twice
            unit = self.leaf.ids[int(self.units.leaf.codes[later])]
            raise table.error(
                f"unit {unit!r} has two rows: {table.where(first)} and {table.where(later)}; "
                "a wide table has one row per unit",
                row=later,
            )
        names = party_columns(table, columns)
        parties = party_ids(table, names)
        counts = read_columns(table, names, VOTES)
        figures = self.figures(by_row=True)
        out = []
        for k, rows in enumerate(self.race_rows):
            units, skeleton = self.unit_table(self.unit_race[rows], rows, figures)
            take = np.concatenate([np.full(skeleton, -1, dtype=np.int64), rows])
            arrays = [values.array.take(take, allow_fill=True) for values in counts]
            keep = list(range(len(parties)))
            if columns.race:  # a party no row of this race gives is not in it
                keep = [j for j, values in enumerate(counts) if values.iloc[rows].notna().any()]
            votes = typed_frame(
                [arrays[j] for j in keep], _text_index([parties[j] for j in keep]), units.index
            )
            out.append(RaceTables(self.split.races[k], votes, units, None))
        return out
