from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nightdesk.seats import SeatRules, allocate
from tests.conftest import shared_path


def one(votes: dict[str, int], seats: int, **rules: object) -> tuple[dict[str, int], int]:
    v = pd.DataFrame({p: [n] for p, n in votes.items()}, index=["u"])
    a = allocate(v, pd.Series([seats], index=["u"]), rules=SeatRules(**rules))  # type: ignore[arg-type]
    return {p: int(a.seats.at["u", p]) for p in votes}, int(a.undecided["u"])


def test_dhondt_textbook_example() -> None:
    # The classic example: 7 seats, 100k/80k/30k/20k → 4/3/0/0? No: 3/3/1/0.
    won, undecided = one({"A": 100_000, "B": 80_000, "C": 30_000, "D": 20_000}, 8)
    assert won == {"A": 4, "B": 3, "C": 1, "D": 0}
    assert undecided == 0


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("dhondt", {"A": 4, "B": 2, "C": 1}),
        ("sainte-lague", {"A": 3, "B": 2, "C": 2}),
        ("sainte-lague-modified", {"A": 3, "B": 2, "C": 2}),
        ("hare", {"A": 4, "B": 2, "C": 1}),
        ("droop", {"A": 4, "B": 2, "C": 1}),
    ],
)
def test_methods(method: str, expected: dict[str, int]) -> None:
    won, _ = one({"A": 53_000, "B": 24_000, "C": 23_000}, 7, method=method)
    assert won == expected


def test_fptp_and_its_margin() -> None:
    v = pd.DataFrame({"A": [500], "B": [480], "C": [20]}, index=["u"])
    a = allocate(v, pd.Series([1], index=["u"]), rules=SeatRules(method="fptp"))
    assert a.seats.loc["u"].tolist() == [1, 0, 0]
    ls = a.last_seat["u"]
    assert ls is not None and (ls.holder, ls.challenger, ls.votes_needed) == ("A", "B", 21)


def test_exact_tie_is_undecided_not_given() -> None:
    assert one({"A": 100, "B": 100}, 1) == ({"A": 0, "B": 0}, 1)
    assert one({"A": 100, "B": 100}, 1, tie="undecided") == ({"A": 0, "B": 0}, 1)


def test_tie_of_quotients_goes_to_more_votes() -> None:
    # A's 2nd quotient 200/2 = 100 ties B's first, 100; A has more votes.
    assert one({"A": 200, "B": 100}, 2) == ({"A": 2, "B": 0}, 0)
    assert one({"A": 200, "B": 100}, 2, tie="undecided") == ({"A": 1, "B": 0}, 1)


def test_threshold_excludes_small_parties() -> None:
    won, _ = one({"A": 600, "B": 380, "C": 20}, 10, threshold=0.03)
    assert won["C"] == 0
    won, _ = one({"A": 600, "B": 380, "C": 20}, 10)
    assert won["C"] == 0 or sum(won.values()) == 10


def test_nothing_counted_means_every_seat_open() -> None:
    assert one({"A": 0, "B": 0}, 3) == ({"A": 0, "B": 0}, 3)


def test_unit_without_known_seats_gets_none() -> None:
    v = pd.DataFrame({"A": [10, 10]}, index=["u1", "u2"])
    a = allocate(v, pd.Series([2, pd.NA], index=["u1", "u2"], dtype="Int64"))
    assert a.seats.loc["u2"].tolist() == [0]
    assert a.totals().to_dict() == {"A": 2}


def test_dhondt_last_seat_margin_kandal_shape() -> None:
    # CPP 5, CNRP 6 of 11; CNRP's 7th quotient needs to beat CPP's 5th.
    v = pd.DataFrame({"CPP": [300_000], "CNRP": [419_000]}, index=["Kandal"])
    a = allocate(v, pd.Series([11], index=["Kandal"]))
    assert a.seats.loc["Kandal"].tolist() == [5, 6]
    ls = a.last_seat["Kandal"]
    assert ls is not None and ls.holder == "CPP" and ls.challenger == "CNRP"
    # (419_000 + x) / 7 ≥ 300_000 / 5 ⇔ x ≥ 1_000; at equality CNRP has more votes and wins.
    assert ls.votes_needed == 1_000
    assert a.next_seat.at["Kandal", "CNRP"] == 1_000
    strict = allocate(v, pd.Series([11], index=["Kandal"]), rules=SeatRules(tie="undecided"))
    assert strict.last_seat["Kandal"].votes_needed == 1_001
    # CPP keeps its 5th seat while (300_000 - y) / 5 > 419_000 / 7 ≈ 59_857.14 ⇔ y ≤ 714
    assert ls.holder_can_lose == 714


def test_spain_congreso_every_constituency_reproduced() -> None:
    """D'Hondt, 3 % of valid votes (blank included), ties to more votes: the official seats."""
    path = shared_path("data", "seats", "spain_congreso_2000_2016.csv")
    df = pd.read_csv(path, keep_default_na=False)  # "NA" is a party (Nación Andaluza)
    for election, rows in df.groupby("election"):
        votes = rows.pivot_table(
            index="district", columns="party", values="votes", aggfunc="sum"
        ).astype("Int64")
        units = rows.groupby("district").first()
        a = allocate(
            votes,
            units["seats"],
            valid=units["valid_votes"],
            rules=SeatRules(method="dhondt", threshold=0.03),
        )
        expected = rows.pivot_table(
            index="district", columns="party", values="seats_won", aggfunc="sum"
        ).fillna(0)
        got = a.seats.reindex_like(expected)
        assert (got.to_numpy() == expected.to_numpy()).all(), election
        assert int(a.undecided.sum()) == 0


