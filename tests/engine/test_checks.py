"""Checks on what feeds say: each rule on built snapshots, through assess (both paths) and
into the change log; and what a check costs at 20,000 units."""

from __future__ import annotations

import gc
import timeit
import weakref
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from nightdesk import FeedError
from nightdesk.changelog import CLEARED, FOUND, ChangeLog
from nightdesk.checks import CHECKS, check, findings
from nightdesk.config import ElectionConfig
from nightdesk.delta import compare
from nightdesk.model import Snapshot
from nightdesk.results import assess

ELECTION = ElectionConfig(name="t", timezone=ZoneInfo("UTC"))
AT = datetime(2013, 7, 28, 12, 34, tzinfo=UTC)


def snap(votes: dict[str, list[object]], **figures: list[object]) -> Snapshot:
    units = [f"u{i}" for i in range(len(next(iter(votes.values()))))]
    return Snapshot.build(
        source="t",
        votes=pd.DataFrame(votes, index=units),
        units=pd.DataFrame(figures, index=units) if figures else None,
    )


def found(s: Snapshot) -> list[tuple[str, str, str]]:
    table = check(s).table
    return list(zip(table["unit"], table["check"], table["message"], strict=True))


# --------------------------------------------------------------------------- the rules


def test_a_consistent_feed_has_no_findings() -> None:
    s = snap(
        {"A": [60, 10], "B": [30, 5]},
        registered=[200, 20],
        ballots_cast=[100, 17],
        valid=[95, 16],
        blank=[5, 1],
        invalid=[5, 1],
        reporting=[1.0, 0.5],
    )
    f = check(s)
    assert not f and len(f) == 0 and found(s) == []
    assert f.flags.shape == (len(CHECKS), 2) and not f.flags.flags.writeable
    assert list(f.table.columns) == ["unit", "check", "message"]


def test_votes_above_registered_say_which_figure_and_both_numbers() -> None:
    s = snap({"A": [100_000, 10, 5, 7], "B": [23_456, 0, 4, 0]}, registered=[120_000, 9, 9, 0])
    assert found(s) == [
        ("u0", "over_registered", "votes 123,456 above registered 120,000"),
        ("u1", "over_registered", "votes 10 above registered 9"),
        ("u3", "over_registered", "votes 7 above registered 0"),
    ]


def test_ballots_counts_the_largest_figure_the_feed_gives() -> None:
    s = snap(
        {"A": [50, 50, 50, 50]},
        registered=[100, 100, 100, 100],
        ballots_cast=[101, None, None, 90],
        valid=[None, 98, None, None],
        blank=[None, None, 30, None],
        invalid=[None, 3, 25, 60],
    )
    assert found(s) == [
        ("u0", "over_registered", "ballots cast 101 above registered 100"),
        ("u1", "over_registered", "valid + invalid 101 above registered 100"),
        ("u2", "over_registered", "votes + blank + invalid 105 above registered 100"),
        # ballots_cast 90 is less than the votes and invalid ballots the feed counted
        ("u3", "over_registered", "votes + invalid 110 above registered 100"),
    ]


def test_no_registered_figure_no_check() -> None:
    assert found(snap({"A": [10**9]}, seats=[3])) == []
    assert found(snap({"A": [10**9, 5]}, registered=[None, 9])) == []  # u0 not given


def test_party_votes_above_valid_are_always_flagged() -> None:
    s = snap(
        {"A": [100, 100, 100], "B": [5, None, 0]},
        valid=[103, 99, 110],
        blank=[None, None, 20],
    )
    assert found(s) == [
        ("u0", "over_valid", "votes 105 above valid 103"),
        ("u1", "over_valid", "votes 100 above valid 99"),  # a party not reported only adds
        ("u2", "over_valid", "votes 100 + blank 20 = 120 above valid 110"),
    ]


