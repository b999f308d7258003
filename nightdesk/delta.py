"""What changed between two snapshots, and which changes were corrections.

A correction is any count that went down (or was withdrawn): the desk must always see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nightdesk.model import UNIT_FIGURES, Snapshot, column_arrays, typed_frame

CELL_COLUMNS = ["unit", "party", "before", "after", "change", "correction"]
FIGURE_COLUMNS = ["unit", "figure", "before", "after", "change", "correction"]


@dataclass(frozen=True)
class Delta:
    """Changes from ``before`` to ``after`` (``before`` is ``None`` for the first snapshot).

    Attributes:
        cells: one row per changed vote count: unit, party, before, after (``Int64``, ``<NA>``
            = not reported), change (``Int64``, not-reported counted as 0), correction (bool).
        figures: the same for unit figures (seats, registered, …, reporting).
        appeared: units present only in ``after``; vanished: units only in ``before``.
    """

    before: Snapshot | None
    after: Snapshot
    cells: pd.DataFrame
    figures: pd.DataFrame
    appeared: tuple[str, ...]
    vanished: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return self.cells.empty and self.figures.empty and not self.appeared and not self.vanished

    @property
    def corrections(self) -> pd.DataFrame:
        """Every count that went down: vote cells and unit figures together."""
        cells = self.cells[self.cells["correction"]].rename(columns={"party": "item"})
        figs = self.figures[self.figures["correction"]].rename(columns={"figure": "item"})
        frames = [f for f in (cells, figs) if not f.empty]
        if not frames:
            return pd.DataFrame(columns=["unit", "item", "before", "after", "change", "correction"])
        return pd.concat(frames, ignore_index=True)

    @property
    def has_corrections(self) -> bool:
        return bool(self.cells["correction"].any() or self.figures["correction"].any()) or bool(
            self.vanished
        )

    def changed_units(self) -> pd.Index:
        units = pd.Index(self.cells["unit"]).append(pd.Index(self.figures["unit"]))
        return units.append(pd.Index(list(self.appeared))).unique()


_EMPTY: dict[tuple[str, ...], pd.DataFrame] = {}


def _empty(columns: list[str], value_dtype: object) -> pd.DataFrame:
    """No changes: an empty table of the right dtypes (made once, then shallow copies; most
    polls have no figure changes, and building it costs more than the diff)."""
    key = (*columns, str(value_dtype))
    if key not in _EMPTY:
        _EMPTY[key] = pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(columns, _dtypes(value_dtype), strict=True)}
        )
    return _EMPTY[key].copy(deep=False)


def _dtypes(value_dtype: object) -> list[object]:
    return ["string", "string", value_dtype, value_dtype, value_dtype, bool]


@dataclass(frozen=True)
class _Grid:
    """One table as arrays: values (``<NA>`` as 0), where ``<NA>``, and its labels."""

    values: np.ndarray
    missing: np.ndarray
    rows: pd.Index
    cols: pd.Index

    def aligned(
        self, rows: pd.Index, cols: pd.Index, same_rows: bool | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values and mask on ``rows`` × ``cols`` (absent labels: ``<NA>``); ``same_rows``:
        whether ``rows`` are known to be this grid's (``None``: find out)."""
        if same_rows is None:
            same_rows = rows is self.rows or rows.equals(self.rows)
        same_cols = cols is self.cols or cols.equals(self.cols)
        if same_rows and same_cols:
            return self.values, self.missing
        r = np.arange(len(rows)) if same_rows else self.rows.get_indexer(rows)
        c = np.arange(len(cols)) if same_cols else self.cols.get_indexer(cols)
        values = np.zeros((len(rows), len(cols)), dtype=self.values.dtype)
        missing = np.ones((len(rows), len(cols)), dtype=bool)
        have_r, have_c = r >= 0, c >= 0
        where = np.ix_(have_r, have_c)
        source = np.ix_(r[have_r], c[have_c])
        values[where] = self.values[source]
        missing[where] = self.missing[source]
        return values, missing


def _changes(
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    rows: pd.Index,
    cols: pd.Index,
    columns: list[str],
    value_dtype: str,
) -> pd.DataFrame:
    """Long table of differing cells between two aligned grids, row by row (vectorised:
    the work is one comparison of the grids, then proportional to the cells that differ)."""
    bv, bm = before
    av, am = after
    differs = (am != bm) | (~am & (av != bv))
    if not differs.any():
        return _empty(columns, value_dtype)
    r, c = np.nonzero(differs)
    b, a, b_na, a_na = bv[r, c], av[r, c], bm[r, c], am[r, c]
    change = np.where(a_na, 0, a) - np.where(b_na, 0, b)
    correction = ~b_na & (a_na | (a < b))
    if value_dtype == "Float64":
        masked: Any = pd.arrays.FloatingArray
        b, a, change = (x.astype(np.float64, copy=False) for x in (b, a, change))
    else:
        masked = pd.arrays.IntegerArray
    return typed_frame(
        [
            pd.Index(rows.to_numpy(dtype=object)[r], dtype=object).astype(str).array,
            pd.Index(cols.to_numpy(dtype=object)[c], dtype=object).astype(str).array,
            masked(b, b_na),
            masked(a, a_na),
            masked(change, np.zeros(len(r), dtype=bool)),
            correction,
        ],
        _labels(columns),
        pd.RangeIndex(len(r)),
    )