def _seats_of(votes: list[int], seats: int, rules: SeatRules) -> tuple[list[int], int]:
    v = pd.DataFrame([votes], index=["u"], columns=[f"P{i}" for i in range(len(votes))])
    a = allocate(v, pd.Series([seats], index=["u"]), rules=rules)
    return a.seats.loc["u"].tolist(), int(a.undecided["u"])


@pytest.mark.parametrize("method", ["dhondt", "sainte-lague", "sainte-lague-modified", "fptp"])
@pytest.mark.parametrize("tie", ["more-votes", "undecided"])
def test_margins_by_brute_force(method: str, tie: str) -> None:
    """votes_needed gives the challenger a seat and one vote fewer does not; the holder keeps
    its seat losing holder_can_lose votes and loses it with one more; likewise next_seat."""
    rng = np.random.default_rng(7)
    rules = SeatRules(method=method, tie=tie)  # type: ignore[arg-type]
    checked = 0
    for _ in range(120):
        parties = int(rng.integers(2, 6))
        seats = 1 if method == "fptp" else int(rng.integers(1, 9))
        votes = [int(x) for x in rng.integers(0, 2_000, size=parties)]
        base, undecided = _seats_of(votes, seats, rules)
        if undecided or sum(votes) == 0:
            continue
        v = pd.DataFrame([votes], index=["u"], columns=[f"P{i}" for i in range(parties)])
        a = allocate(v, pd.Series([seats], index=["u"]), rules=rules)
        for p in range(parties):
            need = a.next_seat.iat[0, p]
            if need is pd.NA:
                continue
            more = list(votes)
            more[p] += int(need)
            assert _seats_of(more, seats, rules)[0][p] == base[p] + 1, (votes, p, need)
            if need > 0:
                more[p] -= 1
                assert _seats_of(more, seats, rules)[0][p] == base[p], (votes, p, need)
            checked += 1
        ls = a.last_seat["u"]
        if ls is None or ls.challenger is None:
            continue
        h = int(ls.holder[1:])
        lose = list(votes)
        lose[h] -= ls.holder_can_lose
        assert _seats_of(lose, seats, rules)[0][h] == base[h], (votes, ls)
        if lose[h] > 0:
            lose[h] -= 1
            after, und = _seats_of(lose, seats, rules)
            assert after[h] < base[h] or und, (votes, ls)
    assert checked > 60


def test_challenger_is_the_party_next_in_line() -> None:
    # Kampong Cham shape: CPP's next quotient is next in line, not the small party that
    # would need the fewest votes relative to its size.
    v = pd.DataFrame({"CNRP": [461_864], "CPP": [381_755], "FUNCINPEC": [23_749]}, index=["u"])
    a = allocate(v, pd.Series([18], index=["u"]))
    assert a.seats.loc["u"].tolist() == [10, 8, 0]
    ls = a.last_seat["u"]
    assert ls is not None and (ls.holder, ls.challenger) == ("CNRP", "CPP")
    # CNRP's 10th quotient 46,186.4 must stay above CPP's 9th, 42,417.2.
    assert ls.holder_can_lose == 461_864 - 424_173


def test_a_huge_unit_does_not_inflate_the_others() -> None:
    v = pd.DataFrame({"A": [10] * 1000 + [5_000], "B": [5] * 1000 + [4_000]})
    v.index = [f"u{i}" for i in range(1001)]
    seats = pd.Series([1] * 1000 + [1_000], index=v.index)
    a = allocate(v, seats)
    assert a.totals().to_dict() == {"A": 1000 + 556, "B": 444}


@pytest.mark.parametrize(
    ("seats", "rules", "message"),
    [
        (-1, SeatRules(), "seats must be from 0"),
        (1_001, SeatRules(), "seats must be from 0"),
        (3, SeatRules(method="dhont"), "unknown seats method"),  # type: ignore[arg-type]
        (3, SeatRules(threshold=1.5), "threshold must be a fraction"),
        (3, SeatRules(tie="coin"), "unknown tie rule"),  # type: ignore[arg-type]
    ],
)
def test_bad_rules_are_clear_errors(seats: int, rules: SeatRules, message: str) -> None:
    v = pd.DataFrame({"A": [10]}, index=["u"])
    with pytest.raises(ValueError, match=message):
        allocate(v, pd.Series([seats], index=["u"]), rules=rules)


def test_no_seats_or_no_parties_is_an_explicit_no_allocation() -> None:
    v = pd.DataFrame({"A": [10, 0]}, index=["zero-seats", "no-votes"])
    a = allocate(v, pd.Series([0, 3], index=v.index))
    assert a.seats.to_numpy().tolist() == [[0], [0]]
    assert a.undecided.tolist() == [0, 3]
    assert a.last_seat == {"zero-seats": None, "no-votes": None}
    empty = allocate(pd.DataFrame(index=["u"]), pd.Series([3], index=["u"]))
    assert empty.undecided.tolist() == [3] and empty.last_seat == {"u": None}
