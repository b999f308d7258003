from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nightdesk.seats import LastSeat, SeatRules, allocate
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


def _seats_of(rows: list[list[int]], seats: int, rules: SeatRules) -> np.ndarray:
    """Seats of many what-if tables at once (one row each), without margins."""
    v = pd.DataFrame(rows, columns=[f"P{i}" for i in range(len(rows[0]))])
    a = allocate(v, pd.Series(seats, index=v.index), rules=rules, margins=False)
    return a.seats.to_numpy()


@pytest.mark.parametrize(
    "method", ["dhondt", "sainte-lague", "sainte-lague-modified", "hare", "droop", "fptp"]
)
@pytest.mark.parametrize("tie", ["more-votes", "undecided"])
def test_margins_by_brute_force(method: str, tie: str) -> None:
    """votes_needed gives the challenger a seat and one vote fewer does not; the holder keeps
    its seats losing holder_can_lose votes and loses one with one more; likewise next_seat.
    (tests/engine/test_seats_properties.py checks every count below the margin.)"""
    rng = np.random.default_rng(7)
    rules = SeatRules(method=method, tie=tie)  # type: ignore[arg-type]
    checked = 0
    for _ in range(120):
        parties = int(rng.integers(2, 6))
        seats = 1 if method == "fptp" else int(rng.integers(1, 9))
        votes = [int(x) for x in rng.integers(0, 2_000, size=parties)]
        if sum(votes) == 0:
            continue
        v = pd.DataFrame([votes], index=["u"], columns=[f"P{i}" for i in range(parties)])
        a = allocate(v, pd.Series([seats], index=["u"]), rules=rules)
        base = a.seats.loc["u"].to_numpy()
        rows, party, low, high = [], [], [], []
        for p in range(parties):
            need = a.next_seat.iat[0, p]
            if need is pd.NA:
                assert base[p] == (1 if method == "fptp" else seats)
                continue
            for x, lo, hi in ((int(need), base[p] + 1, seats), (int(need) - 1, 0, base[p])):
                rows.append([n + (x if i == p else 0) for i, n in enumerate(votes)])
                party.append(p), low.append(lo), high.append(hi)
            checked += 1
        ls = a.last_seat["u"]
        if ls is not None:
            h, y = int(ls.holder[1:]), ls.holder_can_lose
            assert y is not None and y < votes[h]
            for lost, lo, hi in ((y, base[h], seats), (y + 1, 0, base[h] - 1)):
                rows.append([n - (lost if i == h else 0) for i, n in enumerate(votes)])
                party.append(h), low.append(lo), high.append(hi)
            if ls.challenger is not None:
                assert ls.votes_needed == a.next_seat.at["u", ls.challenger]
        if rows:
            won = _seats_of(rows, seats, rules)[np.arange(len(rows)), party]
            assert ((np.array(low) <= won) & (won <= np.array(high))).all(), (votes, seats)
    assert checked > 200


def test_largest_remainder_last_seat() -> None:
    """The holder won the smallest remainder that won; the challenger has the largest that
    did not. Hare, 7 seats: quota 14,285.7; remainders .71 (A) .68 (B) .61 (C)."""
    v = pd.DataFrame({"A": [53_000], "B": [24_000], "C": [23_000]}, index=["u"])
    a = allocate(v, pd.Series([7], index=["u"]), rules=SeatRules(method="hare"))
    assert a.seats.loc["u"].tolist() == [4, 2, 1]
    # C at 24,000 ties B's remainder (equal votes: undecided); one more and C has it.
    assert a.last_seat["u"] == LastSeat("B", "C", votes_needed=1_001, holder_can_lose=999)
    assert a.next_seat.loc["u"].tolist() == [24_250, 15_500, 1_001]
    # Every seat by whole quotas: the smallest remainder of a party with seats holds the
    # last one (all zero here: the fewest votes is last in line).
    whole = pd.DataFrame({"A": [300], "B": [200], "C": [100]}, index=["u"])
    a = allocate(whole, pd.Series([6], index=["u"]), rules=SeatRules(method="hare"))
    assert a.seats.loc["u"].tolist() == [3, 2, 1]
    assert (a.last_seat["u"].holder, a.last_seat["u"].challenger) == ("C", "A")


def test_threshold_can_make_a_seat_cheaper() -> None:
    """42 more votes for B push C (176) under 5 % of 3,521 and free its seat; the quotients
    alone would say 96 (the margin is exact with the threshold's base growing)."""
    v = pd.DataFrame({"A": [2_379], "B": [924], "C": [176]}, index=["u"])
    rules = SeatRules(threshold=0.05)
    a = allocate(v, pd.Series([20], index=["u"]), rules=rules)
    assert a.seats.loc["u"].tolist() == [14, 5, 1]
    assert a.last_seat["u"] == LastSeat("A", "B", votes_needed=42, holder_can_lose=223)
    assert a.next_seat.loc["u"].tolist() == [42, 42, 164]
    assert _seats_of([[2_379, 924 + 42, 176], [2_379, 924 + 41, 176]], 20, rules)[
        :, 1
    ].tolist() == [6, 5]
    plain = allocate(v, pd.Series([20], index=["u"]))
    assert plain.last_seat["u"].votes_needed == 96


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
        (3, SeatRules(threshold=1.0), "threshold must be a fraction"),
        (3, SeatRules(threshold=-0.01), "threshold must be a fraction"),
        (3, SeatRules(threshold=float("nan")), "threshold must be a fraction"),
        (3, SeatRules(national_threshold=1.0), "national_threshold must be a fraction"),
        (3, SeatRules(tie="coin"), "unknown tie rule"),  # type: ignore[arg-type]
        (2.5, SeatRules(), "seats must be whole numbers"),
    ],
)
def test_bad_rules_are_clear_errors(seats: float, rules: SeatRules, message: str) -> None:
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


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        ({"A": [-1]}, "votes must not be negative"),
        ({"A": [10.5]}, "votes must be whole numbers"),
        ({"A": ["ten"]}, "votes must be whole numbers"),
    ],
)
def test_bad_votes_are_clear_errors(votes: dict[str, list[object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        allocate(pd.DataFrame(votes, index=["u"]), pd.Series([3], index=["u"]))


def test_a_party_without_votes_gets_nothing_but_has_a_way_in() -> None:
    v = pd.DataFrame({"A": [100], "B": [0]}, index=["u"])
    a = allocate(v, pd.Series([2], index=["u"]))
    assert a.seats.loc["u"].tolist() == [2, 0]
    assert not a.eligible.at["u", "B"]
    assert a.last_seat["u"] == LastSeat("A", None, votes_needed=None, holder_can_lose=99)
    assert a.next_seat.loc["u"].tolist() == [pd.NA, 51]  # 51/1 beats 100/2


def test_national_threshold_is_taken_as_it_stands() -> None:
    """A party under the national threshold takes no seat anywhere and has no next seat
    (votes in one unit are not assumed to lift it nationally)."""
    v = pd.DataFrame({"A": [600, 500], "B": [380, 450], "C": [20, 50]}, index=["u1", "u2"])
    rules = SeatRules(national_threshold=0.05)  # C has 70 of 2,000 nationally: 3.5 %
    a = allocate(v, pd.Series([5, 5], index=v.index), rules=rules)
    assert not a.eligible["C"].any()
    assert a.seats["C"].tolist() == [0, 0]
    assert a.next_seat["C"].isna().all()
    assert a.next_seat[["A", "B"]].notna().all().all()