def test_party_votes_short_of_valid_only_when_nothing_is_left_to_report() -> None:
    s = snap(
        {"A": [100, 100, 100, 100, None], "B": [5, 5, None, 5, None]},
        valid=[120, 120, 120, 105, 50],
        blank=[10, None, 10, 0, 10],
    )
    assert found(s) == [
        # blank given and every party reported: 5 valid votes are nobody's
        ("u0", "short_of_valid", "votes 105 + blank 10 = 115 short of valid 120 by 5"),
        # u1: no blank figure, and valid includes blank ballots: the gap may be blank
        # u2: party B not reported yet; u3: adds up; u4: no party reported
    ]


def test_reporting_above_100_percent_is_kept_and_flagged() -> None:
    s = snap({"A": [1, 2, 3]}, reporting=[1.05, 1.0, None])
    assert s.units.at["u0", "reporting"] == pytest.approx(1.05)
    assert found(s) == [("u0", "over_100", "reporting 105% (above 100%)")]


@pytest.mark.parametrize("reporting", [-0.01, float("inf"), float("-inf")])
def test_negative_or_infinite_reporting_is_still_a_feed_error(reporting: float) -> None:
    with pytest.raises(FeedError, match="reporting"):
        snap({"A": [1]}, reporting=[reporting])


def test_an_unmasked_nan_reporting_is_a_feed_error_not_a_silent_blank() -> None:
    units = pd.DataFrame(
        {"reporting": pd.arrays.FloatingArray(np.array([np.nan]), np.array([False]))},
        index=["u0"],
    )
    with pytest.raises(FeedError, match="finite"):
        Snapshot.build(source="t", votes=pd.DataFrame({"A": [1]}, index=["u0"]), units=units)


def test_one_unit_can_fail_several_checks_listed_in_check_order() -> None:
    s = snap({"A": [200]}, registered=[100], valid=[150], reporting=[1.5])
    f = check(s)
    assert [x.check for x in f.for_unit("u0")] == ["over_registered", "over_valid", "over_100"]
    assert f.for_unit("u0")[0].title == "more ballots than registered voters"
    assert f.for_unit("nowhere") == []
    assert f.flagged.tolist() == [True]


def test_figures_given_for_some_units_only_are_masked_not_read() -> None:
    # Masked cells of a nullable column hold arbitrary numbers: they must never count.
    units = ["u0", "u1"]
    registered = pd.arrays.IntegerArray(np.array([10, 10**6]), np.array([False, True]))
    blank = pd.arrays.IntegerArray(np.array([10**6, 0]), np.array([True, False]))
    s = Snapshot.build(
        source="t",
        votes=pd.DataFrame({"A": [5, 50]}, index=units),
        units=pd.DataFrame({"registered": registered, "blank": blank}, index=units),
    )
    assert found(s) == []


# --------------------------------------------------------------------------- spelling


def test_one_name_spelled_two_ways_in_different_units_is_reported_not_merged() -> None:
    s = snap(
        {"Raphael Warnock": [10, 20, None], "RAPHAEL WARNOCK": [None, None, 5], "W": [1, 2, 3]}
    )
    assert s.party_ids == ["Raphael Warnock", "RAPHAEL WARNOCK", "W"]  # both kept
    assert found(s) == [
        (
            "u2",
            "spelling",
            "candidates 'Raphael Warnock' (2 units) and 'RAPHAEL WARNOCK' (1 unit) look like "
            "one name spelled two ways",
        )
    ]
    assert check(s).for_unit("u2")[0].title == "one name spelled two ways"


@pytest.mark.parametrize(
    ("main", "variant"),
    [
        ("Raphael Warnock", "Raphael Warnock (I) (Dem)"),
        ("Raphael Warnock", "Raphael Warnock "),
        ("Dem", "(Dem"),
        ("Leon Childs, Jr.", "LEON CHILDS JR"),
        ("José Núñez", "Jose Nunez"),
    ],
)
def test_what_counts_as_a_spelling(main: str, variant: str) -> None:
    s = snap({main: [1, 2, None], variant: [None, None, 3]})
    assert [(u, c) for u, c, _ in found(s)] == [("u2", "spelling")]


def test_alike_names_always_side_by_side_are_two_candidates() -> None:
    s = snap({"John Smith (Dem)": [1, 2, 3], "John Smith (Rep)": [4, 5, 6]})
    assert found(s) == []


