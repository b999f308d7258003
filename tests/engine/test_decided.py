"""Seats that can no longer change, checked against every possible end of the count.

The brute force enumerates every way the uncounted ballots could fall (to each party, blank,
or not at all), allocates each outcome with ``nightdesk.seats.allocate`` and takes each
party's fewest seats: ``decided_seats`` must equal it for divisor methods and first past the
post, and never exceed it for largest remainder.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from nightdesk import decided
from nightdesk.decided import decided_seats, remaining_ballots
from nightdesk.model import Snapshot
from nightdesk.seats import SeatRules, allocate

EXACT = ("dhondt", "sainte-lague", "sainte-lague-modified", "fptp")
BOUNDED = ("hare", "droop")


def outcomes(receivers: int, r: int) -> np.ndarray:
    """Every vector of ``receivers`` non-negative counts with sum ≤ r (stars and bars)."""
    if r == 0:
        return np.zeros((1, receivers), dtype=np.int64)
    bars = np.array(list(combinations(range(r + receivers), receivers)), dtype=np.int64)
    gaps = np.diff(bars, axis=1, prepend=-1) - 1
    return gaps


def test_outcomes_are_every_way_the_ballots_can_fall() -> None:
    got = outcomes(3, 4)
    assert len(got) == 35 == len({tuple(o) for o in got})  # C(4 + 3, 3)
    assert got.min() == 0 and got.sum(axis=1).max() == 4


def make_cases(
    rng: np.random.Generator, count: int, method: str
) -> list[tuple[list[int], int, int, int]]:
    """Random small units: (votes, seats, remaining, blank already counted)."""
    cases = []
    for _ in range(count):
        n = int(rng.integers(2, 5))
        seats = 1 if method == "fptp" and rng.random() < 0.7 else int(rng.integers(1, 6))
        top = int(rng.choice([8, 20, 40]))
        votes = [int(x) for x in rng.integers(0, top, size=n)]
        if sum(votes) == 0:
            votes[0] = 1
        r = int(rng.integers(0, 13 if n < 4 else 9))
        cases.append((votes, seats, r, int(rng.integers(0, 4))))
    return cases


def brute_minimum(
    cases: list[tuple[list[int], int, int, int]], rules: SeatRules, with_blank: bool
) -> list[np.ndarray]:
    """Each party's fewest seats over every outcome, one allocate call for all of them."""
    rows, valid, seats, owner = [], [], [], []
    width = max(len(c[0]) for c in cases)
    for i, (votes, s, r, blank) in enumerate(cases):
        n = len(votes)
        extra = outcomes(n + (1 if with_blank else 0), r)
        got = np.zeros((len(extra), width), dtype=np.int64)
        got[:, :n] = np.asarray(votes) + extra[:, :n]
        rows.append(got)
        base = sum(votes) + blank
        valid.append(base + extra.sum(axis=1))
        seats.append(np.full(len(extra), s))
        owner.append(np.full(len(extra), i))
    v = pd.DataFrame(np.concatenate(rows))
    a = allocate(
        v,
        pd.Series(np.concatenate(seats)),
        valid=pd.Series(np.concatenate(valid)) if with_blank else None,
        rules=rules,
    )
    per_case = pd.DataFrame(a.seats.to_numpy()).groupby(np.concatenate(owner)).min()
    return [per_case.loc[i].to_numpy()[: len(c[0])] for i, c in enumerate(cases)]


def decided_for(
    cases: list[tuple[list[int], int, int, int]], rules: SeatRules, with_blank: bool
) -> list[np.ndarray]:
    """``decided_seats`` for every case, one call per party count (units = cases)."""
    out: list[np.ndarray] = [np.empty(0)] * len(cases)
    for n in sorted({len(c[0]) for c in cases}):
        ids = [i for i, c in enumerate(cases) if len(c[0]) == n]
        votes = pd.DataFrame([cases[i][0] for i in ids], index=ids)
        seats = pd.Series([cases[i][1] for i in ids], index=ids)
        remaining = pd.Series([cases[i][2] for i in ids], index=ids)
        valid = pd.Series([sum(cases[i][0]) + cases[i][3] for i in ids], index=ids)
        valid_arg = valid if with_blank else None
        won = allocate(votes, seats, valid=valid_arg, rules=rules).seats
        got = decided_seats(votes, seats, won, remaining, rules, valid=valid_arg)
        assert (got.to_numpy() <= won.to_numpy()).all()
        for i in ids:
            out[i] = got.loc[i].to_numpy()
    return out


