"""What changed between two snapshots, and which changes were corrections.

A correction is any count that went down (or was withdrawn): the desk must always see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nightdesk.model import UNIT_FIGURES, Snapshot

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


def _changes(before: pd.DataFrame, after: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Long table of differing cells between two aligned frames (vectorised)."""
    b = before.stack(future_stack=True)
    a = after.stack(future_stack=True)
    differs = (a.isna() != b.isna()) | (a != b).fillna(False)
    if not differs.any():
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(columns, _dtypes(a.dtype), strict=True)}
        )
    b, a = b[differs], a[differs]
    change = a.fillna(0) - b.fillna(0)
    correction = b.notna() & (a.isna() | (a < b).fillna(False))
    out = pd.DataFrame(
        {
            columns[0]: b.index.get_level_values(0).astype(str),
            columns[1]: b.index.get_level_values(1).astype(str),
            "before": b.to_numpy(),
            "after": a.to_numpy(),
            "change": change.to_numpy(),
            "correction": correction.astype(bool).to_numpy(),
        }
    )
    out["before"] = out["before"].astype(a.dtype)
    out["after"] = out["after"].astype(a.dtype)
    out["change"] = out["change"].astype(a.dtype)
    return out.reset_index(drop=True)


def _dtypes(value_dtype: object) -> list[object]:
    return ["string", "string", value_dtype, value_dtype, value_dtype, bool]


def compare(before: Snapshot | None, after: Snapshot) -> Delta:
    """The Delta from ``before`` to ``after``; every cell of the first snapshot is new."""
    after_units = after.votes.index
    before_units = before.votes.index if before is not None else pd.Index([], dtype=str)
    appeared = tuple(after_units.difference(before_units, sort=False))
    vanished = tuple(before_units.difference(after_units, sort=False))
    # Vanished units are reported once as vanished, not cell by cell.
    units = after_units
    parties = after.votes.columns
    if before is not None:
        parties = parties.union(before.votes.columns, sort=False)
        bv = before.votes.reindex(index=units, columns=parties)
        bu = before.units.reindex(index=units)
    else:
        bv = pd.DataFrame(pd.NA, index=units, columns=parties, dtype="Int64")
        bu = after.units.iloc[0:0].reindex(index=units)
    av = after.votes.reindex(columns=parties)
    cells = _changes(bv.astype("Int64"), av.astype("Int64"), CELL_COLUMNS)
    counts = [f for f in UNIT_FIGURES if f != "reporting"]
    figs = _changes(bu[counts].astype("Int64"), after.units[counts].astype("Int64"), FIGURE_COLUMNS)
    rep = _changes(
        bu[["reporting"]].astype("Float64"),
        after.units[["reporting"]].astype("Float64"),
        FIGURE_COLUMNS,
    )
    if not rep.empty:
        # Reporting going down is a correction too; keep its own (float) dtype.
        figs = pd.concat(
            [figs.astype({"before": "Float64", "after": "Float64", "change": "Float64"}), rep],
            ignore_index=True,
        )
    return Delta(
        before=before,
        after=after,
        cells=cells,
        figures=figs,
        appeared=appeared,
        vanished=vanished,
    )