def test_a_unit_with_both_spellings_is_flagged_and_counts_are_of_the_bottom_units() -> None:
    units = ["GA", "GA/1", "GA/2", "GA/3"]
    s = Snapshot.build(
        source="t",
        votes=pd.DataFrame(
            {"Walker": [13, 10, 3, None], "Walker (Rep)": [4, None, None, 4]}, index=units
        ),
        units=pd.DataFrame({"parent": [None, "GA", "GA", "GA"]}, index=units),
    )
    table = check(s).table
    assert table["unit"].tolist() == ["GA", "GA/3"]
    assert table["message"].iloc[0] == (
        "candidates 'Walker' (2 units) and 'Walker (Rep)' (1 unit) look like one name "
        "spelled two ways"
    )


def test_three_spellings_and_two_names_in_one_unit() -> None:
    s = snap(
        {
            "Warnock": [1, 1, None, None],
            "WARNOCK": [None, None, 2, None],
            "warnock.": [None, None, None, 3],
            "Walker": [1, 1, None, None],
            "walker": [None, None, 2, None],
        }
    )
    messages = dict((u, m) for u, _, m in found(s))
    assert set(messages) == {"u2", "u3"}
    assert messages["u2"] == (
        "candidates 'Warnock' (2 units) and 'WARNOCK' (1 unit) look like one name spelled two "
        "ways; candidates 'Walker' (2 units) and 'walker' (1 unit) look like one name spelled "
        "two ways"
    )


def test_a_spelling_finding_is_logged_once_and_clears() -> None:
    log = ChangeLog()
    a = snap({"Warnock": [1, None], "WARNOCK": [None, 2]})
    first = log.record("s", compare(None, a), AT)
    assert [(c.unit, c.item, c.kind) for c in first] == [("u1", "spelling", FOUND)]
    b = snap({"Warnock": [1, 3], "WARNOCK": [None, None]})
    cleared = [c for c in log.record("s", compare(a, b), AT) if c.is_finding]
    assert [(c.unit, c.kind, c.note) for c in cleared] == [
        ("u1", CLEARED, "one name spelled two ways")
    ]


# --------------------------------------------------------------------------- through assess


def test_assess_carries_the_findings_and_both_paths_agree() -> None:
    rng = np.random.default_rng(7)
    n = 300
    units = [f"U{i:03d}" for i in range(n)]
    votes = rng.integers(0, 1_000, size=(n, 3))
    figures = {
        "seats": np.full(n, 3),
        "registered": votes.sum(axis=1) + 50,
        "valid": votes.sum(axis=1) + 10,
        "blank": np.full(n, 10),
        "reporting": np.full(n, 0.5),
    }

    def build(v: np.ndarray, f: dict[str, np.ndarray]) -> Snapshot:
        return Snapshot.build(
            source="t",
            votes=pd.DataFrame(v, index=units, columns=["A", "B", "C"]),
            units=pd.DataFrame(f, index=units),
        )

    before = build(votes, figures)
    prior = assess(before, None, ELECTION)
    assert not prior.findings
    for step in range(6):
        votes = votes.copy()
        figures = {k: v.copy() for k, v in figures.items()}
        rows = rng.choice(n, size=5, replace=False)
        votes[rows[0], 0] += 100  # above valid and, past 40, above registered
        figures["reporting"][rows[1]] = 1.0 + step / 10
        figures["blank"][rows[2]] = 0  # short of valid
        after = build(votes, figures)
        inc = assess(after, before, ELECTION, prior=prior)
        full = assess(after, before, ELECTION)
        assert inc.findings.equals(full.findings)
        assert inc.findings.equals(check(after))  # not only the same cached object
        assert inc.findings.flagged[rows[0]]
        prior, before = inc, after


def test_the_cache_keeps_no_snapshot_alive() -> None:
    s = snap({"A": [200]}, registered=[100])
    f = findings(s)
    assert findings(s) is f
    gone = weakref.ref(s)
    del s
    gc.collect()
    assert gone() is None
    assert f.for_unit("u0")[0].message == "votes 200 above registered 100"


