"""A store written before race calls and test races (schema 1) opens, reads exactly as it
was written (no calls, no test data) and takes new snapshots with calls."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from nightdesk.model import Race, Snapshot
from nightdesk.store import SCHEMA, HistoryStore
from tests.engine.schema1_night import FILE, SENATE, T0, evidence, night
from tests.engine.test_cells import assert_same

OLD = Path(__file__).parent / "data" / FILE


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A copy of the schema 1 file (opening it upgrades it in place)."""
    path = tmp_path / FILE
    shutil.copyfile(OLD, path)
    return path


def schema(path: Path) -> tuple[str, int, list[str]]:
    db = sqlite3.connect(path)
    try:
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
        columns = [r[1] for r in db.execute("PRAGMA table_info(snapshots)")]
    finally:
        db.close()
    return value, version, columns


def test_the_file_is_schema_1() -> None:
    value, version, columns = schema(OLD)
    assert (value, version) == ("1", 1) and "race_test" not in columns


def test_an_old_store_is_upgraded_and_reads_as_written(old_store: Path) -> None:
    recorded = [s for _, snapshots in night() for s in snapshots]
    with HistoryStore.open(old_store) as store:
        assert store.integrity_check() == "ok"
        entries = store.timeline()
        assert [e.id for e in entries] == [1, 2, 3, 4]
        assert not any(e.race_test for e in entries)
        for entry, original in zip(entries, recorded, strict=True):
            back = store.snapshot(entry.id)
            assert back.parties["called"].isna().all()
            assert_same(back, original)
        assert store.races("nec") == [("s", "Senate"), ("", None)]
        assert len(store.changes("nec", "s")) == 4  # A 10→12 in t, B —→7 in k, C in t and k
    value, version, columns = schema(old_store)
    assert (value, version) == (str(SCHEMA), SCHEMA) and "race_test" in columns
    with HistoryStore.open(old_store) as store:  # and again: nothing more to do
        assert len(store.timeline()) == 4


def test_an_old_store_takes_calls_and_test_races(old_store: Path) -> None:
    latest = night()[-1][1][0]
    same = Snapshot.build(
        source="nec",
        votes=latest.votes,
        units=latest.units,
        parties=latest.parties,
        fetched_at=T0 + timedelta(minutes=5),
        race=SENATE,
    )
    called = Snapshot.build(
        source="nec",
        votes=latest.votes,
        units=latest.units,
        parties=latest.parties.assign(called=pd.array([None, "winner", None], dtype="string")),
        fetched_at=T0 + timedelta(minutes=6),
        race=SENATE,
    )
    rehearsal = Snapshot.build(
        source="nec",
        votes=latest.votes.iloc[:, :1],
        fetched_at=T0 + timedelta(minutes=7),
        race=Race("h", "House", test=True),
    )
    with HistoryStore.open(old_store) as store:
        # The same counts with no calls: nothing new (an old snapshot has no calls either).
        assert store.record(evidence(b"same", same.fetched_at), [same]) == []  # type: ignore[arg-type]
        assert store.record(evidence(b"call", called.fetched_at), [called]) == [5]  # type: ignore[arg-type]
        assert store.record(evidence(b"test", rehearsal.fetched_at), [rehearsal]) == [6]  # type: ignore[arg-type]
        assert store.entry(5).cells_changed == 0 and store.entry(6).race_test
    with HistoryStore.open(old_store) as store:
        assert_same(store.snapshot(5), called)
        assert_same(store.snapshot(6), rehearsal)
        assert_same(store.snapshot(4), latest)
        assert store.races("nec")[-1] == ("h", "House")
