"""Export and replay carry what the store keeps of a race: its test flag and its calls, for
stores written today and for stores written before (schema 1)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd

from nightdesk import config as config_mod
from nightdesk.export import CSV_COLUMNS, csv_rows, export_document
from nightdesk.model import Race, Snapshot
from nightdesk.polling import SourceState
from nightdesk.replay import Replayer
from nightdesk.store import HistoryStore
from tests.engine.schema1_night import FILE, T0, evidence

CONFIG = config_mod.parse(
    """
[election]
name = "Test night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "results.csv"
format = "csv"
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
"""
)


def snap(minute: int, race: Race, b: int, called: str | None = None) -> Snapshot:
    units = pd.DataFrame({"seats": [1, 1]}, index=["t", "k"])
    parties = pd.DataFrame({"called": [None, called]}, index=["A", "B"])
    return Snapshot.build(
        source="nec",
        votes=pd.DataFrame({"A": [10, 20], "B": [b, 30]}, index=["t", "k"], dtype="Int64"),
        units=units,
        parties=parties,
        fetched_at=T0 + timedelta(minutes=minute),
        race=race,
    )


def night(path: Path) -> None:
    rehearsal, live = Race("s", "Senate", test=True), Race("s", "Senate")
    with HistoryStore.open(path) as store:
        for k, s in enumerate(
            [snap(0, rehearsal, 5), snap(1, live, 5), snap(2, live, 15, called="winner")]
        ):
            store.record(evidence(b"%d" % k, s.fetched_at), [s])  # type: ignore[arg-type]


def test_export_carries_the_test_flag_and_the_calls(tmp_path: Path) -> None:
    path = tmp_path / "night.sqlite"
    night(path)
    with HistoryStore.open(path) as store:
        document = export_document(CONFIG, store)
    (source,) = document["sources"]
    assert source["race"] == {"id": "s", "name": "Senate", "test": False}
    assert source["called"] == {"B": "winner"}
    assert source["totals"]["B"]["called"] == "winner" and source["totals"]["A"]["called"] is None
    assert source["evidence"]["snapshot"] == 3
    assert {(c["unit_id"], c["item"], c["after"]) for c in document["changes"]} == {("t", "B", 15)}
    rows = list(csv_rows(document))
    assert set(rows[0]) <= set(CSV_COLUMNS) and CSV_COLUMNS[-2:] == ["called", "race_test"]
    state = [r for r in rows if r["record"] == "state"]
    assert {(r["party"], r["called"], r["race_test"]) for r in state} == {
        ("A", "", False),
        ("B", "winner", False),
    }


async def test_replay_shows_test_data_then_the_call(tmp_path: Path) -> None:
    path = tmp_path / "night.sqlite"
    night(path)
    seen: list[SourceState] = []
    with HistoryStore.open(path) as store:
        replayer = Replayer(CONFIG, store, speed=1e6)
        replayer.subscribe(seen.append)
        await replayer.start()
        await asyncio.wait_for(replayer.finished.wait(), 10)
        await replayer.stop()
    snapshots = [state.results[0].snapshot for state in seen]
    assert [s.race.test for s in snapshots if s.race] == [True, False, False]
    assert [s.parties.at["B", "called"] for s in snapshots][-1] == "winner"
    assert snapshots[0].parties["called"].isna().all()


def test_a_store_written_before_calls_exports(tmp_path: Path) -> None:
    path = tmp_path / FILE
    shutil.copyfile(Path(__file__).parent / "data" / FILE, path)
    with HistoryStore.open(path) as store:
        document = export_document(CONFIG, store)
    by_race = {s["race"]["id"] if s["race"] else "": s for s in document["sources"]}
    assert by_race["s"]["race"] == {"id": "s", "name": "Senate", "test": False}
    assert by_race["s"]["called"] == {}
    assert by_race["s"]["totals"]["C"]["votes"] == 1
    assert by_race[""]["race"] is None
    assert len(document["changes"]) == 4
