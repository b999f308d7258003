"""The history store: distinct snapshots only, exact rebuilds, evidence byte for byte,
storage that grows with changes, and clear one-line errors for files it cannot use."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

from nightdesk import cells
from nightdesk.errors import NightdeskError, StoreError
from nightdesk.model import PARTY_COLUMNS, Race, Snapshot
from nightdesk.store import SCHEMA, Evidence, HistoryStore, NoSnapshot, display_url
from tests.engine.test_cells import SETTINGS, T0, assert_same, nights

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def evidence(body: bytes = b"unit,party,votes\n", at: datetime = T0, **kw: object) -> Evidence:
    fields: dict = {
        "source": "nec",
        "url": "https://results.example/nec.csv",
        "fetched_at": at,
        "status": 200,
        "etag": '"v1"',
        "last_modified": "Sun, 28 Jul 2013 10:00:00 GMT",
        "date": "Sun, 28 Jul 2013 10:00:05 GMT",
        "body": body,
    }
    fields.update(kw)
    return Evidence(**fields)


def snap(
    votes: dict[str, list[object]],
    ids: list[str],
    at: datetime = T0,
    race: Race | None = None,
    **kw: object,
) -> Snapshot:
    frame = pd.DataFrame(votes, index=ids, dtype="Int64")
    return Snapshot.build(
        source="nec",
        votes=frame,
        fetched_at=at,
        race=race,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "night" / "store.sqlite"


# ----------------------------------------------------------------------------- opening


def test_a_new_store_is_made_with_its_folders_and_settings(path: Path) -> None:
    with HistoryStore.open(path) as store:
        assert path.exists()
        assert store.integrity_check() == "ok"
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA),)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    with HistoryStore.open(path) as store:  # and opens again
        assert store.timeline() == []


def test_pragmas_favour_durability(path: Path) -> None:
    with HistoryStore.open(path) as store:
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("election night notes\n" * 100)
    with pytest.raises(StoreError, match="is not a nightdesk store") as info:
        HistoryStore.open(text)
    assert "\n" not in str(info.value) and str(text) in str(info.value)
    assert text.read_text().startswith("election night notes")  # untouched

    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE things (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="is not a nightdesk store"):
        HistoryStore.open(other)
    with pytest.raises(StoreError, match="folder"):
        HistoryStore.open(tmp_path)


def test_a_newer_schema_is_refused(path: Path) -> None:
    HistoryStore.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA + 1),))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=rf"newer nightdesk \(schema {SCHEMA + 1} > {SCHEMA}\)"):
        HistoryStore.open(path)


@pytest.mark.parametrize("damage", ["header", "truncated"])
def test_a_damaged_file_is_a_one_line_store_error(path: Path, damage: str) -> None:
    with HistoryStore.open(path) as store:
        store.record(evidence(), [snap({"A": [1]}, ["u"])])
    data = bytearray(path.read_bytes())
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if damage == "header":
        data[16:100] = b"\xff" * 84  # page size, versions, counters: garbage
    else:
        data = data[: len(data) // 3 + 7]
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        store = HistoryStore.open(path)
        store.timeline()
        store.snapshot(1)
        store.close()
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert isinstance(info.value, NightdeskError)


def test_default_path_is_one_store_per_config_in_the_data_folder(tmp_path: Path) -> None:
    config = tmp_path / "Cambodia 2013.toml"
    p = HistoryStore.default_path(config)
    digest = hashlib.sha1(str(config.resolve()).encode()).hexdigest()[:10]
    assert p.name == f"cambodia-2013-{digest}.sqlite"
    assert p.parent.name == "stores" and p.parent.parent.name == "nightdesk"
    assert HistoryStore.default_path(tmp_path / "other" / "Cambodia 2013.toml") != p


# ----------------------------------------------------------------------------- recording


def test_only_distinct_snapshots_are_kept_and_storage_grows_with_changes(path: Path) -> None:
    rng = np.random.default_rng(7)
    ids = [f"U{i:03d}" for i in range(200)]
    grid = rng.integers(0, 10_000, size=(200, 8))
    parties = [f"P{j}" for j in range(8)]
    stored: list[int] = []
    changed = 0
    with HistoryStore.open(path) as store:
        for poll in range(100):
            if poll % 10 == 0 and poll:
                for _ in range(3):  # three cells change every tenth poll
                    grid[rng.integers(200), rng.integers(8)] += 1
                changed += 3
            at = T0 + timedelta(seconds=30 * poll)
            s = snap({p: grid[:, j].copy() for j, p in enumerate(parties)}, ids, at=at)
            stored += store.record(evidence(grid.tobytes(), at=at), [s])
        stats = store.stats()
        assert len(stored) == 10 and stats["snapshots"] == 10
        # votes, figures, name/parent; party labels and calls
        initial = 200 * (8 + 7 + 2) + 8 * len(PARTY_COLUMNS)
        assert initial <= stats["cells"] <= initial + changed
        assert stats["bodies"] == 10
        timeline = store.timeline()
        assert [e.seq for e in timeline] == list(range(1, 11))
        assert timeline[0].cells_changed == 0 and 1 <= timeline[1].cells_changed <= 3
        assert all(e.corrections == 0 for e in timeline)


def test_repeats_are_skipped_across_restarts_and_writers(path: Path) -> None:
    a = snap({"A": [1, 2]}, ["u", "v"])
    b = snap({"A": [1, 3]}, ["u", "v"], at=T0 + timedelta(minutes=1))
    later = snap({"A": [1, 3]}, ["u", "v"], at=T0 + timedelta(minutes=5))
    with HistoryStore.open(path) as store:
        assert store.record(evidence(b"a"), [a]) == [1]
        assert store.record(evidence(b"a"), [a]) == []
    with HistoryStore.open(path) as one, HistoryStore.open(path) as two:
        assert one.record(evidence(b"b"), [b]) == [2]
        assert two.record(evidence(b"b2"), [later]) == []  # only the time differs
        assert one.record(evidence(b"a"), [a]) == [3]  # back to the first counts: new
        assert two.record(evidence(b"a"), [a]) == []
        assert_same(two.snapshot(3), a)
        assert [e.seq for e in two.timeline()] == [1, 2, 3]


def test_two_writers_racing_never_duplicate(path: Path) -> None:
    HistoryStore.open(path).close()
    versions = [snap({"A": [k // 2]}, ["u"], at=T0 + timedelta(seconds=k)) for k in range(40)]
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            with HistoryStore.open(path) as store:
                for s in versions[offset::2] if offset < 2 else versions:
                    store.record(evidence(str(s.votes.iat[0, 0]).encode()), [s])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with HistoryStore.open(path) as store:
        keys = [store.snapshot(e.id).content_key() for e in store.timeline()]
        assert all(x != y for x, y in itertools.pairwise(keys))
        assert [e.seq for e in store.timeline()] == list(range(1, len(keys) + 1))
        assert store.integrity_check() == "ok"


@SETTINGS
@given(night=nights(max_steps=5))
def test_every_stored_snapshot_rebuilds_exactly(
    tmp_path_factory: pytest.TempPathFactory, night: list[Snapshot]
) -> None:
    path = tmp_path_factory.mktemp("night") / "store.sqlite"
    recorded: dict[int, Snapshot] = {}
    with HistoryStore.open(path) as store:
        for k, s in enumerate(night):
            for sid in store.record(evidence(f"body {k}".encode(), at=s.fetched_at), [s]):
                recorded[sid] = s
        for sid, s in recorded.items():
            assert_same(store.snapshot(sid), s)
    with HistoryStore.open(path) as store:  # nothing in memory: from the cells alone
        for sid, s in recorded.items():
            assert_same(store.snapshot(sid), s)
        race = night[0].race.id if night[0].race else ""
        assert store.latest_id("nec", race) == max(recorded)
        entries = store.timeline("nec", race)
        assert [e.id for e in entries] == sorted(recorded)
        assert [e.race_test for e in entries] == [
            bool(recorded[e.id].race and recorded[e.id].race.test) for e in entries
        ]
        for e in entries[1:]:
            assert store.previous_id(e.id) is not None


def test_several_races_in_one_fetch_share_the_body(path: Path) -> None:
    senate, house = Race("s", "Senate"), Race("h", "House")
    body = b"two races" * 1000
    with HistoryStore.open(path) as store:
        ids = store.record(
            evidence(body),
            [snap({"A": [1]}, ["u"], race=senate), snap({"B": [2]}, ["u"], race=house)],
        )
        assert ids == [1, 2]
        assert store.races("nec") == [("s", "Senate"), ("h", "House")]
        assert store.stats()["bodies"] == 1
        assert store.evidence(1).body == store.evidence(2).body == body
        assert store.snapshot(2).race == house
        assert store.latest_id("nec", "h") == 2 and store.latest_id("nec") is None


def test_race_calls_and_test_races_round_trip(path: Path) -> None:
    rehearsal = Race("s", "Senate", test=True)
    live = Race("s", "Senate")
    calls = pd.DataFrame({"called": [None, "winner"]}, index=["A", "B"])
    night = [
        snap({"A": [1], "B": [2]}, ["u"], race=rehearsal),
        snap({"A": [1], "B": [2]}, ["u"], at=T0 + timedelta(minutes=1), race=live),
        snap({"A": [1], "B": [2]}, ["u"], at=T0 + timedelta(minutes=2), race=live, parties=calls),
        snap({"A": [1], "B": [2]}, ["u"], at=T0 + timedelta(minutes=3), race=live, parties=calls),
    ]
    with HistoryStore.open(path) as store:
        ids = [i for k, s in enumerate(night) for i in store.record(evidence(b"%d" % k), [s])]
        # Test data then live data is a new snapshot; so is a new call; a repeat is not.
        assert ids == [1, 2, 3]
        assert [e.race_test for e in store.timeline()] == [True, False, False]
        assert store.entry(3).cells_changed == 0  # a call is not a vote change
    with HistoryStore.open(path) as store:
        first, second, third = (store.snapshot(i) for i in ids)
        assert first.race == rehearsal and first.race is not None and first.race.test
        assert second.race == live and second.parties["called"].isna().all()
        assert third.parties["called"].tolist() == [pd.NA, "winner"]
        for sid, original in zip(ids, night, strict=False):
            assert_same(store.snapshot(sid), original)
        assert store.races("nec") == [("s", "Senate")]
        assert store.record(evidence(b"again"), [night[3]]) == []  # after a restart too


def test_a_record_is_one_transaction(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    senate, house = Race("s", "Senate"), Race("h", "House")
    first = [snap({"A": [1]}, ["u"], race=senate), snap({"B": [2]}, ["u"], race=house)]
    second = [snap({"A": [3]}, ["u"], race=senate), snap({"B": [4]}, ["u"], race=house)]
    with HistoryStore.open(path) as store:
        store.record(evidence(b"first"), first)
        real = cells.diff
        calls = {"n": 0}

        def fail_on_the_second_race(*args: object) -> cells.Diff:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("power cut")
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(cells, "diff", fail_on_the_second_race)
        with pytest.raises(RuntimeError, match="power cut"):
            store.record(evidence(b"second"), second)
        monkeypatch.setattr(cells, "diff", real)
        # Neither race, nor the body, of the failed record was kept; the next one works.
        assert [e.id for e in store.timeline()] == [1, 2]
        assert store.stats()["bodies"] == 1
        assert store.record(evidence(b"second"), second) == [3, 4]
        assert_same(store.snapshot(3), second[0])
    with HistoryStore.open(path) as store:
        assert_same(store.snapshot(4), second[1])
        assert store.integrity_check() == "ok"


def test_a_snapshot_must_belong_to_the_evidence_source(path: Path) -> None:
    other = Snapshot.build(source="ap", votes=pd.DataFrame({"A": [1]}, index=["u"]))
    with HistoryStore.open(path) as store, pytest.raises(ValueError, match="ap"):
        store.record(evidence(), [other])


# ----------------------------------------------------------------------------- evidence


def test_evidence_is_byte_identical_and_bodies_share_chunks(path: Path) -> None:
    rng = np.random.default_rng(3)
    lines = [f"U{u:05d},P{p},{rng.integers(0, 99_999)}\n" for u in range(6_000) for p in range(4)]
    first = ("unit,party,votes\n" + "".join(lines)).encode()
    lines[100] = "U00025,P0,1\n"
    lines[20_000] = "U05000,P0,123456789\n"
    second = ("unit,party,votes\n" + "".join(lines)).encode()
    with HistoryStore.open(path) as store:
        store.record(evidence(first, etag='"a"'), [snap({"A": [1]}, ["u"])])
        one = store.stats()
        store.record(evidence(second, etag='"b"'), [snap({"A": [2]}, ["u"])])
        two = store.stats()
        assert store.evidence(1).body == first and store.evidence(2).body == second
        # The second body stored only the chunks around its two edits.
        assert one["chunks"] >= 8 and two["chunks"] - one["chunks"] <= 4
        assert two["body_bytes_stored"] - one["body_bytes_stored"] < one["body_bytes_stored"] / 3
        e = store.evidence(2)
        assert (e.status, e.etag, e.date) == (200, '"b"', "Sun, 28 Jul 2013 10:00:05 GMT")
        assert e.fetched_at == T0
        assert store.entry(2).body_sha256 == hashlib.sha256(second).hexdigest()
        assert store.entry(2).body_size == len(second)


def test_a_damaged_body_is_reported_not_returned(path: Path) -> None:
    with HistoryStore.open(path) as store:
        store.record(evidence(b"the feed said this"), [snap({"A": [1]}, ["u"])])
        conn = store._conn
        assert conn is not None
        import zlib

        conn.execute("UPDATE chunks SET data = ?", (zlib.compress(b"the feed said THAT"),))
        with pytest.raises(StoreError, match="does not match its SHA-256"):
            store.evidence(1)


def test_credentials_and_query_never_reach_the_file(path: Path) -> None:
    url = "https://user:s3cret@results.example:8443/nec.csv?api_key=TOPSECRET#x"
    assert display_url(url) == "https://results.example:8443/nec.csv"
    assert display_url("feeds/nec.csv") == "feeds/nec.csv"
    with HistoryStore.open(path) as store:
        store.record(evidence(url=url), [snap({"A": [1]}, ["u"])])
        assert store.entry(1).url == "https://results.example:8443/nec.csv"
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert b"s3cret" not in raw and b"TOPSECRET" not in raw


def test_unknown_ids_are_lookup_errors(path: Path) -> None:
    with HistoryStore.open(path) as store:
        for call in (store.snapshot, store.entry, store.evidence, store.previous_id):
            with pytest.raises(NoSnapshot):
                call(42)
        with pytest.raises(LookupError):
            store.evidence(42)


# ----------------------------------------------------------------------------- history


def night_of_corrections(store: HistoryStore) -> None:
    units = pd.DataFrame({"seats": [3, 5], "reporting": [0.5, 0.25]}, index=["t", "k"])
    fewer = pd.DataFrame({"seats": [3], "reporting": [0.25]}, index=["t"])
    steps = [
        snap({"A": [10, 20], "B": [5, 5]}, ["t", "k"], units=units),
        snap({"A": [12, 20], "B": [5, 5]}, ["t", "k"], units=units),
        snap({"A": [11], "B": [5]}, ["t"], units=fewer),  # A went down; k withdrawn
        snap({"A": [11, 21], "B": [5, None]}, ["t", "k"]),
    ]
    for k, s in enumerate(steps):
        at = T0 + timedelta(minutes=k)
        store.record(evidence(f"{k}".encode(), at=at), [snap_at(s, at)])


def snap_at(s: Snapshot, at: datetime) -> Snapshot:
    return Snapshot.build(source=s.source, votes=s.votes, units=s.units, fetched_at=at)


def test_changes_list_what_compare_would_with_times(path: Path) -> None:
    with HistoryStore.open(path) as store:
        night_of_corrections(store)
        frame = store.changes("nec")
        assert list(frame.columns) == [
            "snapshot_id",
            "fetched_at",
            "published_at",
            "unit",
            "kind",
            "item",
            "before",
            "after",
            "change",
            "correction",
        ]
        rows = [
            (r.snapshot_id, r.unit, r.kind, r.item, r.before, r.after, r.change, r.correction)
            for r in frame.itertuples()
        ]
        assert (2, "t", "vote", "A", 10, 12, 2, False) in rows
        assert (3, "t", "vote", "A", 12, 11, -1, True) in rows
        assert (3, "t", "figure", "reporting", 0.5, 0.25, -0.25, True) in rows
        assert (3, "k", "withdrawn", "", None, None, 0, True) in rows
        assert (4, "k", "vote", "A", None, 21, 21, False) in rows  # back: before unknown
        assert (4, "t", "figure", "reporting", 0.25, None, -0.25, True) in rows
        assert not any(r[0] == 1 for r in rows)  # the first snapshot is not a change
        assert frame["fetched_at"].iloc[0] == pd.Timestamp(T0 + timedelta(minutes=1))
        assert store.entry(3).corrections == 3  # A down, reporting down, k withdrawn
        only_k = store.changes("nec", unit="k")
        assert set(only_k["unit"]) == {"k"}
        since = store.changes("nec", since_id=3)
        assert set(since["snapshot_id"]) == {4}
        assert store.changes("nec", unit="nowhere").empty
        assert store.changes("nobody").empty


def test_unit_series_follows_one_unit_through_the_night(path: Path) -> None:
    with HistoryStore.open(path) as store:
        night_of_corrections(store)
        t = store.unit_series("nec", "", "t")
        assert list(t.index) == [1, 2, 3]
        assert t.index.name == "snapshot_id"
        assert t["A"].tolist() == [10, 12, 11] and str(t["A"].dtype) == "Int64"
        assert t["fetched_at"].iloc[0] == pd.Timestamp(T0)
        k = store.unit_series("nec", "", "k")
        assert list(k.index) == [1, 4]  # appears, vanishes, returns
        assert k["B"].isna().tolist() == [False, True]
        assert store.unit_series("nec", "", "nowhere").empty


# ----------------------------------------------------------------------------- remembered


def test_settings_baselines_and_views_survive_a_restart(path: Path) -> None:
    with HistoryStore.open(path) as store:
        assert store.settings() is None
        store.remember_settings('[election]\nname = "ក"\n', "/tmp/c.toml")
        store.record(evidence(), [snap({"A": [1]}, ["u"])])
        store.set_baseline("nec", "", 1)
        store.set_view("since", "baseline")
    with HistoryStore.open(path) as store:
        assert store.settings() == ('[election]\nname = "ក"\n', "/tmp/c.toml")
        assert store.baseline("nec") == 1 and store.baseline("nec", "x") is None
        assert store.view("since") == "baseline" and store.view("nothing") is None
        store.set_baseline("nec", "", None)
        assert store.baseline("nec") is None
        with pytest.raises(StoreError):
            store.set_baseline("ap", "", 1)  # snapshot 1 is not of that source


def test_a_closed_store_says_so(path: Path) -> None:
    store = HistoryStore.open(path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.timeline()


# ----------------------------------------------------------------------------- following


def test_a_reader_following_the_night_reads_only_the_new_batches(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A viewer (another connection) loads each new snapshot from its fold of the stream and
    the batches since: one batch decoded per commit, however long the night, same result."""
    decoded = 0
    decode = cells.Batch.decode

    def counting(data: bytes) -> cells.Batch:
        nonlocal decoded
        decoded += 1
        return decode(data)

    monkeypatch.setattr(cells.Batch, "decode", staticmethod(counting))
    night = [
        snap({"A": [10 + i, 20], "B": [5, i]}, ["u", "v"], at=T0 + timedelta(minutes=i))
        for i in range(30)
    ]
    with HistoryStore.open(path) as writer, HistoryStore.open(path) as reader:
        ids = []
        for i, s in enumerate(night):
            (sid,) = writer.record(evidence(f"b{i}".encode(), at=s.fetched_at), [s])
            ids.append(sid)
            decoded = 0
            assert_same(reader.snapshot(sid), s)
            assert decoded == 1, f"snapshot {i} decoded {decoded} batches"
        assert [e.id for e in reader.timeline("nec", after=ids[26])] == ids[27:]
        assert reader.timeline("nec", after=ids[-1]) == []
        # An older snapshot (the timeline screen) is rebuilt from the start, and exactly.
        decoded = 0
        assert_same(reader.snapshot(ids[3]), night[3])
        assert decoded == 4
        # Two commits at once: both new batches, and only they.
        for i in (30, 31):
            s = snap({"A": [99, i], "B": [1, 2]}, ["u", "v"], at=T0 + timedelta(minutes=i))
            ids.append(writer.record(evidence(f"b{i}".encode(), at=s.fetched_at), [s])[0])
        decoded = 0
        assert reader.snapshot(ids[-1]).votes.loc["v", "A"] == 31
        assert decoded == 2


def test_a_fold_that_no_longer_matches_the_store_is_dropped(path: Path) -> None:
    """A store replaced under a reader (another database at the same URL): the fold names a
    snapshot the stream no longer has, so the reader rebuilds from the first batch."""
    from dataclasses import replace

    night = [snap({"A": [i, 1]}, ["u", "v"], at=T0 + timedelta(minutes=i)) for i in range(4)]
    with HistoryStore.open(path) as writer, HistoryStore.open(path) as reader:
        ids = [
            writer.record(evidence(f"b{i}".encode(), at=s.fetched_at), [s])[0]
            for i, s in enumerate(night[:3])
        ]
        reader.snapshot(ids[-1])
        (stream,) = reader._chains
        reader._chains[stream] = replace(reader._chains[stream], id=ids[-1] + 1000)
        (last,) = writer.record(evidence(b"b3", at=night[3].fetched_at), [night[3]])
        assert_same(reader.snapshot(last), night[3])
        assert reader._chains[stream].id == last
