"""Long and wide tables → votes and unit figures, from a :class:`FastTable`, whole columns.

The same tables :mod:`adapters.table_shapes` builds, built from codes and arrays: ids are
read once as labels, the unit × party grid is one scatter, and a unit figure repeated on
each of a unit's rows is checked and reduced with array operations. Every way a table can
be wrong (an empty id, a row given twice, figures that disagree, a bad cell) is declined,
and the careful path names it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapters.fast_table import Column, FastTable, check_mapping
from adapters.spans import Decline
from nightdesk.formats import ColumnMap
from nightdesk.model import MAX_COUNT, MAX_SEATS, strings, typed_frame

_LABELS = ("name", "parent")
#: The dtype pandas infers for a list of strings (``str`` in pandas 3), found once: giving
#: it skips the inference, which costs more than building a small table.
_TEXT = pd.Index(["x"]).dtype


def _text_index(labels: list[str], name: str | None = None) -> pd.Index:
    """``pd.Index(labels)`` of strings, as inferred (the unit ids: ``.astype(str)`` too)."""
    if not labels:
        return pd.Index(labels, name=name, dtype=object).astype(str)
    return pd.Index(labels, name=name, dtype=_TEXT)


def _ids(column: Column, keep_spellings: bool = False) -> tuple[np.ndarray, list[str]]:
    codes, ids = column.labels(keep_spellings)
    if (codes < 0).any():
        raise Decline  # an empty id
    return codes, ids


def _repeats(keys: np.ndarray, span: int) -> bool:
    """Whether any key (each in ``range(span)``) occurs twice."""
    if span <= 4 * len(keys) + 1024:
        return bool((np.bincount(keys, minlength=span) > 1).any())
    return bool(pd.Series(keys).duplicated().any())


def _figure(column: Column, role: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """A unit figure's values per row, its not-given mask, and labels for a label role."""
    if role in _LABELS:
        codes, texts = column.labels()
        return codes, codes < 0, texts
    if role == "reporting":
        values, missing = column.fraction()
    else:
        values, missing = column.whole(MAX_SEATS if role == "seats" else MAX_COUNT)
    return values, missing, None


def _array(
    values: np.ndarray, missing: np.ndarray, texts: list[str] | None
) -> pd.api.extensions.ExtensionArray:
    if texts is not None:
        table = np.array([*texts, None], dtype=object)
        return strings(table[np.where(missing, len(texts), values)])
    if values.dtype.kind == "f":
        return pd.arrays.FloatingArray(values.astype(np.float64), missing.copy())
    return pd.arrays.IntegerArray(values.astype(np.int64), missing.copy())


def _per_unit(
    values: np.ndarray, missing: np.ndarray, unit_codes: np.ndarray, first_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's figure: the value its rows give (rows that leave it empty defer).

    ``first_rows`` is each unit's first row. Raises :class:`Decline` where two rows of one
    unit give different values.
    """
    row_of_unit = first_rows
    if missing[first_rows].any():  # some unit's first row leaves it empty: find the first given
        given = np.flatnonzero(~missing)
        owners = unit_codes[given]
        first = ~pd.Series(owners).duplicated().to_numpy()
        row_of_unit = np.full(len(first_rows), -1, dtype=np.int64)
        row_of_unit[owners[first]] = given[first]
    unit_value = values[np.maximum(row_of_unit, 0)]
    if (~missing & (values != unit_value[unit_codes])).any():
        raise Decline
    return unit_value, row_of_unit < 0


def long_tables(table: FastTable, columns: ColumnMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Votes and unit figures from a table with one row per unit and party."""
    check_mapping(table.names, columns)
    assert columns.party is not None and columns.votes is not None
    unit_codes, unit_ids = _ids(table.column(columns.unit))
    party_codes, party_ids = _ids(table.column(columns.party), keep_spellings=True)
    shape = (len(unit_ids), len(party_ids))
    cells = unit_codes * shape[1] + party_codes
    counts, not_given = table.column(columns.votes).whole(MAX_COUNT)
    if len(cells) == shape[0] * shape[1] and (cells == np.arange(len(cells))).all():
        data, absent = counts.reshape(shape), not_given.reshape(shape)  # the usual order
    elif _repeats(cells, shape[0] * shape[1]):
        raise Decline
    else:
        data = np.zeros(shape[0] * shape[1], dtype=np.int64)
        absent = np.ones(shape[0] * shape[1], dtype=bool)
        data[cells], absent[cells] = counts, not_given
        data, absent = data.reshape(shape), absent.reshape(shape)
    data, absent = np.ascontiguousarray(data.T), np.ascontiguousarray(absent.T)
    index = _text_index(unit_ids, "unit")
    # Each column a row of the fresh transposed arrays: nothing else holds them.
    votes = typed_frame(
        [pd.arrays.IntegerArray(data[k], absent[k]) for k in range(len(party_ids))],
        _text_index(party_ids),
        index,
    )
    first_rows = np.flatnonzero(unit_codes > np.maximum.accumulate(np.r_[-1, unit_codes[:-1]]))
    figures: dict[str, pd.api.extensions.ExtensionArray] = {}
    for role, name in columns.optional.items():
        values, missing, texts = _figure(table.column(name), role)
        unit_values, unit_missing = _per_unit(values, missing, unit_codes, first_rows)
        figures[role] = _array(unit_values, unit_missing, texts)
    if not figures:
        return votes, pd.DataFrame(index=index)
    # One constructor call: adding columns one by one costs a frame operation each.
    return votes, typed_frame(list(figures.values()), _text_index(list(figures)), index)


def _party_columns(table: FastTable, columns: ColumnMap) -> list[str]:
    if columns.parties == "*":
        mapped = set(columns.mapped().values())
        chosen = [name for name in table.names if name not in mapped]
    else:
        chosen = list(columns.parties or ())
    ids = [name.strip() for name in chosen]
    if not chosen or "" in ids or len(set(ids)) != len(ids) or ids != chosen:
        raise Decline
    return chosen


def wide_tables(table: FastTable, columns: ColumnMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Votes and unit figures from a table with one row per unit and a column per party."""
    check_mapping(table.names, columns)
    _, unit_ids = _ids(table.column(columns.unit))
    if len(unit_ids) != table.rows:
        raise Decline  # a unit with two rows
    index = _text_index(unit_ids, "unit")
    parties = _party_columns(table, columns)
    votes = typed_frame(
        [pd.arrays.IntegerArray(*table.column(party).whole(MAX_COUNT)) for party in parties],
        _text_index(parties),
        index,
    )
    if not columns.optional:
        return votes, pd.DataFrame(index=index)
    figures = [
        _array(*_figure(table.column(name), role)) for role, name in columns.optional.items()
    ]
    return votes, typed_frame(figures, _text_index(list(columns.optional)), index)