# --------------------------------------------------------------------------- the change log


def test_the_log_says_when_a_finding_appears_and_when_it_clears_not_while_it_lasts() -> None:
    log = ChangeLog()
    a = snap({"A": [200, 5]}, registered=[100, 100])
    first = log.record("s", compare(None, a), AT)
    # Findings of the first snapshot are problems, not changes: logged.
    assert [(c.unit, c.item, c.kind, c.note) for c in first] == [
        ("u0", "over_registered", FOUND, "votes 200 above registered 100")
    ]
    b = snap({"A": [210, 6]}, registered=[100, 100])
    changes = log.record("s", compare(a, b), AT)
    assert [c.kind for c in changes] == ["count", "count"]  # u0 still flagged: not again
    c = snap({"A": [90, 6]}, registered=[100, 100])
    changes = log.record("s", compare(b, c), AT)
    cleared = [ch for ch in changes if ch.is_finding]
    assert [(ch.unit, ch.item, ch.kind, ch.note) for ch in cleared] == [
        ("u0", "over_registered", CLEARED, "more ballots than registered voters")
    ]
    assert [ch.kind for ch in log.for_unit("s", "", "u0") if ch.is_finding] == [FOUND, CLEARED]


def test_units_that_appear_flagged_are_logged_and_vanished_ones_do_not_clear() -> None:
    log = ChangeLog()
    a = snap({"A": [200, 5]}, registered=[100, 100])
    log.record("s", compare(None, a), AT)
    b = Snapshot.build(
        source="t",
        votes=pd.DataFrame({"A": [5, 300]}, index=["u1", "u9"]),
        units=pd.DataFrame({"registered": [100, 100]}, index=["u1", "u9"]),
    )
    changes = log.record("s", compare(a, b), AT)
    assert [(c.unit, c.kind) for c in changes if c.is_finding] == [("u9", FOUND)]
    assert any(c.item == "(unit withdrawn)" and c.unit == "u0" for c in changes)


def test_the_log_uses_the_findings_it_is_given() -> None:
    log = ChangeLog()
    a = snap({"A": [200]}, registered=[100])
    result = assess(a, None, ELECTION)
    (entry,) = log.record("s", result.delta, AT, result.findings)
    assert entry.note == "votes 200 above registered 100"


# --------------------------------------------------------------------------- cost


def test_checking_twenty_thousand_units_costs_well_under_a_millisecond() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    units = [f"U{i:05d}" for i in range(n)]
    votes = pd.DataFrame(rng.integers(0, 9_000, size=(n, 8)), index=units)
    sums = votes.sum(axis=1)
    s = Snapshot.build(
        source="t",
        votes=votes,
        units=pd.DataFrame(
            {
                "registered": sums * 2,
                "ballots_cast": sums + 20,
                "valid": sums + 10,
                "blank": 10,
                "invalid": 10,
                "reporting": 0.5,
            },
            index=units,
        ),
    )
    check(s)  # the snapshot's arrays, as assess has already made them
    best = min(timeit.repeat(lambda: check(s), number=5, repeat=20)) / 5
    assert best < 0.5e-3, f"{best * 1e3:.2f} ms"


def test_checking_spellings_costs_little_even_when_names_look_alike() -> None:
    rng = np.random.default_rng(2)
    n = 20_000
    units = [f"U{i:05d}" for i in range(n)]
    votes = pd.DataFrame(rng.integers(0, 9_000, size=(n, 8)), index=units).astype("Int64")
    votes.columns = ["A", "B", "C", "D", "E", "F", "G", "a"]  # "A" and "a"
    votes.loc[units[: n // 2], "a"] = pd.NA
    votes.loc[units[n // 2 :], "A"] = pd.NA
    s = Snapshot.build(source="t", votes=votes)
    assert check(s).flags[CHECKS.index("spelling")].sum() == n // 2
    best = min(timeit.repeat(lambda: check(s), number=5, repeat=10)) / 5
    assert best < 1e-3, f"{best * 1e3:.2f} ms"
