"""Property tests of the seat methods.

Seats are compared with ``votelib`` (a test-only oracle, exact fractions throughout);
margins with brute force: the seats recomputed for every vote count up to the margin.
Derandomized, so CI sees the same examples every run.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import votelib.component.divisor as vl_divisor
import votelib.evaluate.core as vl_core
import votelib.evaluate.proportional as vl_proportional
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nightdesk.seats import METHODS, Allocation, SeatRules, allocate

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

ORACLE = {
    "dhondt": vl_proportional.HighestAverages("d_hondt"),
    "sainte-lague": vl_proportional.HighestAverages("sainte_lague"),
    "sainte-lague-modified": vl_proportional.HighestAverages(
        vl_divisor.modified_first_coef(vl_divisor.sainte_lague, Decimal("1.4"))
    ),
    "hare": vl_proportional.LargestRemainder("hare"),
    "droop": vl_proportional.LargestRemainder("droop"),
    "fptp": vl_core.Plurality(),
}


def names(n: int) -> list[str]:
    return [f"P{i}" for i in range(n)]


def seats_of(rows: np.ndarray, seats: int, rules: SeatRules, blank: int = 0) -> np.ndarray:
    """Seats per row (one what-if table per row) and, in the last column, undecided."""
    v = pd.DataFrame(rows, columns=names(rows.shape[1]))
    a = allocate(
        v,
        pd.Series(seats, index=v.index),
        valid=pd.Series(rows.sum(axis=1) + blank, index=v.index),
        rules=rules,
        margins=False,
    )
    return np.column_stack([a.seats.to_numpy(), a.undecided.to_numpy()])


def one(votes: list[int], seats: int, rules: SeatRules, blank: int = 0) -> Allocation:
    v = pd.DataFrame([votes], columns=names(len(votes)), index=["u"])
    return allocate(
        v,
        pd.Series([seats], index=["u"]),
        valid=pd.Series([sum(votes) + blank], index=["u"]),
        rules=rules,
    )


@st.composite
def elections(draw: st.DrawFn, small: bool = False) -> tuple[str, list[int], int]:
    method = draw(st.sampled_from(METHODS))
    n = draw(st.integers(2, 5 if small else 8))
    top = draw(st.sampled_from([30, 1_500])) if small else 10**6
    votes = draw(st.lists(st.integers(0, top), min_size=n, max_size=n))
    if draw(st.booleans()):  # equal counts, the stuff of ties
        votes[draw(st.integers(0, n - 1))] = votes[draw(st.integers(0, n - 1))]
    seats = 1 if method == "fptp" else draw(st.integers(1, 8 if small else 40))
    return method, votes, seats


# ------------------------------------------------------------------ votelib oracle


@settings(SETTINGS, max_examples=600)
@given(
    elections(),
    st.sampled_from([0.0, 0.03, 0.05]),
    st.sampled_from(["more-votes", "undecided"]),
)
def test_seats_match_votelib(
    election: tuple[str, list[int], int], threshold: float, tie: str
) -> None:
    method, votes, seats = election
    assume(sum(votes) > 0)
    rules = SeatRules(method=method, threshold=threshold, tie=tie)  # type: ignore[arg-type]
    got = seats_of(np.array([votes]), seats, rules)[0]
    ours, undecided = dict(zip(names(len(votes)), got[:-1].tolist(), strict=True)), got[-1]

    # The oracle sees the parties over the threshold (ours: votes ≥ t · valid, valid here
    # the sum of the votes), and none without votes.
    total = sum(votes)
    running = {
        p: n
        for p, n in zip(names(len(votes)), votes, strict=True)
        if n > 0 and n >= threshold * total
    }
    assume(running)
    result = ORACLE[method].evaluate(running, seats)
    if method == "fptp":
        result = {w: 1 for w in result}
    sure = {p: n for p, n in result.items() if not isinstance(p, vl_core.Tie)}
    tied = {p: n for p, n in result.items() if isinstance(p, vl_core.Tie)}
    open_seats = seats - sum(sure.values())
    if tie == "undecided" or not tied:
        # Without a tie rule (or a tie) the oracle and we agree seat for seat; seats it
        # leaves tied or unallocated are our undecided ones.
        assert ours == {p: sure.get(p, 0) for p in ours}, (votes, seats, result)
        assert undecided == open_seats, (votes, seats, result)
    else:
        # More votes break ties: the tied seats go to tied parties, or stay undecided.
        extra = {p: ours[p] - sure.get(p, 0) for p in ours}
        in_tie = set().union(*tied)
        assert all(n >= 0 for n in extra.values()), (votes, seats, result)
        assert all(p in in_tie for p, n in extra.items() if n), (votes, seats, result)
        assert sum(extra.values()) + undecided == open_seats


# ------------------------------------------------------------------ margins, brute force


def first_reaching(table: np.ndarray, col: int, level: int) -> int:
    hits = np.flatnonzero(table[:, col] >= level)
    return int(hits[0]) if len(hits) else -1


def check_gain(
    votes: list[int], seats: int, rules: SeatRules, blank: int, p: int, need: int, base: int
) -> None:
    """``need`` is the fewest votes that give p a seat more: every count below does not."""
    xs = (
        np.arange(need + 1)
        if need <= 600
        else np.unique(
            np.r_[np.linspace(0, need, 200).astype(np.int64), np.arange(need - 60, need + 1)]
        )
    )
    rows = np.repeat([votes], len(xs), axis=0)
    rows[:, p] += xs
    won = seats_of(rows, seats, rules, blank)[:, p]
    assert won[-1] >= base + 1, (votes, seats, rules, p, need)
    assert (won[:-1] <= base).all(), (votes, seats, rules, p, need, xs[won[:-1] > base][:3])


def check_loss(
    votes: list[int], seats: int, rules: SeatRules, blank: int, h: int, lose: int, base: int
) -> None:
    """The holder keeps its seats losing up to ``lose`` votes, and not one more."""
    top = min(lose + 1, votes[h])
    ys = (
        np.arange(top + 1)
        if top <= 600
        else np.unique(
            np.r_[np.linspace(0, top, 200).astype(np.int64), np.arange(top - 60, top + 1)]
        )
    )
    rows = np.repeat([votes], len(ys), axis=0)
    rows[:, h] -= ys
    won = seats_of(rows, seats, rules, blank)[:, h]
    assert (won[ys <= lose] >= base).all(), (votes, seats, rules, h, lose)
    assert lose + 1 <= votes[h] and won[ys == lose + 1][0] < base, (votes, seats, rules, h, lose)


@settings(SETTINGS, max_examples=350)
@given(
    elections(small=True),
    st.sampled_from([0.0, 0.03, 0.05]),
    st.sampled_from(["more-votes", "undecided"]),
    st.integers(0, 40),
)
def test_margins_are_exact_by_brute_force(
    election: tuple[str, list[int], int], threshold: float, tie: str, blank: int
) -> None:
    """next_seat, votes_needed and holder_can_lose for every method, thresholds included:
    the seat comes at the margin and at no smaller count (Droop is not monotone, so every
    count below is checked, not only the one before)."""
    method, votes, seats = election
    assume(sum(votes) > 0)
    blank = blank if threshold else 0
    rules = SeatRules(method=method, threshold=threshold, tie=tie)  # type: ignore[arg-type]
    a = one(votes, seats, rules, blank)
    base = a.seats.loc["u"].to_numpy()
    limit = 1 if method == "fptp" else seats
    for p in range(len(votes)):
        need = a.next_seat.iat[0, p]
        if need is pd.NA:
            assert base[p] >= limit, (votes, seats, rules, p)
            continue
        check_gain(votes, seats, rules, blank, p, int(need), int(base[p]))
    last = a.last_seat["u"]
    if last is None:
        assert base.sum() == 0
        return
    h = int(last.holder[1:])
    assert base[h] > 0
    assert last.holder_can_lose is not None
    check_loss(votes, seats, rules, blank, h, last.holder_can_lose, int(base[h]))
    if last.challenger is not None:
        c = int(last.challenger[1:])
        assert c != h and bool(a.eligible.iat[0, c])
        assert last.votes_needed == a.next_seat.iat[0, c]


@settings(SETTINGS, max_examples=150)
@given(elections(), st.sampled_from([0.0, 0.03, 0.05]))
def test_margins_at_scale(election: tuple[str, list[int], int], threshold: float) -> None:
    """Counts up to a million, up to 40 seats: the margin gives the seat, one vote less
    does not; the holder keeps its seats at its margin and loses one past it."""
    method, votes, seats = election
    assume(sum(votes) > 0)
    rules = SeatRules(method=method, threshold=threshold)  # type: ignore[arg-type]
    a = one(votes, seats, rules)
    base = a.seats.loc["u"].to_numpy()
    rows: list[list[int]] = []
    expect: list[tuple[int, int, int]] = []  # party, lowest, highest seats allowed
    for p in range(len(votes)):
        need = a.next_seat.iat[0, p]
        if need is pd.NA:
            continue
        for x, low, high in ((int(need), base[p] + 1, seats), (int(need) - 1, 0, base[p])):
            rows.append([n + (x if i == p else 0) for i, n in enumerate(votes)])
            expect.append((p, low, high))
    last = a.last_seat["u"]
    if last is not None:
        h, y = int(last.holder[1:]), last.holder_can_lose
        for lost, low, high in ((y, base[h], seats), (y + 1, 0, base[h] - 1)):
            rows.append([n - (lost if i == h else 0) for i, n in enumerate(votes)])
            expect.append((h, low, high))
    assume(rows)
    table = seats_of(np.array(rows), seats, rules)
    for got, (p, low, high) in zip(table, expect, strict=True):
        assert low <= got[p] <= high, (votes, seats, rules, p, low, high, got)


# ------------------------------------------------------------------ what the searches rely on


@settings(SETTINGS, max_examples=100)
@given(
    st.sampled_from(["dhondt", "sainte-lague", "sainte-lague-modified", "fptp", "hare"]),
    st.lists(st.integers(0, 400), min_size=2, max_size=6),
    st.integers(1, 10),
    st.sampled_from([0.0, 0.03, 0.05, 0.2]),
    st.data(),
)
def test_seats_never_fall_as_a_party_gains(
    method: str, votes: list[int], seats: int, threshold: float, data: st.DataObject
) -> None:
    """What the margin searches rely on: a party's seats never fall as it gains votes, nor
    rise as it loses them. Divisor methods and first past the post: thresholds included.
    Hare: while the parties over the threshold stay the same (the search goes segment by
    segment)."""
    assume(sum(votes) > 0)
    seats = 1 if method == "fptp" else seats
    p = data.draw(st.integers(0, len(votes) - 1))
    rules = SeatRules(method=method, threshold=threshold)  # type: ignore[arg-type]
    for sign, top in ((1, 2_000), (-1, votes[p])):
        rows = np.repeat([votes], top + 1, axis=0)
        rows[:, p] += sign * np.arange(top + 1)
        frame = pd.DataFrame(rows, columns=names(len(votes)))
        a = allocate(
            frame,
            pd.Series(seats, index=frame.index),
            valid=pd.Series(rows.sum(axis=1) + 7, index=frame.index),
            rules=rules,
            margins=False,
        )
        step = sign * np.diff(a.seats.to_numpy()[:, p])
        if method == "hare":
            over = a.eligible.to_numpy()
            step = step[~(over[1:] != over[:-1]).any(axis=1)]
        assert (step >= 0).all()


def test_droop_is_not_monotone() -> None:
    """Why the Droop search works in windows: 76 or 77 more votes give the first party all
    four seats, 78 only three (the quota steps from 87 to 88)."""
    rules = SeatRules(method="droop")
    won = seats_of(np.array([[271 + x, 86] for x in (75, 76, 77, 78)]), 4, rules)
    assert won[:, 0].tolist() == [3, 4, 4, 3]
    a = one([271, 86], 4, rules)
    assert a.seats.loc["u"].tolist() == [3, 1]
    assert a.next_seat.at["u", "P0"] == 76
    check_gain([271, 86], 4, rules, 0, 0, 76, 3)


@settings(SETTINGS, max_examples=80)
@given(
    st.lists(st.integers(0, 400), min_size=2, max_size=6),
    st.integers(1, 10),
    st.sampled_from([0.0, 0.05]),
    st.data(),
)
def test_droop_seats_never_fall_over_a_whole_window(
    votes: list[int], seats: int, threshold: float, data: st.DataObject
) -> None:
    """Over S+1 more votes the Droop quota grows by exactly one, the party's share of it
    rises and everyone else's falls: its seats at x + S + 1 are at least those at x, and
    they never fall while the quota stays the same. Both hold while the parties over the
    threshold stay the same (across a change the search goes segment by segment)."""
    assume(sum(votes) > 0)
    p = data.draw(st.integers(0, len(votes) - 1))
    rules = SeatRules(method="droop", threshold=threshold)
    xs = np.arange(0, 1_500)
    rows = np.repeat([votes], len(xs), axis=0)
    rows[:, p] += xs
    frame = pd.DataFrame(rows, columns=names(len(votes)))
    a = allocate(
        frame,
        pd.Series(seats, index=frame.index),
        valid=pd.Series(rows.sum(axis=1) + 7, index=frame.index),
        rules=rules,
        margins=False,
    )
    won = a.seats.to_numpy()[:, p]
    over = a.eligible.to_numpy()
    segment = np.r_[0, np.cumsum((over[1:] != over[:-1]).any(axis=1))]
    w = seats + 1
    same = segment[w:] == segment[:-w]
    assert (won[w:] >= won[:-w])[same].all()
    total = np.where(over, rows, 0).sum(axis=1)
    quota = total // (seats + 1) + 1
    steady = (segment[1:] == segment[:-1]) & (quota[1:] == quota[:-1])
    assert (won[1:] >= won[:-1])[steady].all()


@pytest.mark.parametrize("method", METHODS)
def test_many_units_at_once_match_one_at_a_time(method: str) -> None:
    """The margins are computed for a whole group of units at once; each unit alone gives
    the same numbers."""
    rng = np.random.default_rng(11)
    units = 40
    v = rng.integers(0, 5_000, size=(units, 5))
    v[::7, 2] = v[::7, 1]  # some ties
    seats = np.ones(units, dtype=int) if method == "fptp" else rng.integers(1, 7, size=units)
    frame = pd.DataFrame(v, columns=names(5), index=[f"u{i}" for i in range(units)])
    rules = SeatRules(method=method, threshold=0.05)  # type: ignore[arg-type]
    together = allocate(frame, pd.Series(seats, index=frame.index), rules=rules)
    for i, unit in enumerate(frame.index):
        alone = allocate(frame.loc[[unit]], pd.Series([seats[i]], index=[unit]), rules=rules)
        assert alone.last_seat[unit] == together.last_seat[unit]
        pd.testing.assert_frame_equal(alone.next_seat, together.next_seat.loc[[unit]])
