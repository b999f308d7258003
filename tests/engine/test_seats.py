from __future__ import annotations

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
    # (419_000 + x) / 7 > 300_000 / 5  ⇔  x > 1_000
    assert ls.votes_needed == 1_001
    assert a.next_seat.at["Kandal", "CNRP"] == 1_001
    # CPP keeps its 5th seat while (300_000 - y) / 5 > 419_000 / 7 ≈ 59_857.14 ⇔ y ≤ 714
    assert ls.holder_can_lose == 714


def test_spain_congreso_every_constituency_reproduced() -> None:
    """D'Hondt, 3 % of valid votes (blank included), ties to more votes: the official seats."""
    path = shared_path("data", "seats", "spain_congreso_2000_2016.csv")
    df = pd.read_csv(path)
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
