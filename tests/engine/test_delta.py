from __future__ import annotations

import pandas as pd

from nightdesk import Snapshot
from nightdesk.delta import compare


def snap(votes: dict[str, list[object]], index: list[str], **units: list[object]) -> Snapshot:
    u = pd.DataFrame(units, index=index) if units else None
    return Snapshot.build(source="t", votes=pd.DataFrame(votes, index=index), units=u)


def test_first_snapshot_reports_every_count_as_new() -> None:
    d = compare(None, snap({"A": [1, None], "B": [2, 3]}, ["u1", "u2"]))
    assert len(d.cells) == 3  # the not-reported cell is not a change
    assert set(d.appeared) == {"u1", "u2"}
    assert not d.has_corrections


def test_changed_cells_with_before_after_and_change() -> None:
    a = snap({"A": [10, 20], "B": [5, 5]}, ["u1", "u2"])
    b = snap({"A": [15, 20], "B": [5, 7]}, ["u1", "u2"])
    d = compare(a, b)
    rows = {(r.unit, r.party): (r.before, r.after, r.change) for r in d.cells.itertuples()}
    assert rows == {("u1", "A"): (10, 15, 5), ("u2", "B"): (5, 7, 2)}
    assert not d.has_corrections
    assert list(d.changed_units()) == ["u1", "u2"]


def test_a_count_that_goes_down_is_a_correction() -> None:
    a = snap({"A": [10, 20]}, ["u1", "u2"])
    b = snap({"A": [9, 25]}, ["u1", "u2"])
    d = compare(a, b)
    c = d.corrections
    assert d.has_corrections
    assert list(c["unit"]) == ["u1"]
    assert int(c["change"].iloc[0]) == -1


def test_a_count_withdrawn_is_a_correction_and_new_reports_are_not() -> None:
    a = snap({"A": [10, None]}, ["u1", "u2"])
    b = snap({"A": [None, 4]}, ["u1", "u2"])
    d = compare(a, b)
    by_unit = d.cells.set_index("unit")
    assert bool(by_unit.at["u1", "correction"])
    assert by_unit.at["u1", "after"] is pd.NA
    assert not bool(by_unit.at["u2", "correction"])


def test_unit_figures_that_go_down_are_corrections_too() -> None:
    a = snap({"A": [10]}, ["u1"], ballots_cast=[100], reporting=[0.5])
    b = snap({"A": [10]}, ["u1"], ballots_cast=[90], reporting=[0.4])
    d = compare(a, b)
    assert d.cells.empty
    figs = d.figures.set_index("figure")
    assert bool(figs.at["ballots_cast", "correction"])
    assert bool(figs.at["reporting", "correction"])
    assert set(d.corrections["item"]) == {"ballots_cast", "reporting"}


def test_units_that_appear_or_vanish_and_new_parties() -> None:
    a = snap({"A": [1, 2]}, ["u1", "u2"])
    b = snap({"A": [1, 2], "C": [None, 4]}, ["u1", "u3"])
    d = compare(a, b)
    assert d.appeared == ("u3",)
    assert d.vanished == ("u2",)
    assert d.has_corrections  # a unit vanishing is never silent
    assert {(r.unit, r.party) for r in d.cells.itertuples()} == {("u3", "A"), ("u3", "C")}


def test_identical_snapshots_give_an_empty_delta() -> None:
    a = snap({"A": [1, 2]}, ["u1", "u2"], seats=[3, 4])
    assert compare(a, snap({"A": [1, 2]}, ["u1", "u2"], seats=[3, 4])).is_empty


def test_changelog_skips_the_first_snapshot_and_stays_bounded() -> None:
    from datetime import UTC, datetime

    from nightdesk.changelog import ChangeLog

    log = ChangeLog(max_entries=3, max_per_unit=2)
    at = datetime(2013, 7, 28, tzinfo=UTC)
    a = snap({"A": [1, 1]}, ["u1", "u2"])
    assert log.record("s", compare(None, a), at) == []
    for n in range(2, 5):
        b = snap({"A": [n, n]}, ["u1", "u2"])
        log.record("s", compare(a, b), at)
        a = b
    assert len(log) == 3
    # The unit index holds only what the log still holds (u2@3, u1@4, u2@4): bounded memory.
    assert [c.after for c in log.for_unit("s", "", "u1")] == [4]
    assert [c.after for c in log.for_unit("s", "", "u2")] == [3, 4]
    assert sum(len(v) for v in log._by_unit.values()) == len(log)
