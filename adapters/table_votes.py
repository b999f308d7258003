"""Each row's votes, and their split by how they were cast (election day, absentee…).

``votes = [...]`` (vote-type columns): the votes are the types' sum — of the types the row
gives; a type left empty is not reported, never read as 0, and stays ``<NA>`` in the split.
``votes = "votes"`` with ``vote_types = [...]``: the feed's total is the votes, and a row
whose types do not add up to it is an error (the feed contradicts itself).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapters.fast_table import frame_table
from adapters.spans import Decline
from adapters.table_values import VOTES, TextTable, read_columns, shown
from nightdesk.formats import ColumnMap
from nightdesk.model import MAX_COUNT


def _counts(table: TextTable, names: list[str]) -> list[pd.Series]:
    """Vote columns read whole: plain digits the fast way (numpy over the cells' bytes),
    anything else by the careful reader, which names the bad cell."""
    try:
        fast = frame_table(table.frame)
        return [
            pd.Series(pd.arrays.IntegerArray(*fast.column(name).whole(MAX_COUNT))) for name in names
        ]
    except Decline:
        return read_columns(table, names, VOTES)


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    given = values.notna().to_numpy(dtype=bool)
    return values.to_numpy(dtype=np.int64, na_value=0), given


def row_votes(table: TextTable, columns: ColumnMap) -> tuple[pd.Series, dict[str, pd.Series]]:
    """Each row's votes (``Int64``) and, by vote-type name, each type's.

    Raises:
        FeedError: a bad vote cell, or a total its vote types contradict.
    """
    if not columns.vote_types:
        assert columns.votes is not None
        return _counts(table, [columns.votes])[0], {}
    names = [column for _, column in columns.vote_types]
    typed = _counts(table, names)
    split = {name: values for (name, _), values in zip(columns.vote_types, typed, strict=True)}
    arrays = [_numbers(values) for values in typed]
    total = np.sum([values for values, _ in arrays], axis=0, dtype=np.int64)
    any_given = np.logical_or.reduce([given for _, given in arrays])
    if columns.votes is None:
        return pd.Series(pd.arrays.IntegerArray(total, ~any_given)), split
    (stated,) = _counts(table, [columns.votes])
    values, given = _numbers(stated)
    all_given = np.logical_and.reduce([g for _, g in arrays])
    bad = given & any_given & ((all_given & (total != values)) | (total > values))
    if bad.any():
        row = int(bad.argmax())
        parts = " + ".join(
            f"{name} {int(v[row]):,}" if g[row] else f"{name} (empty)"
            for (name, _), (v, g) in zip(columns.vote_types, arrays, strict=True)
        )
        raise table.cell_error(
            row,
            columns.votes,
            f"votes {shown(table.raw(row, columns.votes))} is not the sum of its vote types "
            f"({parts} = {int(total[row]):,})",
            "the vote types to add up to the total",
        )
    return stated, split
