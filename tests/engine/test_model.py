from __future__ import annotations

import pandas as pd
import pytest

from nightdesk import FeedError, Snapshot


def snap(votes: dict[str, list[object]], index: list[str], **kw: object) -> Snapshot:
    return Snapshot.build(source="t", votes=pd.DataFrame(votes, index=index), **kw)


def test_votes_are_nullable_int64_and_not_reported_is_not_zero() -> None:
    s = snap({"A": [0, None], "B": [5, 7]}, ["u1", "u2"])
    assert (s.votes.dtypes == "Int64").all()
    assert s.votes.at["u1", "A"] == 0
    assert s.votes.at["u2", "A"] is pd.NA
    assert s.party_totals()["A"] == 0


def test_units_table_has_every_figure_with_typed_columns() -> None:
    units = pd.DataFrame({"seats": [3, 1], "reporting": [0.5, 1.0]}, index=["u1", "u2"])
    s = snap({"A": [1, 2]}, ["u1", "u2"], units=units)
    assert s.units.at["u1", "seats"] == 3
    assert s.units.at["u1", "name"] == "u1"  # a unit with no name is called by its id
    assert str(s.units["registered"].dtype) == "Int64"
    assert s.units["registered"].isna().all()


def test_unit_with_figures_but_no_votes_is_kept_as_not_reported() -> None:
    units = pd.DataFrame({"seats": [3, 1]}, index=["u1", "u2"])
    s = snap({"A": [1]}, ["u1"], units=units)
    assert s.unit_ids == ["u1", "u2"]
    assert s.votes.at["u2", "A"] is pd.NA


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        ({"A": [-1]}, "negative"),
        ({"A": [1.5]}, "whole numbers"),
    ],
)
def test_bad_votes_are_feed_errors(votes: dict[str, list[object]], message: str) -> None:
    with pytest.raises(FeedError, match=message) as info:
        snap(votes, ["u1"])
    assert info.value.source == "t"


def test_duplicate_units_are_refused() -> None:
    with pytest.raises(FeedError, match="unit 'u1' appears twice"):
        snap({"A": [1, 2]}, ["u1", "u1"])


@pytest.mark.parametrize("reporting", [-0.1, float("inf")])
def test_reporting_must_be_a_finite_fraction_of_0_or_more(reporting: float) -> None:
    units = pd.DataFrame({"reporting": [reporting]}, index=["u1"])
    with pytest.raises(FeedError, match="fraction"):
        snap({"A": [1]}, ["u1"], units=units)


def test_reporting_above_1_is_kept_to_be_flagged() -> None:
    # nightdesk.checks flags it (over_100): the desk sees what the feed said.
    units = pd.DataFrame({"reporting": [1.5]}, index=["u1"])
    assert snap({"A": [1]}, ["u1"], units=units).units.at["u1", "reporting"] == 1.5


def test_content_key_ignores_times_and_source_but_not_counts() -> None:
    from datetime import UTC, datetime

    a = snap({"A": [1, 2]}, ["u1", "u2"], fetched_at=datetime(2013, 7, 28, tzinfo=UTC))
    b = snap({"A": [1, 2]}, ["u1", "u2"], fetched_at=datetime(2013, 7, 29, tzinfo=UTC))
    c = snap({"A": [1, 3]}, ["u1", "u2"])
    d = snap({"A": [1, None]}, ["u1", "u2"])
    e = snap({"A": [1, 0]}, ["u1", "u2"])
    assert a.same_counts(b)
    assert not a.same_counts(c)
    assert not d.same_counts(e)  # not reported ≠ zero


def test_unit_valid_prefers_the_feeds_figure_then_votes_plus_blank() -> None:
    units = pd.DataFrame({"valid": [100, None], "blank": [5, 3]}, index=["u1", "u2"])
    s = snap({"A": [40, 10], "B": [50, 20]}, ["u1", "u2"], units=units)
    assert list(s.unit_valid()) == [100, 33]


def test_control_characters_in_names_and_ids_are_neutralised() -> None:
    hostile = "Esc\x1b[2J\x1b]0;PWNED\x07\x1b[31mRed"
    units = pd.DataFrame({"name": [hostile], "parent": ["\x9bX"]}, index=[hostile])
    s = Snapshot.build(
        source="t", votes=pd.DataFrame({"P\x1b[1m": [1]}, index=[hostile]), units=units
    )
    for text in [
        *s.unit_ids,
        *s.party_ids,
        s.units["name"].iloc[0],
        s.units["parent"].iloc[0],
        s.parties["name"].iloc[0],
    ]:
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text), repr(text)
    assert s.units["name"].iloc[0] == "Esc\ufffd[2J\ufffd]0;PWNED\ufffd\ufffd[31mRed"
    assert (
        Snapshot.build(source="t", votes=pd.DataFrame({"[bold]": [1]}, index=["u"])).party_ids[0]
        == "[bold]"
    )  # markup is not a control character: it stays, shown literally


def test_implausible_counts_and_seats_are_refused() -> None:
    with pytest.raises(FeedError, match="larger than"):
        snap({"A": [10**12]}, ["u1"])
    units = pd.DataFrame({"seats": [1_001]}, index=["u1"])
    with pytest.raises(FeedError, match="more than 1,000 seats"):
        snap({"A": [1]}, ["u1"], units=units)
    big = snap({"A": [10**12 - 1] * 12}, [f"u{i}" for i in range(12)])
    assert big.party_totals()["A"] == 12 * (10**12 - 1)  # no overflow
