"""The vectorised hot path against the plain pandas it replaced.

``compare``, ``unit_valid``, ``remaining_ballots`` and ``same_counts`` now work on NumPy
arrays computed once per snapshot. The references below are the previous pandas versions,
kept here as the definition: on random snapshots the results must be equal, dtypes included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightdesk.decided import remaining_ballots
from nightdesk.delta import CELL_COLUMNS, FIGURE_COLUMNS, compare
from nightdesk.model import UNIT_FIGURES, Snapshot, printable

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----------------------------------------------------------------------------- references


def _ref_changes(before: pd.DataFrame, after: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    b = before.stack(future_stack=True)
    a = after.stack(future_stack=True)
    differs = (a.isna() != b.isna()) | (a != b).fillna(False)
    if not differs.any():
        dtypes = ["string", "string", a.dtype, a.dtype, a.dtype, bool]
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, dtypes, strict=True)})
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
    for col in ("before", "after", "change"):
        out[col] = out[col].astype(a.dtype)
    return out.reset_index(drop=True)


def ref_compare(before: Snapshot | None, after: Snapshot) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = after.votes.index
    parties = after.votes.columns
    if before is not None:
        parties = parties.union(before.votes.columns, sort=False)
        bv = before.votes.reindex(index=units, columns=parties)
        bu = before.units.reindex(index=units)
    else:
        bv = pd.DataFrame(pd.NA, index=units, columns=parties, dtype="Int64")
        bu = after.units.iloc[0:0].reindex(index=units)
    av = after.votes.reindex(columns=parties)
    cells = _ref_changes(bv.astype("Int64"), av.astype("Int64"), CELL_COLUMNS)
    counts = [f for f in UNIT_FIGURES if f != "reporting"]
    figs = _ref_changes(
        bu[counts].astype("Int64"), after.units[counts].astype("Int64"), FIGURE_COLUMNS
    )
    rep = _ref_changes(
        bu[["reporting"]].astype("Float64"),
        after.units[["reporting"]].astype("Float64"),
        FIGURE_COLUMNS,
    )
    if not rep.empty:
        figs = pd.concat(
            [figs.astype({"before": "Float64", "after": "Float64", "change": "Float64"}), rep],
            ignore_index=True,
        )
    return cells, figs


def ref_unit_valid(s: Snapshot) -> pd.Series:
    summed = s.votes.sum(axis=1, min_count=1).astype("Int64")
    summed = summed + s.units["blank"].fillna(0)
    return s.units["valid"].fillna(summed).astype("Int64")


def ref_remaining(s: Snapshot) -> pd.Series:
    units = s.units
    votes = s.votes.reindex(units.index).fillna(0).sum(axis=1)
    figures = units[["blank", "valid", "invalid"]].fillna(0).astype("int64")
    seen = np.maximum(votes + figures["blank"], figures["valid"]) + figures["invalid"]
    cast = units["ballots_cast"].fillna(seen.astype("Int64"))
    left = (units["registered"] - cast).clip(lower=0)
    left = left.mask((units["reporting"] == 1).fillna(False).astype(bool), 0)
    return left.astype("Int64").rename("remaining")


# ----------------------------------------------------------------------------- strategies

COUNTS = ("seats", "registered", "ballots_cast", "valid", "blank", "invalid")


@st.composite
def snapshots(draw: st.DrawFn, ids: list[str] | None = None) -> Snapshot:
    if ids is None:
        ids = draw(st.lists(st.sampled_from([f"u{i}" for i in range(8)]), unique=True))
    parties = draw(
        st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=4, unique=True)
    )
    cell = st.one_of(st.none(), st.integers(0, 30))
    votes = pd.DataFrame({p: [draw(cell) for _ in ids] for p in parties}, index=ids, dtype="Int64")
    figures = {}
    for name in COUNTS:
        if draw(st.booleans()):
            figures[name] = pd.array([draw(cell) for _ in ids], dtype="Int64")
    if draw(st.booleans()):
        figures["reporting"] = pd.array(
            [draw(st.sampled_from([None, 0.0, 0.25, 1.0])) for _ in ids], dtype="Float64"
        )
    # A unit with figures but no votes yet.
    extra = draw(st.sampled_from([[], ["x1"]])) if "x1" not in ids else []
    units = pd.DataFrame(figures, index=ids) if figures else None
    if units is not None and extra:
        units = pd.concat([units, pd.DataFrame(index=extra)]).astype(units.dtypes.to_dict())
    return Snapshot.build(source="t", votes=votes, units=units)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Snapshot | None, Snapshot]:
    after = draw(snapshots())
    kind = draw(st.sampled_from(["first", "same units", "other units"]))
    if kind == "first":
        return None, after
    ids = list(after.votes.index) if kind == "same units" else None
    return draw(snapshots(ids)), after


# ----------------------------------------------------------------------------- tests


@SETTINGS
@given(pair=pairs())
def test_compare_equals_the_pandas_reference(pair: tuple[Snapshot | None, Snapshot]) -> None:
    before, after = pair
    d = compare(before, after)
    cells, figs = ref_compare(before, after)
    pd.testing.assert_frame_equal(d.cells, cells, check_exact=True)
    pd.testing.assert_frame_equal(d.figures, figs, check_exact=True)
    if before is not None:
        same = before.votes.index.equals(after.votes.index)
        hinted = compare(before, after, same_units=same)
        pd.testing.assert_frame_equal(hinted.cells, cells, check_exact=True)


@SETTINGS
@given(s=snapshots())
def test_unit_figures_equal_the_pandas_reference(s: Snapshot) -> None:
    pd.testing.assert_series_equal(s.unit_valid(), ref_unit_valid(s), check_exact=True)
    pd.testing.assert_series_equal(remaining_ballots(s), ref_remaining(s), check_exact=True)


@SETTINGS
@given(pair=pairs())
def test_same_counts_agrees_with_the_content_key(pair: tuple[Snapshot | None, Snapshot]) -> None:
    before, after = pair
    if before is None:
        before = after
    assert before.same_counts(after) == (before.content_key() == after.content_key())
    again = Snapshot.build(source="other", votes=after.votes, units=after.units)
    assert again.same_counts(after) and again.content_key() == after.content_key()


def test_the_arrays_are_computed_once_and_read_only() -> None:
    s = Snapshot.build(source="t", votes=pd.DataFrame({"A": [1, None]}, index=["u", "v"]))
    values, missing = s.vote_arrays()
    assert s.vote_arrays()[0] is values
    assert values.tolist() == [[1], [0]] and missing.tolist() == [[False], [True]]
    assert not values.flags.writeable and not missing.flags.writeable


def test_printable_scans_all_labels_at_once_and_replaces_only_with_a_hit() -> None:
    clean = pd.Index(["Phnom Penh", "Kândal", "ស្វាយរៀង"])
    assert printable(clean) is clean
    dirty = printable(pd.Index(["ok", "b\x1bad"]))
    assert list(dirty) == ["ok", "b\ufffdad"]
