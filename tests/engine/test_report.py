"""The ``snapshot`` document's extensions: test races, race calls, vote types, and national
totals that count each vote once when units nest."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from nightdesk import config as config_mod
from nightdesk.model import Party, Race, Snapshot
from nightdesk.report import CSV_COLUMNS, csv_records, national, race_document
from nightdesk.results import assess

CONFIG = config_mod.parse(
    """
[election]
name = "Primary"
timezone = "America/New_York"
seats_method = "fptp"

[[sources]]
name = "ap"
url = "ap.json"
format = "csv"
[sources.columns]
unit = "unit"
party = "party"
votes = "votes"
"""
)
T0 = datetime(2018, 5, 22, 23, 0, tzinfo=UTC)


def document(snapshot: Snapshot) -> dict:
    doc = race_document("ap", assess(snapshot, None, CONFIG.election), CONFIG)
    json.dumps(doc)  # JSON-able as it is
    return doc


def nested(**kw: object) -> Snapshot:
    """A state row (the feed's own totals) and its two counties."""
    votes = pd.DataFrame(
        {"Kemp": [30, 10, 20], "Cagle": [25, 15, 10]},
        index=["GA", "GA/Fulton", "GA/Cobb"],
        dtype="Int64",
    )
    units = pd.DataFrame(
        {"name": ["Georgia", "Fulton", "Cobb"], "parent": [None, "GA", "GA"], "seats": [1, 1, 1]},
        index=votes.index,
    )
    return Snapshot.build(source="ap", votes=votes, units=units, fetched_at=T0, **kw)  # type: ignore[arg-type]


def test_national_totals_count_the_top_level_only() -> None:
    snap = nested()
    assert national(snap).index.tolist() == ["GA"]
    totals = document(snap)["totals"]
    assert totals["Kemp"]["votes"] == 30 and totals["Cagle"]["votes"] == 25
    assert totals["Kemp"]["share"] == pytest.approx(30 / 55)
    units = document(snap)["units"]
    assert [u["parent"] for u in units] == [None, "GA", "GA"]


def test_a_flat_snapshot_sums_every_unit() -> None:
    snap = Snapshot.build(
        source="ap", votes=pd.DataFrame({"A": [1, 2]}, index=["u", "v"]), fetched_at=T0
    )
    assert national(snap) is snap.votes
    assert document(snap)["totals"]["A"]["votes"] == 3


def test_test_races_and_race_calls_are_in_the_document() -> None:
    parties = {
        "Kemp": Party("Kemp", "Brian Kemp", called="runoff"),
        "Cagle": Party("Cagle", "Casey Cagle", called="runoff"),
    }
    snap = nested(race=Race("10", "Governor - Rep", test=True), parties=parties)
    doc = document(snap)
    assert doc["race"] == {"id": "10", "name": "Governor - Rep", "test": True}
    assert doc["called"] == {"Kemp": "runoff", "Cagle": "runoff"}
    assert doc["totals"]["Kemp"]["called"] == "runoff"
    live = document(nested(race=Race("10", "Governor - Rep")))
    assert live["race"]["test"] is False
    assert live["called"] == {} and live["totals"]["Kemp"]["called"] is None
    assert "vote_types" not in live["units"][0]  # only when the feed splits the votes


def test_vote_types_per_unit() -> None:
    index = ["GA", "GA/Fulton", "GA/Cobb"]
    day = pd.DataFrame({"Kemp": [20, 5, 15], "Cagle": [20, 10, 10]}, index=index)
    mail = pd.DataFrame({"Kemp": [10, 5, 5], "Cagle": [5, 5, None]}, index=index)
    snap = nested(vote_types={"Election Day": day, "Absentee by Mail": mail})
    fulton, cobb = document(snap)["units"][1:]
    assert fulton["vote_types"] == {
        "Election Day": {"Kemp": 5, "Cagle": 10},
        "Absentee by Mail": {"Kemp": 5, "Cagle": 5},
    }
    assert cobb["vote_types"]["Absentee by Mail"] == {"Kemp": 5, "Cagle": None}


def test_csv_keeps_the_contract_columns_first_and_adds_calls_and_test_at_the_end() -> None:
    assert CSV_COLUMNS[:11] == [
        "source", "race", "unit_id", "unit_name", "parent", "seats", "reporting",
        "party", "votes", "share", "seats_won",
    ]  # fmt: skip
    assert CSV_COLUMNS[-2:] == ["called", "race_test"]
    parties = {"Kemp": Party("Kemp", "Brian Kemp", called="winner"), "Cagle": Party("Cagle", "C")}
    doc = {"sources": [document(nested(race=Race("10", "Governor", test=True), parties=parties))]}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_records(doc))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 6
    assert {(r["party"], r["called"]) for r in rows} == {("Kemp", "winner"), ("Cagle", "")}
    assert {r["race_test"] for r in rows} == {"True"}