CONFIGS = [
    (method, tie, threshold, blank)
    for method in (*EXACT, *BOUNDED)
    for tie in ("more-votes", "undecided")
    for threshold, blank in ((0.0, False), (0.2, False), (0.2, True), (0.34, True))
]


@pytest.mark.parametrize(("method", "tie", "threshold", "with_blank"), CONFIGS)
def test_decided_matches_brute_force(
    method: str, tie: str, threshold: float, with_blank: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = SeatRules(method=method, tie=tie, threshold=threshold)  # type: ignore[arg-type]
    seed = CONFIGS.index((method, tie, threshold, with_blank))
    cases = make_cases(np.random.default_rng(seed), 80, method)
    truth = brute_minimum(cases, rules, with_blank)
    got = decided_for(cases, rules, with_blank)
    for case, want, have in zip(cases, truth, got, strict=True):
        if method in EXACT:
            assert have.tolist() == want.tolist(), case
        else:
            assert (have <= want).all(), case
    if method in BOUNDED:  # the bound is not vacuous
        assert sum(int(h.sum()) for h in got) > 0
    else:  # the knapsack alone, without the shortcuts that usually settle a unit first,
        # in small blocks of rows
        monkeypatch.setattr(decided, "_USE_BOUNDS", False)
        monkeypatch.setattr(decided, "_BLOCK", 40)
        alone = decided_for(cases, rules, with_blank)
        for case, want, have in zip(cases, truth, alone, strict=True):
            assert have.tolist() == want.tolist(), case


def one_unit(
    votes: dict[str, int], seats: int, remaining: float | None, **rules: object
) -> dict[str, int]:
    v = pd.DataFrame({p: [n] for p, n in votes.items()}, index=["u"])
    s = pd.Series([seats], index=["u"])
    r = SeatRules(**rules)  # type: ignore[arg-type]
    won = allocate(v, s, rules=r).seats
    rem = pd.Series([remaining], index=["u"], dtype="Float64")
    got = decided_seats(v, s, won, rem, r)
    return {p: int(got.at["u", p]) for p in votes}


@pytest.mark.parametrize("method", ["dhondt", "sainte-lague", "hare", "droop", "fptp"])
def test_nothing_left_to_count_decides_everything(method: str) -> None:
    seats = 1 if method == "fptp" else 5
    v = {"A": 510, "B": 490, "C": 3}
    won = one_unit(v, seats, 0, method=method)
    assert sum(won.values()) == seats
    assert won == one_unit(v, seats, 0, method=method)
    assert one_unit(v, seats, None, method=method) == {"A": 0, "B": 0, "C": 0}


def test_huge_lead_is_decided_and_a_close_one_is_not() -> None:
    v = {"A": 790_000, "B": 210_000}
    assert one_unit(v, 5, 0, method="hare") == {"A": 4, "B": 1}
    assert one_unit(v, 5, 1_000, method="dhondt") == {"A": 4, "B": 1}
    # Largest remainder is bounded: A's remainder seat stays provisional while ballots remain.
    assert one_unit(v, 5, 1_000, method="hare") == {"A": 3, "B": 1}
    assert one_unit(v, 1, 579_999, method="fptp") == {"A": 1, "B": 0}
    assert one_unit(v, 1, 580_000, method="fptp") == {"A": 0, "B": 0}  # a tie is not a seat
    # CNRP needs 1,000 more votes for the seat CPP holds with its 5th quotient.
    close = {"CPP": 300_000, "CNRP": 419_000}
    assert one_unit(close, 11, 999) == {"CPP": 5, "CNRP": 6}
    assert one_unit(close, 11, 1_000) == {"CPP": 4, "CNRP": 6}
    assert one_unit(close, 11, 10_000) == {"CPP": 4, "CNRP": 6}


def test_units_in_every_state_in_one_call() -> None:
    votes = pd.DataFrame(
        {"A": [700, 700, 700, None, 5, 50], "B": [300, 300, 300, None, None, 40]},
        index=["done", "unknown", "some-left", "nothing-yet", "alone", "no-seats"],
    )
    seats = pd.Series([3, 3, 3, 3, 2, None], index=votes.index, dtype="Int64")
    won = allocate(votes, seats).seats
    remaining = pd.Series([0, None, 50, 100, 2, 0], index=votes.index, dtype="Float64")
    got = decided_seats(votes, seats, won[["B", "A"]], remaining, SeatRules())
    assert list(got.columns) == ["A", "B"] and str(got.dtypes.iloc[0]) == "int64"
    assert got.loc["done"].tolist() == won.loc["done"].tolist() == [2, 1]
    assert got.loc["unknown"].tolist() == [0, 0]
    assert got.loc["some-left"].tolist() == [2, 1]
    assert got.loc["nothing-yet"].tolist() == [0, 0]
    # B has not reported: 2 votes for it would not reach A's 2nd quotient, 2.5.
    assert got.loc["alone"].tolist() == [2, 0]
    assert got.loc["no-seats"].tolist() == [0, 0]
    assert one_unit({"A": 5}, 2, 1_000) == {"A": 2}  # nobody else on the ballot
    assert one_unit({"A": 5}, 2, 1_000, threshold=0.5) == {"A": 2}


def test_fptp_margin_must_exceed_what_is_left() -> None:
    for tie in ("more-votes", "undecided"):
        assert one_unit({"A": 100, "B": 90}, 1, 9, method="fptp", tie=tie)["A"] == 1
        assert one_unit({"A": 100, "B": 90}, 1, 10, method="fptp", tie=tie)["A"] == 0


def test_threshold_base_grows_with_the_remaining_ballots() -> None:
    # C passes 10 % now (120 of 1,000) and holds a seat that 150 more ballots cannot take,
    # but 250 more ballots for the others (or blank) would sink it under the threshold.
    v = {"A": 500, "B": 380, "C": 120}
    assert one_unit(v, 10, 0, threshold=0.1)["C"] == 1
    assert one_unit(v, 10, 150, threshold=0.1)["C"] == 1
    assert one_unit(v, 10, 250, threshold=0.1)["C"] == 0


def test_national_threshold_is_all_or_nothing_per_party() -> None:
    votes = pd.DataFrame({"A": [500, 500], "B": [300, 300], "C": [90, 90]}, index=["x", "y"])
    seats = pd.Series([10, 10], index=["x", "y"])
    rules = SeatRules(national_threshold=0.09)  # C has 180 of 1,780: 10.1 %
    won = allocate(votes, seats, rules=rules).seats
    assert won["C"].tolist() == [1, 1]
    done = pd.Series([0, 0], index=["x", "y"])
    assert decided_seats(votes, seats, won, done, rules).equals(won)
    few = pd.Series([0, 10], index=["x", "y"])
    got = decided_seats(votes, seats, won, few, rules)
    assert got.loc["x"].equals(won.loc["x"])  # 180 of 1,790 is still over 9 %
    # 300 more ballots in y could sink C nationally, so even its seat in x is provisional.
    many = pd.Series([0, 300], index=["x", "y"])
    got = decided_seats(votes, seats, won, many, rules)
    assert got.at["x", "C"] == 0 and got.at["x", "A"] == won.at["x", "A"]
    # A unit with an unknown remainder: nobody is sure of the national threshold.
    unknown = pd.Series([0, None], index=["x", "y"], dtype="Float64")
    assert (decided_seats(votes, seats, won, unknown, rules).to_numpy() == 0).all()


def test_remaining_ballots() -> None:
    votes = pd.DataFrame(
        {"A": [10, 10, 10, 10, None], "B": [5, 5, 5, 5, None]},
        index=["cast", "done", "votes-only", "unknown", "none-yet"],
    )
    units = pd.DataFrame(
        {
            "registered": [100, 100, 100, None, 50],
            "ballots_cast": [40, 40, None, None, None],
            "invalid": [None, None, 2, None, None],
            "reporting": [0.4, 1.0, 0.2, 0.5, 0.0],
        },
        index=votes.index,
    )
    snap = Snapshot.build(source="s", votes=votes, units=units)
    got = remaining_ballots(snap)
    assert str(got.dtype) == "Int64"
    assert got["cast"] == 60
    assert got["done"] == 0  # reporting 100 %: nothing left, whatever the turnout
    assert got["votes-only"] == 100 - 15 - 2
    assert got["unknown"] is pd.NA
    assert got["none-yet"] == 50
    over = Snapshot.build(
        source="s",
        votes=votes.iloc[:1],
        units=pd.DataFrame({"registered": [10], "ballots_cast": [40]}, index=["cast"]),
    )
    assert remaining_ballots(over)["cast"] == 0
