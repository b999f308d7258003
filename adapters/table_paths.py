"""Unit ids from a table: one column, or a path of columns (state → county → precinct).

``parent = ["state", "county"]`` (outermost first) with ``unit = "precinct"``: a unit's id
is its path, "GA/Fulton/Precinct 1" — unique where precinct names repeat across counties,
and the same every poll. Its name is its own value ("Precinct 1") and its parent the path
above ("GA/Fulton"). The levels above are returned too, so that the adapter can give them
as rows of their own (the engine's rollup fills their votes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapters.table_races import combine_codes
from adapters.table_values import TextTable, read_ids
from nightdesk.formats import ColumnMap

#: Joins the values of a unit's path into its id.
PATH_JOIN = "/"


@dataclass(frozen=True)
class Level:
    """Units of one level: each row's unit at this level (a code into the lists)."""

    codes: np.ndarray
    ids: list[str]
    names: list[str]
    parents: list[str | None]


@dataclass(frozen=True)
class UnitIds:
    """Each row's unit (``leaf``) and, for a path, the levels above it, outermost first."""

    leaf: Level
    above: list[Level]

    @property
    def is_path(self) -> bool:
        return bool(self.above)


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code (codes numbered in order of first appearance)."""
    return np.flatnonzero(codes > np.maximum.accumulate(np.r_[-1, codes[:-1]]))


def unit_ids(table: TextTable, columns: ColumnMap) -> UnitIds:
    """Each row's unit id, qualified by the parent path when there is one.

    Raises:
        FeedError: an empty unit (or path) value, or two paths that read as one id.
    """
    unit = read_ids(table, columns.unit, "unit")
    if not columns.parent_path:
        codes, uniques = pd.factorize(unit)
        ids = [str(u) for u in uniques]
        return UnitIds(Level(codes.astype(np.int64), ids, ids, [None] * len(ids)), [])
    parts = [read_ids(table, name, name) for name in columns.parent_path]
    levels: list[Level] = []
    prefix: np.ndarray | None = None
    for values in [*parts, unit]:
        own_codes = pd.factorize(values)[0]
        prefix = own_codes if prefix is None else combine_codes(prefix, own_codes)
        prefix = prefix.astype(np.int64)
        firsts = first_rows(prefix)
        names = [str(v) for v in values.to_numpy(dtype=object)[firsts]]
        if not levels:
            levels.append(Level(prefix, names, names, [None] * len(names)))
            continue
        up = levels[-1]
        parents = [up.ids[k] for k in up.codes[firsts].tolist()]
        ids = [f"{p}{PATH_JOIN}{n}" for p, n in zip(parents, names, strict=True)]
        levels.append(Level(prefix, ids, names, list(parents)))
    _refuse_clashes(table, levels)
    return UnitIds(levels[-1], levels[:-1])


def _refuse_clashes(table: TextTable, levels: list[Level]) -> None:
    """Two different paths that read as one id ("A/B" + "C" and "A" + "B/C")."""
    seen: dict[str, tuple[int, int]] = {}
    for depth, level in enumerate(levels):
        for k, unit in enumerate(level.ids):
            if unit in seen:
                first = first_rows(levels[seen[unit][0]].codes)[seen[unit][1]]
                later = first_rows(level.codes)[k]
                raise table.error(
                    f"unit id {unit!r} is made by two different paths ({table.where(int(first))} "
                    f"and {table.where(int(later))}): a name holds {PATH_JOIN!r}",
                    row=int(later),
                )
            seen[unit] = (depth, k)
