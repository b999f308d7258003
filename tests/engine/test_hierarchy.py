"""Units within units: roll-up, the top level and national sums."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from nightdesk import hierarchy
from nightdesk.config import ElectionConfig
from nightdesk.errors import FeedError
from nightdesk.model import Snapshot
from nightdesk.results import assess
from nightdesk.seats import SeatRules


def _precincts(units: dict[str, tuple[str | None, str]], votes: dict[str, list]) -> Snapshot:
    """``units``: id → (parent, name); ``votes``: party → counts in the order of ``units``
    (only the first len(counts) units have votes)."""
    ids = list(units)
    n = max(len(v) for v in votes.values())
    table = pd.DataFrame(
        {p: pd.array(v + [None] * (len(ids) - len(v)), dtype="Int64") for p, v in votes.items()},
        index=ids,
    )
    frame = pd.DataFrame(
        {"parent": [units[i][0] for i in ids], "name": [units[i][1] for i in ids]}, index=ids
    )
    assert n <= len(ids)
    return Snapshot.build(source="t", votes=table, units=frame)


def test_named_parents_get_rows_with_their_childrens_sums() -> None:
    snap = _precincts(
        {"F/1": ("F", "1"), "F/2": ("F", "2"), "C/1": ("C", "1")},
        {"A": [1, 2, None], "B": [5, None, 7]},
    )
    tree = hierarchy.rollup(snap)
    assert tree.votes.loc["F"].tolist() == [3, 5]
    assert tree.votes.loc["C"].tolist() == [pd.NA, 7]  # A: nobody reported, not zero
    assert tree.units.at["F", "name"] == "F"
    assert hierarchy.children(tree, None).tolist() == ["F", "C"]  # as first named
    assert hierarchy.children(tree, "F").tolist() == ["F/1", "F/2"]
    # National totals count each vote once, whatever the depth.
    assert tree.party_totals().tolist() == [3, 12]
    # No reporting figure below: the share of children that reported any vote.
    assert tree.units.at["F", "reporting"] == 1.0
    assert tree.units.at["C", "reporting"] == 1.0


def test_three_levels_with_skeleton_rows() -> None:
    snap = _precincts(
        {
            "GA/F/1": ("GA/F", "1"),
            "GA/F/2": ("GA/F", "2"),
            "GA/C/1": ("GA/C", "1"),
            "GA/C/2": ("GA/C", "2"),
            "GA/F": ("GA", "Fulton"),
            "GA/C": ("GA", "Cobb"),
            "GA": (None, "Georgia"),
        },
        {"A": [1, 2, None, 4], "B": [5, 6, None, None]},
    )
    tree = hierarchy.rollup(snap)
    assert tree.votes.loc["GA"].tolist() == [7, 11]
    assert tree.votes.loc["GA/C"].tolist() == [4, pd.NA]
    assert tree.units.at["GA/C", "reporting"] == 0.5  # one of two precincts
    assert tree.units.at["GA", "reporting"] == 0.75  # the counties' mean
    assert hierarchy.ancestors(tree, "GA/F/1") == ["GA", "GA/F"]
    assert hierarchy.has_children(tree).tolist() == [False] * 4 + [True] * 3
    assert tree.top_level().tolist() == [False] * 6 + [True]


def test_a_parent_row_the_feed_gives_keeps_its_own_totals() -> None:
    """AP gives the state's totals beside its counties: they are the feed's, not ours."""
    snap = _precincts(
        {"CT": (None, "Connecticut"), "CT/1": ("CT", "Hartford"), "CT/2": ("CT", "Fairfield")},
        {"A": [100, 40, 50]},
    )
    assert hierarchy.rollup(snap) is snap
    assert snap.party_totals().tolist() == [100]


def test_figures_roll_up_only_when_every_child_knows_them() -> None:
    ids = ["F/1", "F/2", "C/1", "C/2"]
    units = pd.DataFrame(
        {
            "parent": ["F", "F", "C", "C"],
            "registered": pd.array([100, 300, 50, None], dtype="Int64"),
            "reporting": pd.array([1.0, 0.0, 0.5, 0.5], dtype="Float64"),
        },
        index=ids,
    )
    votes = pd.DataFrame({"A": pd.array([10, None, 3, 4], dtype="Int64")}, index=ids)
    tree = hierarchy.rollup(Snapshot.build(source="t", votes=votes, units=units))
    assert tree.units.at["F", "registered"] == 400
    assert tree.units.at["C", "registered"] is pd.NA  # a partial sum would understate it
    assert tree.units.at["F", "reporting"] == pytest.approx(0.25)  # weighted by registered
    assert tree.units.at["F", "seats"] is pd.NA  # seats never roll up


def test_vote_types_roll_up_with_the_votes() -> None:
    ids = ["F/1", "F/2"]
    votes = pd.DataFrame({"A": [3, 5]}, index=ids)
    types = {
        "Election Day": pd.DataFrame({"A": [1, 2]}, index=ids),
        "Absentee": pd.DataFrame({"A": [2, 3]}, index=ids),
    }
    units = pd.DataFrame({"parent": ["F", "F"]}, index=ids)
    snap = Snapshot.build(source="t", votes=votes, units=units, vote_types=types)
    tree = hierarchy.rollup(snap)
    assert tree.vote_types is not None
    assert tree.vote_types["Election Day"].at["F", "A"] == 3
    assert tree.vote_types["Absentee"].at["F", "A"] == 5


@pytest.mark.parametrize(
    ("parents", "message"),
    [
        ({"a": "a"}, "its own parent"),
        ({"a": "b", "b": "c", "c": "a"}, "loop"),
    ],
)
def test_a_loop_in_the_parents_is_a_feed_error(parents: dict[str, str], message: str) -> None:
    ids = list(parents)
    votes = pd.DataFrame({"A": [1] * len(ids)}, index=ids)
    units = pd.DataFrame({"parent": [parents[i] for i in ids]}, index=ids)
    snap = Snapshot.build(source="t", votes=votes, units=units)
    if message == "loop":  # every unit has votes: nothing to fill, so ask for the depths
        votes.iloc[0, 0] = None
        snap = Snapshot.build(source="t", votes=votes.astype("Int64"), units=units)
    with pytest.raises(FeedError, match=message):
        hierarchy.rollup(snap)


def test_the_national_threshold_counts_the_top_level_once() -> None:
    """With counties beside their state, a party's national share must not double."""
    ids = ["S", "S/1", "S/2"]
    votes = pd.DataFrame({"A": [96, 48, 48], "B": [4, 2, 2]}, index=ids)
    units = pd.DataFrame(
        {"parent": [None, "S", "S"], "seats": pd.array([10, None, None], dtype="Int64")},
        index=ids,
    )
    snap = Snapshot.build(source="t", votes=votes, units=units)
    election = ElectionConfig(
        name="x", timezone=ZoneInfo("UTC"), rules=SeatRules(national_threshold=0.05)
    )
    result = assess(snap, None, election)
    # B has 4 % nationally: under the threshold, so A takes all ten seats.
    assert result.allocation.seats.loc["S"].tolist() == [10, 0]
    assert int(result.allocation.seats.to_numpy().sum()) == 10
