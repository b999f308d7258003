"""The compare engine: sources matched through aliases and names, differences, their order,
what cannot be matched (listed, never dropped), and seat claims against the official count."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from nightdesk import config as cfg
from nightdesk.aliases import Aliases
from nightdesk.compare import compare_sources, count_of, count_of_snapshot, national_seats
from nightdesk.demo.definition import PROVINCES
from nightdesk.model import Party, Snapshot
from nightdesk.results import assess
from nightdesk.seat_claim import claim_snapshot

NOW = datetime(2013, 7, 28, 12, 0, tzinfo=UTC)
K = 10_000
ELECTION = cfg.parse(
    """
[election]
name = "National Assembly 2013"
[[sources]]
name = "nec"
url = "nec.csv"
format = "csv"
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
"""
).election
PARTIES = {
    "CPP": Party("CPP", "Cambodian People's Party", "CPP"),
    "CNRP": Party("CNRP", "Cambodia National Rescue Party", "CNRP"),
}


def official_votes() -> dict[str, tuple[int, int]]:
    """Votes per province that give the real 2013 split under D'Hondt: 68–55."""
    return {
        p.name: (p.cpp_seats * K + 7, p.cnrp_seats * K if p.cnrp_seats else K // 3)
        for p in PROVINCES
    }


def snapshot(
    source: str,
    votes: dict[str, tuple[int, int]],
    *,
    ids: dict[str, str] | None = None,
    parties: tuple[str, str] = ("CPP", "CNRP"),
    names: dict[str, str] | None = None,
) -> Snapshot:
    """A snapshot of ``votes`` (unit name → CPP, CNRP); ``ids``: unit name → the id the
    source uses; ``names``: party id → name."""
    ids = ids or {}
    seats = {p.name: p.seats for p in PROVINCES}
    index = [ids.get(u, u) for u in votes]
    frame = pd.DataFrame(list(votes.values()), index=index, columns=list(parties))
    units = pd.DataFrame(
        {"name": list(votes), "seats": [seats.get(u, 1) for u in votes]}, index=index
    )
    party_table = (
        {p: Party(p, (names or {}).get(p, p)) for p in parties}
        if parties != ("CPP", "CNRP") or names
        else PARTIES
    )
    return Snapshot.build(
        source=source, votes=frame, units=units, parties=party_table, fetched_at=NOW
    )


def result(snap: Snapshot):  # type: ignore[no-untyped-def]
    return assess(snap, None, ELECTION)


def test_the_official_count_gives_68_55() -> None:
    totals = result(snapshot("nec", official_votes())).allocation.totals()
    assert totals.to_dict() == {"CPP": 68, "CNRP": 55}


def test_a_national_claim_against_the_official_count() -> None:
    """The seed: the opposition claimed 63 seats against the official 55."""
    claim = claim_snapshot(source="cnrp", parties=["CNRP"], seats=[63], units=None, fetched_at=NOW)
    found = compare_sources(
        [count_of(result(snapshot("nec", official_votes()))), count_of(result(claim))]
    )
    national = found.national
    assert national.loc["CNRP", ("nec", "seats")] == 55
    assert national.loc["CNRP", ("cnrp", "seats")] == 63
    assert national.loc["CNRP", ("cnrp", "seats_diff")] == 8
    assert pd.isna(national.loc["CPP", ("cnrp", "seats")])  # not claimed: not a difference
    assert found.claims == {"cnrp"}
    assert found.disagreeing == 0  # a national claim says nothing about any unit
    assert found.unmatched == ()  # a claim need not name every unit or party
    seats = national_seats(
        [count_of(result(snapshot("nec", official_votes()))), count_of(result(claim))]
    )
    assert seats == {"nec": {"CPP": 68, "CNRP": 55}, "cnrp": {"CNRP": 63}}


def tally_votes() -> dict[str, tuple[int, int]]:
    """A parallel tally that disagrees in three provinces by known amounts."""
    votes = official_votes()
    cpp, cnrp = votes["Takeo"]
    votes["Takeo"] = (cpp - 1_694, cnrp + 890)
    cpp, cnrp = votes["Kratie"]
    votes["Kratie"] = (cpp - 1_532, cnrp)
    cpp, cnrp = votes["Kandal"]
    votes["Kandal"] = (cpp, cnrp + 5_000)
    return votes


def test_units_are_ordered_by_the_largest_vote_difference() -> None:
    nec = count_of(result(snapshot("nec", official_votes())))
    tally = count_of(result(snapshot("tally", tally_votes())))
    found = compare_sources([nec, tally])
    assert list(found.units.index[:4]) == ["Kandal", "Takeo", "Kratie", "Banteay Meanchey"]
    assert found.units["votes_off"].tolist()[:4] == [5_000, 1_694, 1_532, 0]
    assert found.disagreeing == 3
    # The agreeing units keep the feed's order, after every disagreement.
    rest = [p.name for p in PROVINCES if p.name not in ("Kandal", "Takeo", "Kratie")]
    assert list(found.units.index[3:]) == rest
    takeo = found.cells.loc["Takeo"]
    assert takeo[("tally", "votes_diff")].to_dict() == {"CPP": -1_694, "CNRP": 890}
    assert takeo[("tally", "seats_diff")].to_dict() == {"CPP": 0, "CNRP": 0}
    assert takeo[("nec", "votes_diff")].isna().all()
    assert found.unmatched == ()


def test_a_seat_difference_breaks_a_tie_in_votes() -> None:
    base = snapshot("nec", {"A": (100, 50), "B": (100, 50), "C": (100, 50)})
    other = snapshot("obs", {"A": (110, 50), "B": (110, 50), "C": (100, 50)})
    seats = pd.DataFrame({"CPP": [1, 1, 1], "CNRP": [0, 0, 0]}, index=["A", "B", "C"])
    moved = seats.copy()
    moved.loc["B"] = [0, 1]
    found = compare_sources([count_of_snapshot(base, seats), count_of_snapshot(other, moved)])
    assert list(found.units.index) == ["B", "A", "C"]
    assert found.units["seats_off"].tolist() == [1, 0, 0]
    assert found.units["disagree"].tolist() == [True, True, False]


def test_aliases_names_and_unmatched_names() -> None:
    official = {u: official_votes()[u] for u in ("Phnom Penh", "Kandal", "Takeo", "Pailin")}
    nec = count_of(result(snapshot("nec", official)))
    tally_units = {
        "Phnom Penh Capital": official["Phnom Penh"],  # an alias
        "Kandal": (official["Kandal"][0], official["Kandal"][1] + 166),  # by name, id differs
        "Takeo": official["Takeo"],
        "Kep City": (900, 500),  # nobody's: listed
    }
    tally = count_of(
        result(
            snapshot(
                "tally",
                tally_units,
                ids={"Kandal": "KDL", "Takeo": "TK"},
                parties=("PP", "NRP"),
                names={"PP": "cambodian  people's party", "NRP": "Sam Rainsy Party"},
            )
        )
    )
    aliases = Aliases(units={"Phnom Penh Capital": "Phnom Penh"}, parties={})
    found = compare_sources([nec, tally], aliases)
    # CPP matched by its name (case and spaces aside); "Sam Rainsy Party" by nothing.
    assert found.cells.loc[("Phnom Penh", "CPP"), ("tally", "votes")] == official["Phnom Penh"][0]
    assert pd.isna(found.cells.loc[("Kandal", "CNRP"), ("tally", "votes")])
    lines = [u.text() for u in found.unmatched]
    assert lines == [
        'tally: unit "Kep City" — not in nec',
        'tally: party "Sam Rainsy Party (NRP)" — not in nec',
        'nec: unit "Pailin" — not in tally',
        'nec: party "Cambodia National Rescue Party (CNRP)" — not in tally',
    ]
    # With the party alias the 166 votes in Kandal show.
    aliased = compare_sources(
        [nec, tally],
        Aliases(units={"Phnom Penh Capital": "Phnom Penh"}, parties={"NRP": "CNRP"}),
    )
    assert aliased.units.index[0] == "Kandal"
    assert aliased.cells.loc[("Kandal", "CNRP"), ("tally", "votes_diff")] == 166
    assert [u.id for u in aliased.unmatched] == ["Kep City", "Pailin"]


def test_two_units_for_one_are_both_kept() -> None:
    nec = count_of_snapshot(snapshot("nec", {"Kandal": (10, 5)}))
    other = count_of_snapshot(
        snapshot("obs", {"Kandal": (10, 5), "Kandal ": (11, 5)}, ids={"Kandal ": "kandal"})
    )
    found = compare_sources([nec, other])
    assert found.cells.loc[("Kandal", "CPP"), ("obs", "votes")] == 10  # the id match wins
    assert [(u.id, u.note) for u in found.unmatched] == [
        ("kandal", "also matches 'Kandal', which nec has once")
    ]


def test_a_claim_per_unit_differs_in_seats_only() -> None:
    nec = count_of(result(snapshot("nec", official_votes())))
    claim = claim_snapshot(
        source="cnrp",
        parties=["CNRP", "CNRP", "CPP"],
        seats=[7, 4, 4],
        units=["Kandal", "Takeo", "Kandal"],
        fetched_at=NOW,
    )
    found = compare_sources([nec, count_of(result(claim))])
    # Kandal: CNRP claims 7 against 6 (and CPP 4 against 5); Takeo's 4 agree.
    assert found.units.index[0] == "Kandal"
    assert found.units["seats_off"].tolist()[:2] == [1, 0]
    assert found.disagreeing == 1
    kandal = found.cells.loc["Kandal"]
    assert kandal[("cnrp", "seats")].to_dict() == {"CPP": 4, "CNRP": 7}
    assert kandal[("cnrp", "seats_diff")].to_dict() == {"CPP": -1, "CNRP": 1}
    assert kandal[("cnrp", "votes")].isna().all()
    assert found.national.loc["CNRP", ("cnrp", "seats")] == 11
    assert found.unmatched == ()


@pytest.mark.parametrize("units", [None, ["Kandal"]])
def test_a_changed_claim_is_a_new_snapshot(units: list[str] | None) -> None:
    make = lambda n: claim_snapshot(  # noqa: E731
        source="cnrp", parties=["CNRP"], seats=[n], units=units, fetched_at=NOW
    )
    assert make(63).same_counts(make(63))
    assert make(63).content_key() == make(63).content_key()
    assert not make(63).same_counts(make(64))
    assert make(63).content_key() != make(64).content_key()
    # A stored claim read back is a plain snapshot (no seats): not the same as the claim.
    plain = Snapshot.build(source="cnrp", votes=make(63).votes, fetched_at=NOW)
    assert not make(63).same_counts(plain)