_LABELS: dict[tuple[str, ...], pd.Index] = {}


def _labels(columns: list[str]) -> pd.Index:
    """``pd.Index(columns)``, inferred once (inference costs more than a small table)."""
    key = tuple(columns)
    if key not in _LABELS:
        _LABELS[key] = pd.Index(columns)
    return _LABELS[key].copy()


_COUNTS = pd.Index([f for f in UNIT_FIGURES if f != "reporting"])
_REPORTING = pd.Index(["reporting"])


def _grids(snapshot: Snapshot) -> tuple[_Grid, _Grid, _Grid]:
    """Votes, unit counts and reporting of a snapshot as grids."""
    units = snapshot.votes.index
    values, missing = snapshot.vote_arrays()
    votes = _Grid(values, missing, units, snapshot.votes.columns)
    figures, unknown = snapshot.figure_arrays()
    counts = _Grid(figures, unknown, units, _COUNTS)
    rep = snapshot.units["reporting"].array
    reporting = _Grid(
        rep.to_numpy(dtype=np.float64, na_value=0.0)[:, None],
        rep.isna()[:, None],
        units,
        _REPORTING,
    )
    return votes, counts, reporting


def compare(before: Snapshot | None, after: Snapshot, *, same_units: bool | None = None) -> Delta:
    """The Delta from ``before`` to ``after``; every cell of the first snapshot is new.

    The cost is one comparison of the two snapshots' arrays (computed once per snapshot)
    plus the cells that changed: a poll that moves 3 cells of 20,000 units pays for 3 rows.
    ``same_units``: whether both list the same units in the same order, if the caller
    already knows (``None``: find out).
    """
    after_units = after.votes.index
    before_units = before.votes.index if before is not None else pd.Index([], dtype=str)
    if before is not None and same_units is None:
        same_units = before_units is after_units or before_units.equals(after_units)
    if before is not None and same_units:
        appeared: tuple[str, ...] = ()
        vanished: tuple[str, ...] = ()
    else:
        appeared = tuple(after_units.difference(before_units, sort=False))
        vanished = tuple(before_units.difference(after_units, sort=False))
    # Vanished units are reported once as vanished, not cell by cell.
    units = after_units
    parties = after.votes.columns
    if before is not None:
        parties = parties.union(before.votes.columns, sort=False)
    a_votes, a_counts, a_rep = _grids(after)
    if before is not None:
        b_votes, b_counts, b_rep = _grids(before)
        bv = b_votes.aligned(units, parties, same_units)
        bc = b_counts.aligned(units, _COUNTS, same_units)
        br = b_rep.aligned(units, _REPORTING, same_units)
    else:
        bv = _nothing(len(units), len(parties), np.int64)
        bc = _nothing(len(units), len(_COUNTS), np.int64)
        br = _nothing(len(units), 1, np.float64)
    cells = _changes(
        bv, a_votes.aligned(units, parties, True), units, parties, CELL_COLUMNS, "Int64"
    )
    rep = _changes(br, (a_rep.values, a_rep.missing), units, _REPORTING, FIGURE_COLUMNS, "Float64")
    # Reporting going down is a correction too; with it, the figures are floats.
    figs = _changes(
        bc,
        (a_counts.values, a_counts.missing),
        units,
        _COUNTS,
        FIGURE_COLUMNS,
        "Int64" if rep.empty else "Float64",
    )
    if not rep.empty:
        figs = _append(figs, rep)
    return Delta(
        before=before,
        after=after,
        cells=cells,
        figures=figs,
        appeared=appeared,
        vanished=vanished,
    )


def _append(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Two long tables of the same columns, one after the other (``pd.concat`` without its
    per-call cost, which every first poll of a many-race feed pays per race)."""
    if first.empty:
        return second
    arrays = []
    for a, b in zip(column_arrays(first), column_arrays(second), strict=True):
        if a.dtype != b.dtype:
            return pd.concat([first, second], ignore_index=True)
        arrays.append(
            np.concatenate([a, b]) if isinstance(a, np.ndarray) else a._concat_same_type([a, b])
        )
    return typed_frame(arrays, first.columns.copy(), pd.RangeIndex(len(first) + len(second)))


def _nothing(rows: int, cols: int, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((rows, cols), dtype=dtype), np.ones((rows, cols), dtype=bool)
